"""Stage 5 of the pipeline: render a report as Markdown, HTML or JSON.

One module per format; :class:`Format` lists them and feeds the CLI's choices.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, TextIO, assert_never

if TYPE_CHECKING:
    from advisor.advise.report import Report
    from advisor.i18n import Catalog
    from advisor.kb import KnowledgeBase
    from advisor.render.json import FindingSpool


class Format(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"

    def __str__(self) -> str:
        return self.value


def render(
    fmt: Format,
    report: Report,
    out: TextIO,
    kb: KnowledgeBase,
    catalog: Catalog | None = None,
    findings: FindingSpool | None = None,
) -> None:
    """Write ``report`` to ``out`` in ``fmt``."""
    if fmt is Format.MARKDOWN:
        from advisor.render.markdown import render_markdown

        render_markdown(report, out, kb, catalog)
    elif fmt is Format.HTML:
        from advisor.render.html import render_html

        render_html(report, out, kb, catalog)
    elif fmt is Format.JSON:
        from advisor.render.json import render_json

        render_json(report, out, kb, findings)
    else:
        assert_never(fmt)
