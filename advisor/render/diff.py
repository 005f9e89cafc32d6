"""``advisor diff`` output in Markdown, HTML or JSON (schema ``advisor-diff/2``, docs/diff.md)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from advisor.advise.accept import Acceptance
from advisor.diff import Diff, Item, Side, grouped
from advisor.render import Format
from advisor.render.escape import code, md_text, neutralise
from advisor.render.plain import plain

SCHEMA = "advisor-diff/2"
SECTIONS = ("new", "still_open", "fixed", "not_rechecked", "accepted")
"""The lists of a diff, in the order the reports show them."""

#: The formats ``advisor diff`` renders (the CLI offers exactly these).
DIFF_FORMATS = (Format.MARKDOWN, Format.HTML, Format.JSON)


def _acceptance(rule: Acceptance | None, expired: bool) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "reason": rule.reason,
        "accepted_by": rule.accepted_by,
        "expires": rule.expires.isoformat() if rule.expires else None,
        "expired": expired,
    }


def _record(item: Item, section: str) -> dict[str, Any]:
    return {
        "host": item.host,
        "port": item.port,
        "protocol": item.protocol,
        "kb_id": item.kb_id,
        "title": item.title,
        "script": item.script,
        "severity": item.severity,
        "severity_reason": plain(item.severity_reason) if item.severity_reason else None,
        "severity_reason_md": item.severity_reason or None,
        "severity_contextual": item.contextual,
        "software": {
            "name": item.software,
            "version": item.version,
            "confidence": item.confidence,
            "identified_by": item.identified_by,
        },
        "acceptance": _acceptance(item.acceptance, expired=section != "accepted"),
    }


def _side(side: Side, source: str) -> dict[str, Any]:
    return {
        "source": source,
        "version": side.info.version,
        "start": side.info.start,
        "complete": side.info.complete,
        "evidence": [plain(line) for line in side.evidence],
        "evidence_md": side.evidence,
    }


def render_diff(diff: Diff, fmt: Format, out: TextIO, before: str, after: str) -> None:
    """Write ``diff`` to ``out``; ``before`` and ``after`` name the two scans."""
    if fmt not in DIFF_FORMATS:
        raise ValueError(f"advisor diff does not render {fmt}")
    counts: dict[str, int] = {name: len(getattr(diff, name)) for name in SECTIONS}
    if fmt is Format.JSON:
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "before": _side(diff.before, before),
            "after": _side(diff.after, after),
            "ignored": sorted(diff.ignored),
            "counts": {**counts, "expired_acceptances": len(diff.expired)},
            **{name: [_record(i, name) for i in getattr(diff, name)] for name in SECTIONS},
        }
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    from advisor.render.env import environment  # Jinja2 only when a template is rendered

    sections = {name: list(grouped(getattr(diff, name))) for name in SECTIONS}
    env = environment(autoescape=fmt is Format.HTML)
    env.filters.update(code=code, md=md_text, clean=neutralise)
    template = env.get_template("diff.html.j2" if fmt is Format.HTML else "diff.md.j2")
    out.write(
        template.render(
            diff=diff,
            sections=sections,
            counts=counts,
            expired=len(diff.expired),
            ignored=sorted(diff.ignored),
            before=before,
            after=after,
            code=code,
        )
    )
