"""JSON advisory, schema ``advisor-report/1`` (documented in docs/json-schema.md).

Findings are streamed: the CLI writes one record per finding to a temporary spool while the
scan is read (so memory stays flat), and this module wraps them with the ``scan`` and
``summary`` objects at the end. Without a spool (library use), records are rebuilt from the
report's representative advice for each endpoint.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from advisor.advise.advice import Advice
from advisor.advise.report import Report
from advisor.kb import KnowledgeBase, Verdict
from advisor.kb.proof import proof_status
from advisor.messages import note_english

SCHEMA = "advisor-report/1"


def _shared(advice: Advice) -> dict[str, Any]:
    """The part of a finding's record that depends on its context, not on its address."""
    entry = advice.entry
    ident = advice.identity
    matched = entry is not None and advice.verdict is Verdict.MATCHED
    return {
        "kb_id": entry.id if matched and entry else None,
        "kb_title": entry.title if matched and entry else None,
        "verdict": advice.verdict.value,
        "severity": advice.severity,
        "severity_reason": advice.severity_reason,
        "tls_mode": advice.tls_mode,
        "false_positive": "\n\n".join(advice.false_positives) or None,
        "software": {
            "name": ident.software,
            "version": ident.version,
            "confidence": ident.confidence,
            "candidates": list(ident.candidates),
            "evidence": [{"source": c.source, "text": c.text} for c in ident.clues],
            "disagreement": ident.disagreement,
        },
        "fixes": [
            {
                "software": c.fix.software,
                "versions": c.fix.versions.describe(),
                "title": c.fix.title,
                "scope": c.fix.scope,
                "applies": c.applies,
                "config": c.config or None,
                "commands": list(c.commands),
                "reload": c.fix.reload or None,
                "recommended": c.fix.recommended,
                "already_applied": c.already_applied,
            }
            for c in advice.fixes
        ],
        "not_fixes": [{"change": n.change, "why": n.why} for n in advice.not_fixes],
        "notes": [note_english(n) for n in advice.notes],
        "references": [r.url for r in entry.references] if entry is not None else [],
    }


def _own(advice: Advice) -> dict[str, Any]:
    """The part of a finding's record that is its own: where, what nmap said, verify."""
    f = advice.finding
    loc = f.location
    return {
        "host": loc.host,
        "hostname": loc.hostname,
        "port": loc.port,
        "protocol": loc.protocol,
        "scope": loc.scope,
        "service": loc.service.name if loc.service and loc.service.name else None,
        "script": f.script,
        "kind": f.kind.value,
        "title": f.title,
        "state": f.state,
        "ids": list(f.ids),
        "verify": [{"command": cmd, "expect": exp} for cmd, exp in advice.verify],
        "nmap": {
            "table_key": f.table_key,
            "description": f.description or None,
            "check_results": list(f.check_results),
            "exploit_results": list(f.exploit_results),
            "extra_info": list(f.extra_info),
            "references": list(f.references),
            "disclosure": f.disclosure,
            "details": dict(f.details),
            "output": f.output if advice.entry is None else None,
            "problems": list(f.problems),
        },
    }


def finding_record(advice: Advice) -> dict[str, Any]:
    """One finding as the JSON schema describes it."""
    return _own(advice) | _shared(advice)


class FindingWriter:
    """Serialises findings one by one; the context-dependent half is encoded once per
    context (a 100k-host scan has a handful), the rest per finding."""

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], tuple[Advice, str]] = {}

    def __call__(self, advice: Advice) -> str:
        key = (
            id(advice.fixes),
            id(advice.entry),
            advice.verdict,
            advice.severity,
            advice.severity_reason,
            advice.tls_mode,
            advice.false_positives,
            advice.notes,
            advice.identity,
        )
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 20_000:
                self._cache.clear()
            # keep the advice referenced so the ids in the key stay unique
            hit = self._cache[key] = (advice, json.dumps(_shared(advice), ensure_ascii=False)[1:-1])
        own = json.dumps(_own(advice), ensure_ascii=False)
        return own[:-1] + ", " + hit[1] + "}"


def _scan(report: Report) -> dict[str, Any]:
    s = report.scan
    return {
        "source": report.source,
        "format": s.source_format,
        "scanner": s.scanner,
        "version": s.version,
        "args": s.args,
        "start": s.start,
        "complete": s.complete,
        "problem": s.problem,
        "hosts_read": report.hosts_read,
        "hosts_up": report.hosts_up,
        "hosts_total_reported": s.hosts_total,
    }


def _summary(report: Report, kb: KnowledgeBase) -> dict[str, Any]:
    proofs = proof_status(kb)
    return {
        "findings": report.finding_count,
        "by_severity": {k: v for k, v in report.severity_counts.items() if v},
        "groups": [
            {
                "kb_id": g.entry.id if g.entry else None,
                "title": g.title,
                "script": g.script,
                "severity": g.severity,
                "count": g.count,
                "hosts": len(g.hosts),
                "proven": proofs.get(g.entry.id, []) if g.entry else [],
            }
            for g in report.sorted_groups()
        ],
        "clean": [{"title": t, "count": n} for t, n in sorted(report.clean.items())],
        "unknown_scripts": [
            {
                "script": u.script,
                "count": u.count,
                "endpoints": u.endpoints[:50],
                "sample_output": u.samples[0].output if u.samples else "",
            }
            for u in report.unknown.values()
        ],
        "false_positive_notes": report.false_positive_count,
        "accepted": [
            {
                "kb_id": a.entry.id,
                "reason": a.rule.reason,
                "accepted_by": a.rule.accepted_by,
                "expires": a.rule.expires.isoformat() if a.rule.expires else None,
                "endpoints": a.endpoints,
            }
            for a in report.accepted.values()
        ],
        "expired_acceptances": report.expired_acceptances,
        "warnings": report.warnings,
        "evidence": report.evidence,
    }


def render_json(
    report: Report, out: TextIO, kb: KnowledgeBase, spool: TextIO | None = None
) -> None:
    head = {"schema": SCHEMA, "scan": _scan(report), "summary": _summary(report, kb)}
    text = json.dumps(head, indent=2, ensure_ascii=False)
    out.write(text[:-2] + ',\n  "findings": [\n')
    if spool is not None:
        spool.seek(0)
        while chunk := spool.read(1 << 16):
            out.write(chunk)
    else:
        first = True
        for group in report.sorted_groups():
            for variant in group.sorted_variants():
                base = finding_record(variant.advice)
                for loc in variant.locations:
                    record = dict(base)
                    record.update(
                        host=loc.host,
                        hostname=loc.hostname,
                        port=loc.port,
                        protocol=loc.protocol,
                        scope=loc.scope,
                    )
                    out.write(("" if first else ",\n") + json.dumps(record, ensure_ascii=False))
                    first = False
    out.write("\n  ]\n}\n")
