"""``advisor diff`` output in Markdown, HTML or JSON (schema ``advisor-diff/1``)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from advisor.diff import Diff, Item, grouped
from advisor.render import Format
from advisor.render.env import environment
from advisor.render.escape import code, md_text, neutralise

SCHEMA = "advisor-diff/1"
SECTIONS = ("new", "still_open", "fixed", "not_rechecked")


def _record(item: Item) -> dict[str, Any]:
    return {
        "host": item.host,
        "port": item.port,
        "protocol": item.protocol,
        "kb_id": item.kb_id,
        "title": item.title,
        "script": item.script,
        "severity": item.severity,
    }


def render_diff(diff: Diff, fmt: Format, out: TextIO, before: str, after: str) -> None:
    sections = {name: list(grouped(getattr(diff, name))) for name in SECTIONS}
    if fmt is Format.JSON:
        doc = {
            "schema": SCHEMA,
            "before": {
                "source": before,
                "version": diff.before.info.version,
                "start": diff.before.info.start,
                "complete": diff.before.info.complete,
            },
            "after": {
                "source": after,
                "version": diff.after.info.version,
                "start": diff.after.info.start,
                "complete": diff.after.info.complete,
            },
            "counts": {name: len(getattr(diff, name)) for name in SECTIONS},
            **{name: [_record(i) for i in getattr(diff, name)] for name in SECTIONS},
        }
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    env = environment(autoescape=fmt is Format.HTML)
    env.filters.update(code=code, md=md_text, clean=neutralise)
    template = env.get_template("diff.html.j2" if fmt is Format.HTML else "diff.md.j2")
    counts = {name: len(getattr(diff, name)) for name in SECTIONS}
    out.write(
        template.render(
            diff=diff, sections=sections, counts=counts, before=before, after=after, code=code
        )
    )
