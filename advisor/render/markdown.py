"""Markdown advisory: reads well in a terminal, a ticket and on GitHub."""

from __future__ import annotations

from typing import TextIO

from advisor.advise.report import Report
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.render import view
from advisor.render.env import environment
from advisor.render.escape import code, fence, md_text


def render_markdown(
    report: Report, out: TextIO, kb: KnowledgeBase, catalog: Catalog | None = None
) -> None:
    env = environment(autoescape=False)
    env.globals.update(code=code, fence=fence, md=md_text)
    env.filters.update(code=code, fence=fence, md=md_text)
    template = env.get_template("report.md.j2")
    context = view.build(report, kb, catalog or Catalog.load("en"))
    for chunk in template.generate(**context):
        out.write(chunk)
