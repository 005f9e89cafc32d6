"""Findings from ``vulners``: one finding per CPE (or product) with its CVE/exploit rows.

Structured since Nmap 7.80: a table per CPE holding unkeyed row tables with ``id``, ``cvss``,
``type``, ``is_exploit`` in any order. Older and third-party copies print only text rows
separated by tabs (``CVE-2012-1667<TAB>8.5<TAB>https://vulners.com/cve/CVE-2012-1667``).
"""

from __future__ import annotations

import re

from advisor.findings.model import REPORTED, Finding, Kind, Location
from advisor.model import ScriptResult

_TEXT_CPE = re.compile(r"^\s*(cpe:/\S+?):?\s*$")
_TEXT_ROW = re.compile(r"^\s*(\S+)\t+([0-9.]+)?\t*(\S+)?(\t+\*EXPLOIT\*)?")


def _score(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return -1.0


def _finding(
    where: Location, script: ScriptResult, product: str, rows: list[tuple[str, str, str, bool]]
) -> Finding:
    rows.sort(key=lambda r: (-_score(r[1]), r[0]))
    top = max((_score(r[1]) for r in rows), default=-1.0)
    exploits = sum(1 for r in rows if r[3])
    cves = tuple(r[0] for r in rows if r[0].upper().startswith("CVE-"))
    return Finding(
        location=where,
        script=script.id,
        kind=Kind.VULNERS,
        title=product,
        state=REPORTED,
        ids=cves,
        check_results=tuple(
            f"{r[0]}\tCVSS {r[1] or '-'}\t{r[2]}{' (exploit)' if r[3] else ''}" for r in rows
        ),
        details=(
            ("cpe", product),
            ("max_cvss", f"{top:.1f}" if top >= 0 else ""),
            ("rows", str(len(rows))),
            ("exploits", str(exploits)),
        ),
    )


def extract(script: ScriptResult, where: Location) -> list[Finding]:
    out: list[Finding] = []
    for table in script.as_table().tables():
        rows: list[tuple[str, str, str, bool]] = []
        for row in table.tables():
            fields = row.fields()
            ident = fields.get("id")
            if not ident:
                continue
            rows.append(
                (
                    ident,
                    fields.get("cvss") or "",
                    fields.get("type") or "",
                    (fields.get("is_exploit") or "").lower() == "true",
                )
            )
        if rows:
            out.append(_finding(where, script, table.key or "(unknown product)", rows))
    if out:
        return out
    # Nmap 7.70-era copies keep the rows as text (in ``output``, and in one elem per CPE).
    product: str | None = None
    text_rows: list[tuple[str, str, str, bool]] = []
    for line in script.output.splitlines():
        m = _TEXT_CPE.match(line)
        if m:
            if product and text_rows:
                out.append(_finding(where, script, product, text_rows))
            product, text_rows = m.group(1), []
            continue
        r = _TEXT_ROW.match(line)
        if product and r and "\t" in line:
            url = r.group(3) or ""
            kind = (
                "cve"
                if r.group(1).upper().startswith("CVE-")
                else url.split("/")[-2:-1][0]
                if "/" in url
                else ""
            )
            text_rows.append((r.group(1), r.group(2) or "", kind, bool(r.group(4))))
    if product and text_rows:
        out.append(_finding(where, script, product, text_rows))
    return out
