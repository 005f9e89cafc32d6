"""CSV: one row per finding and endpoint, for spreadsheets. Described in docs/formats.md.

RFC 4180: a header row, comma-separated fields, CRLF line ends, fields quoted when they hold
a comma, a quote or a line break (quotes doubled). Cells are plain text.

Every cell is untrusted (host names, titles and banners come from the scanned hosts), and a
spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (OWASP,
"CSV Injection"): such a cell, and one starting with a tab or a carriage return, gets a
leading apostrophe, which spreadsheets show as text. Control characters are shown as
``\\xNN``.
"""

from __future__ import annotations

import csv
from typing import TextIO

from advisor.advise.report import Report
from advisor.kb import KnowledgeBase
from advisor.render.escape import neutralise
from advisor.render.json import FindingSpool
from advisor.render.plain import plain_line
from advisor.render.records import EndpointFinding, endpoint_findings

#: The columns, in order (the header row).
COLUMNS = (
    "host",
    "port",
    "protocol",
    "service",
    "entry",
    "title",
    "severity",
    "false_positive",
    "first_fix",
    "verify",
    "hostname",
    "script",
    "state",
    "nmap_title",
    "software",
    "version",
    "fingerprint",
)

#: First characters a spreadsheet reads as the start of a formula (or that hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell that no spreadsheet evaluates."""
    text = "" if value is None else str(value)
    text = neutralise(text)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def csv_row(f: EndpointFinding) -> list[str]:
    """The cells of one finding (see :data:`COLUMNS`), not yet neutralised."""
    return [
        f.host,
        "" if f.port is None else str(f.port),
        f.protocol or "",
        f.service or "",
        f.rule_id,
        " ".join(f.display_title.split()),
        f.severity,
        f.false_positive or "",
        plain_line(f.fixes[0].title) if f.fixes else "",
        f.verify[0][0] if f.verify else "",
        f.hostname or "",
        f.script,
        f.state,
        " ".join(f.title.split()),
        f.software or "",
        f.version or "",
        f.fingerprint,
    ]


def render_csv(
    report: Report, out: TextIO, kb: KnowledgeBase, findings: FindingSpool | None = None
) -> None:
    """Write the header row and one row per finding and endpoint."""
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for finding in endpoint_findings(report, kb, findings):
        writer.writerow([safe_cell(cell) for cell in csv_row(finding)])
