"""Findings from ``vulns`` library tables (nselib/vulns.lua ``format_vuln_base``).

A table is a vulns entry when it has ``title`` and ``state`` elems. They usually sit at the top
of the script output, keyed ``CVE-...`` or ``NMAP-n``; ``sslv2-drown`` nests them one level
deeper under ``vulns``. The table key is kept for display only: it is not stable.
"""

from __future__ import annotations

from collections.abc import Iterator

from advisor.findings.model import Finding, Kind, Location
from advisor.model import NseElem, NseTable, ScriptResult


def _date(table: NseTable) -> str | None:
    text = table.text("disclosure")
    if text:
        return text
    dates = table.table("dates")
    disclosure = dates.table("disclosure") if dates else None
    if disclosure is None:
        return None
    parts = [disclosure.text(k) for k in ("year", "month", "day")]
    return "-".join(p for p in parts if p) or None


def _lines(table: NseTable | None) -> tuple[str, ...]:
    if table is None:
        return ()
    out: list[str] = []
    for child in table.children:
        if isinstance(child, NseElem):
            out.append(child.value)
        else:  # nested tables in check results: flatten their values
            out.extend(_lines(child))
    return tuple(out)


def vulns_tables(children: tuple[NseElem | NseTable, ...], depth: int = 0) -> Iterator[NseTable]:
    """Every vulns entry table in a script's structured output, in document order."""
    for child in children:
        if not isinstance(child, NseTable):
            continue
        if child.text("title") is not None and child.text("state") is not None:
            yield child
        elif depth < 3:
            yield from vulns_tables(child.children, depth + 1)


def finding_from_table(script: ScriptResult, table: NseTable, where: Location) -> Finding:
    scores = table.table("scores")
    ids = table.table("ids")
    return Finding(
        location=where,
        script=script.id,
        kind=Kind.VULNS,
        title=" ".join((table.text("title") or "").split()),
        state=(table.text("state") or "").strip(),
        ids=tuple(ids.values()) if ids else (),
        description="\n".join(_lines(table.table("description"))).strip(),
        check_results=_lines(table.table("check_results")),
        exploit_results=_lines(table.table("exploit_results")),
        extra_info=_lines(table.table("extra_info")),
        references=_lines(table.table("refs")),
        disclosure=_date(table),
        scores=tuple((c.key or "", c.value) for c in scores.children if isinstance(c, NseElem))
        if scores
        else (),
        table_key=table.key,
        output=script.output,
    )


def extract(script: ScriptResult, where: Location) -> list[Finding]:
    return [finding_from_table(script, t, where) for t in vulns_tables(script.children)]
