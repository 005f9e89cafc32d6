"""DefectDojo "Generic Findings Import" JSON: ``{"name": ..., "findings": [...]}``, one
finding per finding and endpoint. Described in docs/formats.md.

Field names and types follow DefectDojo's parser (``dojo/tools/generic/json_parser.py``:
``title``, ``severity`` and ``description`` required, any key outside its allowed list makes
it reject the file) and its documentation page "Generic Findings Import". Text fields are
Markdown (DefectDojo renders them): knowledge-entry text as written, every scan-derived value
through :mod:`advisor.render.escape` (code spans and fenced blocks).

``false_p`` is never set: advisor's false-positive notes say when a finding is *often* a false
positive and what to check, not that it is one; the note goes in the description. The
fingerprint (``unique_id_from_tool``) is the same one SARIF results carry.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, TextIO

from advisor import __version__
from advisor.advise.context import display_name
from advisor.advise.report import Report
from advisor.kb import KnowledgeBase
from advisor.render.escape import code, fence, md_text
from advisor.render.json import FindingSpool
from advisor.render.plain import plain_line
from advisor.render.records import EndpointFinding, endpoint_findings

#: advisor's severity -> DefectDojo's.
SEVERITIES = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "info": "Info",
}

#: What DefectDojo's Endpoint accepts as a protocol (a URL scheme).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9.+-]+$")
_RESULTS = "\x00findings\x00"


def render_defectdojo(
    report: Report, out: TextIO, kb: KnowledgeBase, findings: FindingSpool | None = None
) -> None:
    """Write the findings as one Generic Findings Import document."""
    date = _scan_date(report.scan.start)
    doc: dict[str, Any] = {
        "name": "advisor",
        "version": __version__,
        "description": _test_description(report),
        "findings": _RESULTS,
    }
    head, tail = json.dumps(doc, indent=2, ensure_ascii=False).split(json.dumps(_RESULTS))
    out.write(head + "[")
    first = True
    for finding in endpoint_findings(report, kb, findings):
        record = dojo_finding(finding, date)
        out.write(("\n" if first else ",\n") + "    " + json.dumps(record, ensure_ascii=False))
        first = False
    out.write(("\n  ]" if not first else "]") + tail + "\n")


def _scan_date(start: int | None) -> str | None:
    if not start:
        return None
    try:
        return datetime.fromtimestamp(start, tz=UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _test_description(report: Report) -> str:
    scan = report.scan
    lines = [f"advisor {__version__} explained {md_text(report.source)}"]
    if scan.version or scan.args:
        lines.append(f"nmap {code(scan.version)}: {code(scan.args)}")
    return "\n\n".join(lines)


def dojo_finding(f: EndpointFinding, date: str | None = None) -> dict[str, Any]:
    """One DefectDojo finding: a finding at one endpoint."""
    record: dict[str, Any] = {
        "title": _title(f),
        "severity": SEVERITIES[f.severity],
        "description": description(f),
        "mitigation": mitigation(f),
        "impact": impact(f),
        "steps_to_reproduce": steps(f),
        "severity_justification": f.severity_reason_md,
        "references": "\n".join(references(f)),
        "unique_id_from_tool": f.fingerprint,
        "vuln_id_from_tool": f.rule_id,
        "static_finding": False,
        "dynamic_finding": True,
    }
    if date:
        record["date"] = date
    cves = f.cves
    if cves:
        record["cve"] = cves[0]
    if f.software:
        record["component_name"] = f.software
        if f.version:
            record["component_version"] = f.version
    endpoint = dojo_endpoint(f)
    if endpoint is not None:
        record["endpoints"] = [endpoint]
    tags = ["advisor", f.entry.category if f.entry else "no-entry"]
    record["tags"] = list(dict.fromkeys(tags))
    return {k: v for k, v in record.items() if v not in ("", None)}


def _title(f: EndpointFinding) -> str:
    if f.entry is not None:
        return plain_line(f.entry.title)
    return " ".join(f.display_title.split())


def dojo_endpoint(f: EndpointFinding) -> dict[str, Any] | None:
    """``{"host", "port", "protocol"}`` as DefectDojo's Endpoint takes them: the protocol is
    a URL scheme, so nmap's service name (``smtp``, ``https``) when it is one, else the
    transport protocol; none for pre- and post-scan scripts (no host)."""
    if f.scope not in ("port", "host"):
        return None
    endpoint: dict[str, Any] = {"host": f.host}
    if f.port is not None:
        endpoint["port"] = f.port
    scheme = f.service if f.service and _SCHEME.match(f.service) else f.protocol
    if f.port is not None and scheme and _SCHEME.match(scheme):
        endpoint["protocol"] = scheme
    return endpoint


def description(f: EndpointFinding) -> str:
    """Markdown: what it means, what nmap said, who answers on the port, the note on false
    positives that applies here."""
    out: list[str] = []
    entry = f.entry
    if entry is not None:
        out += [entry.text.summary.strip(), entry.text.meaning.strip()]
    else:
        out.append(
            f"nmap's {code(f.script)} script reported this; advisor has no knowledge entry for "
            "it yet."
        )
    out.append("#### What nmap reported")
    facts = [
        f"- Endpoint: {code(f.endpoint)}" + (f" ({code(f.hostname)})" if f.hostname else ""),
        f"- Script: {code(f.script)}",
    ]
    if f.title:
        facts.append(f"- Finding: {code(f.title)}")
    if f.state:
        facts.append(f"- State: {code(f.state)}")
    if f.ids:
        facts.append("- IDs: " + ", ".join(code(i) for i in f.ids))
    if f.nmap_references:
        facts.append("- nmap's references: " + ", ".join(code(r) for r in f.nmap_references))
    out.append("\n".join(facts))
    if f.nmap_description.strip():
        out.append(fence(f.nmap_description))
    for result in f.check_results:
        out.append(fence(result))
    if f.output.strip():
        out.append(fence(f.output))
    out.append("#### Who answers on the port")
    who = []
    if f.software:
        version = f" {code(f.version)}" if f.version else " (version not known)"
        who.append(
            f"{md_text(display_name(f.software))}{version}, confidence {md_text(f.confidence)}."
        )
    elif f.candidates:
        names = ", ".join(md_text(display_name(c)) for c in f.candidates)
        who.append(f"Not confirmed; one of: {names}.")
    else:
        who.append("Not known from the scan.")
    who += [f"- {c.text_md}" for c in f.clues]
    out.append("\n".join(who))
    if f.false_positive_md:
        out += ["#### Possible false positive", f.false_positive_md.strip()]
    if f.notes_md:
        out += ["#### Notes", "\n\n".join(n.strip() for n in f.notes_md)]
    return "\n\n".join(p for p in out if p) + "\n"


def mitigation(f: EndpointFinding) -> str:
    """Markdown: the fixes for this software and version (recommended first), with their
    configuration and commands in code blocks, and the changes that would not help."""
    out: list[str] = []
    for fix in f.fixes:
        heading = " ".join(fix.title.split())  # trusted (the entry's), Markdown
        out.append(f"#### {heading}" + (" (recommended)" if fix.recommended else ""))
        if fix.applies:
            out.append(f"For {md_text(fix.applies)}.")
        if fix.already_applied:
            out.append(f"**Already applied:** {md_text(fix.already_applied)}")
        if fix.notes.strip():
            out.append(fix.notes.strip())
        if fix.config.strip():
            out.append(fence(fix.config))
        if fix.commands:
            out.append(fence("\n".join(fix.commands), "sh"))
        if fix.reload:
            out.append(f"Then: {code(fix.reload)}")
    if f.not_fixes:
        out.append("#### What not to change")
        out.append("\n".join(f"- {code(c)}: {' '.join(w.split())}" for c, w in f.not_fixes))
    if not out:
        if f.entry is not None and not f.entry.fixable:
            out.append("Nothing to change on the server: see the description.")
        else:
            out.append("advisor has no fix for this finding; see the references.")
    return "\n\n".join(out) + "\n"


def impact(f: EndpointFinding) -> str:
    """Markdown: why it matters, and why advisor rates it as it does here."""
    out = []
    if f.entry is not None and f.entry.text.why.strip():
        out.append(f.entry.text.why.strip())
    if f.severity_reason_md.strip():
        out.append(f"**Severity {f.severity}:** {f.severity_reason_md.strip()}")
    return "\n\n".join(out) + "\n" if out else ""


def steps(f: EndpointFinding) -> str:
    """Markdown: the verify commands for this endpoint and what each should show."""
    return "\n\n".join(f"{fence(cmd, 'sh')}\n\n{md_text(expect)}" for cmd, expect in f.verify)


def references(f: EndpointFinding) -> list[str]:
    """The entry's references (checked when the entry was written). nmap's own references
    come from the scan, so they are listed in the description as code, not as links."""
    if f.entry is None:
        return []
    return list(dict.fromkeys(ref.url for ref in f.entry.references))
