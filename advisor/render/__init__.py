"""Stage 5 of the pipeline: render a report (Markdown, HTML, JSON, SARIF, CSV, DefectDojo).

One module per format; :class:`Format` lists them and feeds the CLI's choices. The formats are
described in docs/formats.md.
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
    SARIF = "sarif"
    """SARIF 2.1.0, for GitHub code scanning and other SARIF viewers."""
    CSV = "csv"
    """One row per finding and endpoint, for spreadsheets."""
    DEFECTDOJO = "defectdojo"
    """DefectDojo's Generic Findings Import (JSON)."""

    def __str__(self) -> str:
        return self.value

    @property
    def per_finding(self) -> bool:
        """Whether the format lists every finding at every endpoint: the CLI then collects
        each finding's record while the scan is read (a
        :class:`~advisor.render.json.FindingSpool`) and passes it to :func:`render`."""
        return self in (Format.JSON, Format.SARIF, Format.CSV, Format.DEFECTDOJO)


def render(
    fmt: Format,
    report: Report,
    out: TextIO,
    kb: KnowledgeBase,
    catalog: Catalog | None = None,
    findings: FindingSpool | None = None,
) -> None:
    """Write ``report`` to ``out`` in ``fmt``. ``findings``: the records collected while the
    scan was read (see :attr:`Format.per_finding`); without them, the formats that need them
    rebuild them from the report."""
    if fmt is Format.MARKDOWN:
        from advisor.render.markdown import render_markdown

        render_markdown(report, out, kb, catalog)
    elif fmt is Format.HTML:
        from advisor.render.html import render_html

        render_html(report, out, kb, catalog)
    elif fmt is Format.JSON:
        from advisor.render.json import render_json

        render_json(report, out, kb, findings)
    elif fmt is Format.SARIF:
        from advisor.render.sarif import render_sarif

        render_sarif(report, out, kb, findings)
    elif fmt is Format.CSV:
        from advisor.render.csv import render_csv

        render_csv(report, out, kb, findings)
    elif fmt is Format.DEFECTDOJO:
        from advisor.render.defectdojo import render_defectdojo

        render_defectdojo(report, out, kb, findings)
    else:
        assert_never(fmt)
