"""Findings from ``ssl-enum-ciphers``: protocols offered, warnings, and the overall grade.

Structured layout (nse-facts.md 1d): one table per protocol (``SSLv3`` ... ``TLSv1.3``) with
``ciphers``, ``compressors``, ``cipher preference`` and optional ``warnings``, then
``least strength``. Nmap 6.x wrote ``strong``/``weak`` strengths and no grades.
"""

from __future__ import annotations

import re

from advisor.findings.model import REPORTED, Finding, Kind, Location
from advisor.model import ScriptResult

PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_TEXT_PROTOCOL = re.compile(r"^\s*\|?\s*(SSLv2|SSLv3|TLSv1\.[0-3]):\s*$", re.M)
_TEXT_GRADE = re.compile(r"least strength[:=]\s*(\S+)", re.I)


def extract(script: ScriptResult, where: Location) -> list[Finding]:
    out: list[Finding] = []
    root = script.as_table()
    seen_protocols: list[str] = []
    warnings: dict[str, list[str]] = {}
    for table in root.tables():
        if table.key not in PROTOCOLS:
            continue
        seen_protocols.append(table.key)
        names = table.column("ciphers", "name")
        out.append(
            Finding(
                location=where,
                script=script.id,
                kind=Kind.PROTOCOL,
                title=table.key,
                state=REPORTED,
                check_results=tuple(names),
                details=(("protocol", table.key), ("ciphers", str(len(names)))),
            )
        )
        warn = table.table("warnings")
        for text in warn.values() if warn else []:
            warnings.setdefault(text, []).append(table.key)
    if not seen_protocols:  # text-only output (old nmap, or a reader without tables)
        for proto in _TEXT_PROTOCOL.findall(script.output):
            if proto not in seen_protocols:
                seen_protocols.append(proto)
                out.append(
                    Finding(
                        where,
                        script.id,
                        Kind.PROTOCOL,
                        proto,
                        REPORTED,
                        details=(("protocol", proto),),
                    )
                )
    for text, protocols in warnings.items():
        out.append(
            Finding(
                location=where,
                script=script.id,
                kind=Kind.WARNING,
                title=text,
                state=REPORTED,
                check_results=(text, *(f"seen under {p}" for p in protocols)),
                details=(("protocols", ", ".join(protocols)),),
            )
        )
    grade = root.text("least strength")
    if grade is None:
        m = _TEXT_GRADE.search(script.output)
        grade = m.group(1) if m else None
    if grade:
        out.append(
            Finding(
                location=where,
                script=script.id,
                kind=Kind.GRADE,
                title=grade,
                state=REPORTED,
                details=(("grade", grade), ("protocols", ", ".join(seen_protocols))),
            )
        )
    return out
