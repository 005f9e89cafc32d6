"""SARIF 2.1.0 log (OASIS Static Analysis Results Interchange Format), for GitHub code
scanning and other SARIF consumers. Described in docs/formats.md.

- One ``reportingDescriptor`` (rule) per knowledge entry that has findings, id = entry id,
  with the entry's text as help (plain text and Markdown); one rule ``nse/<script>`` per
  script that reported something advisor has no entry for.
- One ``result`` per finding and endpoint: level from advisor's severity
  (:data:`LEVELS`), a plain-text message, the scan file as the physical location (GitHub
  requires one) and the endpoint as a logical location, and a fingerprint that stays the
  same from run to run (:func:`advisor.render.records.fingerprint`).
- False-positive notes that apply go in the message and in ``properties.falsePositive``;
  the result is not marked as suppressed (a suppressed result is hidden by default).

Results are written one by one as they are read from the finding records, so a large scan
does not build the whole log in memory.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any, TextIO
from urllib.parse import quote

from advisor import __version__
from advisor.advise.advice import SEVERITY_ORDER, severity_rank
from advisor.advise.context import display_name
from advisor.advise.report import Report
from advisor.kb import KnowledgeBase
from advisor.kb.schema import Entry
from advisor.render.escape import code, fence, md_text, neutralise
from advisor.render.json import FindingSpool
from advisor.render.plain import plain, plain_line
from advisor.render.records import EndpointFinding, endpoint_findings, unknown_rule_id

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

#: advisor's severity -> SARIF ``level``. ``error`` and ``warning`` fail a GitHub check run
#: by default; informational findings stay visible as notes rather than ``none``.
LEVELS = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}

#: advisor's severity -> ``security-severity`` (a CVSS-like score, as a string). GitHub
#: shows 9.0 and over as critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low; each value is
#: in the middle of its band (the bands advisor uses for CVSS scores too).
SECURITY_SEVERITY = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
    "info": "0.0",
}

#: The partialFingerprints key of advisor's fingerprint; the same value is also given as
#: ``primaryLocationLineHash`` so that GitHub does not compute one from line 1 of the scan.
FINGERPRINT_KEY = "advisorFinding/v1"

_SCRIPT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_RESULTS = "\x00results\x00"


def render_sarif(
    report: Report, out: TextIO, kb: KnowledgeBase, findings: FindingSpool | None = None
) -> None:
    """Write ``report`` as a SARIF 2.1.0 log with one run."""
    rules = _rules(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    uri = artifact_uri(report.source)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "advisor",
                "fullName": f"advisor {__version__} (nmap NSE findings explained)",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "invocations": [_invocation(report)],
        "artifacts": [{"location": {"uri": uri}, "roles": ["analysisTarget"]}],
        "columnKind": "unicodeCodePoints",
        "properties": {"nmap": _scan_properties(report)},
        "results": _RESULTS,
    }
    doc = {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
    head, tail = json.dumps(doc, indent=2, ensure_ascii=False).split(json.dumps(_RESULTS))
    out.write(head + "[")
    first = True
    for finding in endpoint_findings(report, kb, findings):
        result = sarif_result(finding, index, uri)
        out.write(("\n" if first else ",\n") + "        " + json.dumps(result, ensure_ascii=False))
        first = False
    out.write(("\n      ]" if not first else "]") + tail + "\n")


def artifact_uri(source: str) -> str:
    """The scan file as a relative URI reference (the location GitHub shows): the path as
    given when it is relative, else the file name; ``scan.xml`` for standard input."""
    if source in ("-", "<stdin>", ""):
        return "scan.xml"
    path = Path(source)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            path = Path(path.name)
    parts = [p for p in PurePosixPath(path.as_posix()).parts if p not in (".", "/")]
    return quote("/".join(parts) or "scan.xml", safe="/")


def _invocation(report: Report) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": True}
    notes = [
        {"level": "warning", "message": {"text": neutralise(" ".join(w.split()))}}
        for w in report.warnings
    ]
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _scan_properties(report: Report) -> dict[str, Any]:
    scan = report.scan
    return {
        "scanner": neutralise(scan.scanner),
        "version": neutralise(scan.version),
        "args": neutralise(scan.args),
        "start": scan.start,
        "complete": scan.complete,
        "hostsRead": report.hosts_read,
        "hostsUp": report.hosts_up,
    }


# -- rules -----------------------------------------------------------------------------------
def _rules(report: Report) -> list[dict[str, Any]]:
    """One rule per entry with findings, one per script without an entry (report order)."""
    rules: dict[str, dict[str, Any]] = {}
    unknown: dict[str, str] = {}  # rule id -> worst severity
    scripts: dict[str, str] = {}
    for group in report.sorted_groups():
        if group.entry is not None:
            rules.setdefault(group.entry.id, _entry_rule(group.entry))
            continue
        rid = unknown_rule_id(group.script)
        scripts.setdefault(rid, group.script)
        if rid not in unknown or severity_rank(group.severity) > severity_rank(unknown[rid]):
            unknown[rid] = group.severity
        rules.setdefault(rid, {})
    for rid, severity in unknown.items():
        rules[rid] = _unknown_rule(rid, scripts[rid], severity)
    return list(rules.values())


def _entry_rule(entry: Entry) -> dict[str, Any]:
    level = entry.severity.level if entry.severity.level in SEVERITY_ORDER else "info"
    markdown = entry_help_markdown(entry)
    rule: dict[str, Any] = {
        "id": entry.id,
        "name": entry.slug,
        "shortDescription": {"text": plain_line(entry.title)},
        "fullDescription": {"text": plain(entry.text.summary + "\n\n" + entry.text.meaning)},
        "help": {"text": plain(markdown), "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[level]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[level],
            "tags": _tags("security", "nmap", entry.category),
            "advisorSeverity": level,
        },
    }
    if entry.references:
        rule["helpUri"] = entry.references[0].url
    return rule


def entry_help_markdown(entry: Entry) -> str:
    """The entry as Markdown: what it means, why it matters, how nmap tells, every fix."""
    text = entry.text
    out = [f"**{md_text(plain_line(entry.title))}**", text.summary.strip()]
    for heading, body in (
        ("What it means", text.meaning),
        ("Why it matters", text.why),
        ("How nmap detects it", text.detection),
    ):
        if body.strip():
            out += [f"## {heading}", body.strip()]
    if entry.fixes:
        out.append("## Fixes")
        for fix in entry.fixes:
            who = display_name(fix.software) if fix.software not in ("generic", "vendor") else ""
            scope = ", ".join(
                s for s in (who, fix.versions.describe() if who else "", fix.scope) if s
            )
            title = fix.title.strip() + (" (recommended)" if fix.recommended else "")
            out.append(f"### {title}" + (f" ({md_text(scope)})" if scope else ""))
            if fix.notes.strip():
                out.append(fix.notes.strip())
            if fix.config.strip():
                out.append(fence(fix.config))
            if fix.commands:
                out.append(fence("\n".join(fix.commands), "sh"))
            if fix.reload:
                out.append(f"Then: {code(fix.reload)}")
    if entry.not_fixes:
        out.append("## What not to change")
        out.append(
            "\n".join(f"- {code(n.change)}: {' '.join(n.why.split())}" for n in entry.not_fixes)
        )
    if entry.verify:
        out.append("## Verify")
        out.append(
            "\n".join(f"- {code(v.command)}: {' '.join(v.expect.split())}" for v in entry.verify)
        )
    if entry.references:
        out.append("## References")
        out.append("\n".join(f"- [{md_text(r.title)}]({r.url})" for r in entry.references))
    return "\n\n".join(out) + "\n"


def _unknown_rule(rule_id: str, script: str, severity: str) -> dict[str, Any]:
    name = neutralise(" ".join(script.split()))
    level = severity if severity in SEVERITY_ORDER else "info"
    markdown = (
        f"nmap's {code(name)} script reported this, and advisor has no knowledge entry for "
        "it yet: the finding is shown as nmap reported it, with a severity advisor derived "
        "from nmap's own state (see each result). Read the script's documentation and "
        "nmap's output before acting on it.\n"
    )
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": f"nmap script {name}: finding without an advisor entry"},
        "fullDescription": {"text": plain(markdown)},
        "help": {"text": plain(markdown), "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[level]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[level],
            "tags": _tags("security", "nmap", "no-entry"),
            "advisorSeverity": level,
        },
    }
    if _SCRIPT_ID.match(script):
        rule["helpUri"] = f"https://nmap.org/nsedoc/scripts/{script}.html"
    return rule


def _tags(*tags: str) -> list[str]:
    return list(dict.fromkeys(t for t in tags if t))


# -- results ---------------------------------------------------------------------------------
def _line(text: str | None) -> str:
    """Untrusted text on one line, control characters made visible."""
    return neutralise(" ".join((text or "").split()))


def result_message(f: EndpointFinding) -> str:
    """What the result says, in plain text: the finding, the severity and why, the
    false-positive note that applies, the recommended fix and the first verify step."""
    parts = [f"{_line(f.display_title)} on {_line(f.endpoint)}."]
    if f.entry is None and f.state:
        parts.append(f"nmap: {_line(f.state)}.")
    reason = _line(f.severity_reason)
    parts.append(f"Severity {f.severity}" + (f": {reason}" if reason else "."))
    if f.false_positive:
        parts.append(f"Possible false positive: {_line(f.false_positive)}")
    if f.fixes:
        fix = f.fixes[0]
        applies = f" ({_line(fix.applies)})" if fix.applies else ""
        parts.append(f"Fix: {_line(plain_line(fix.title))}{applies}.")
    if f.verify:
        parts.append(f"Verify: {_line(f.verify[0][0])}")
    return " ".join(parts)


def sarif_result(f: EndpointFinding, rule_index: dict[str, int], uri: str) -> dict[str, Any]:
    """One result: a finding at one endpoint."""
    fp = f.fingerprint
    result: dict[str, Any] = {"ruleId": f.rule_id}
    if f.rule_id in rule_index:
        result["ruleIndex"] = rule_index[f.rule_id]
    result["level"] = LEVELS[f.severity]
    result["message"] = {"text": result_message(f)}
    result["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {"startLine": 1},
            },
            "logicalLocations": [
                {
                    "name": _line(f.endpoint),
                    "fullyQualifiedName": _line(f.endpoint),
                    "kind": "resource",
                }
            ],
        }
    ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fp, "primaryLocationLineHash": fp}
    props: dict[str, Any] = {
        "severity": f.severity,
        "endpoint": _line(f.endpoint),
        "host": _line(f.host),
        "port": f.port,
        "protocol": _line(f.protocol) or None,
        "scope": f.scope,
        "service": _line(f.service) or None,
        "hostname": _line(f.hostname) or None,
        "script": _line(f.script),
        "state": _line(f.state),
        "nmapTitle": _line(f.title),
        "software": f.software,
        "version": _line(f.version) or None,
        "falsePositive": f.false_positive,
        "cve": list(f.cves),
    }
    result["properties"] = {k: v for k, v in props.items() if v not in (None, "", [])}
    return result
