"""Shape a :class:`~advisor.advise.report.Report` for the Markdown and HTML templates.

The view holds plain values: trusted text (knowledge entries, our own strings) and untrusted
text (anything from the scan) are kept apart by name (``raw_*`` and ``scan_*`` fields are
untrusted) so each template escapes them the right way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from advisor.advise.advice import SEVERITY_ORDER, Advice, severity_rank
from advisor.advise.report import Group, Report, Variant
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.kb.proof import proof_status
from advisor.messages import english, msg
from advisor.scan.text import PASTED_FRAGMENT

#: Endpoints listed per variant in Markdown/HTML; the JSON output has all of them.
MAX_ENDPOINTS = 200
#: Variants shown in full per group; the rest are listed by endpoint only.
MAX_VARIANTS = 12
#: Of those, how many are listed at all (the JSON output has every finding).
MAX_HIDDEN = 50

SEVERITY_COLOURS = {
    "critical": "#7b1fa2",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#f9a825",
    "info": "#607d8b",
}


@dataclass
class VariantView:
    advice: Advice
    endpoints: list[str]
    more: int
    fixes: list[dict[str, Any]] = field(default_factory=list)
    not_fixes: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    verify: list[tuple[str, str]] = field(default_factory=list)
    severity_reason: str = ""
    clues: list[tuple[str, str]] = field(default_factory=list)
    """(source, text) in the report's language."""
    notes: list[str] = field(default_factory=list)


@dataclass
class GroupView:
    group: Group
    anchor: str
    number: int
    text: dict[str, str]
    variants: list[VariantView]
    hidden_variants: list[Variant]
    references: list[tuple[str, str]]
    proven: list[dict[str, str]]


def _variant(v: Variant, cat: Catalog, proofs: dict[str, list[dict[str, str]]]) -> VariantView:
    a = v.advice
    entry = a.entry
    shown = v.endpoints[:MAX_ENDPOINTS]
    view = VariantView(a, shown, len(v.endpoints) - len(shown), severity_reason=a.severity_reason)
    view.clues = [(c.source, cat.parts(c.parts) if c.parts else c.text) for c in a.identity.clues]
    view.notes = [n if isinstance(n, str) else cat.parts(n) for n in a.notes]
    if entry is None:
        return view
    if a.severity_reason == entry.severity.reason:
        view.severity_reason = cat.entry(entry, "severity_reason")
    for i, rule in enumerate(entry.severity.context):
        if a.severity_reason == rule.reason:
            view.severity_reason = cat.entry(entry, "severity_context", i, "reason")
    notes = [fp.note for fp in entry.false_positives]
    view.false_positives = [
        cat.entry(entry, "false_positives", notes.index(n), "note") if n in notes else n
        for n in a.false_positives
    ]
    for chosen in a.fixes:
        idx = entry.fixes.index(chosen.fix)
        view.fixes.append(
            {
                "title": cat.entry(entry, "fixes", idx, "title"),
                "notes": cat.entry(entry, "fixes", idx, "notes"),
                "fix": chosen.fix,
                "applies": cat.parts(chosen.applies_parts)
                if chosen.applies_parts
                else chosen.applies,
                "config": chosen.config,
                "commands": list(chosen.commands),
                "already": cat.t("note_already")
                if chosen.already_applied == english((msg("note_already"),))
                else chosen.already_applied,
                "proven": sorted(
                    {
                        f"{p['software']} {p['version']}"
                        for p in proofs.get(entry.id, [])
                        if p["fix"] == chosen.fix.title and p["software"] == chosen.fix.software
                    }
                ),
            }
        )
    for nf in a.not_fixes:
        idx = entry.not_fixes.index(nf)
        view.not_fixes.append(
            {"change": nf.change, "why": cat.entry(entry, "not_fixes", idx, "why")}
        )
    expects = {v.expect: i for i, v in enumerate(entry.verify)}
    view.verify = [
        (cmd, cat.entry(entry, "verify", expects[exp], "expect") if exp in expects else exp)
        for cmd, exp in a.verify
    ]
    return view


def _group(
    g: Group, number: int, cat: Catalog, proofs: dict[str, list[dict[str, str]]]
) -> GroupView:
    entry = g.entry
    text: dict[str, str] = {}
    refs: list[tuple[str, str]] = []
    if entry is not None:
        for key in ("summary", "meaning", "why", "detection"):
            text[key] = cat.entry(entry, key)
        text["title"] = cat.entry(entry, "title")
        refs = [(r.title, r.url) for r in entry.references]
    variants = g.sorted_variants()
    return GroupView(
        group=g,
        anchor=(entry.id if entry else f"unknown-{number}").lower(),
        number=number,
        text=text,
        variants=[_variant(v, cat, proofs) for v in variants[:MAX_VARIANTS]],
        hidden_variants=variants[MAX_VARIANTS:],
        references=refs,
        proven=proofs.get(entry.id, []) if entry else [],
    )


def evidence_commands(report: Report, cat: Catalog) -> tuple[list[tuple[str, str]], str]:
    """Read-only commands that would confirm what the scan alone could only guess."""
    need = report.unconfirmed
    if not need:
        return [], ""
    mail = bool(need & {"postfix", "exim", "sendmail", "unknown"})
    cmds = [("sudo ss -lnpt > ss.txt", cat.t("ev_ss"))]
    flags = ["--ss ss.txt"]
    if mail:
        cmds += [
            ("postconf -n > postconf.txt", cat.t("ev_postconf_n")),
            ("postconf -M > master.txt", cat.t("ev_postconf_m")),
            ("postconf mail_version > mail_version.txt", cat.t("ev_mail_version")),
        ]
        flags += [
            "--postconf postconf.txt",
            "--postconf-master master.txt",
            "--mail-version mail_version.txt",
        ]
    if need & {"dovecot", "unknown"}:
        cmds.append(("doveconf -n > doveconf.txt", cat.t("ev_doveconf")))
        flags.append("--doveconf doveconf.txt")
    if need & {"nginx", "unknown"}:
        cmds.append(("sudo nginx -T > nginx.txt 2>&1", cat.t("ev_nginx")))
        flags.append("--nginx nginx.txt")
    source = report.source if report.source not in ("-", "<stdin>") else "scan.xml"
    return cmds, f"advisor explain {source} " + " ".join(flags)


def build(report: Report, kb: KnowledgeBase, cat: Catalog) -> dict[str, Any]:
    """Everything the templates need, as one context dict."""
    groups = report.sorted_groups()
    proofs = proof_status(kb)
    views = [_group(g, i + 1, cat, proofs) for i, g in enumerate(groups)]
    by_entry: dict[str, int] = {}
    for g in groups:
        label = g.entry.id if g.entry else g.script
        by_entry[label] = by_entry.get(label, 0) + g.count
    scan = report.scan
    started = (
        datetime.fromtimestamp(scan.start, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        if scan.start
        else None
    )
    ev_cmds, ev_rerun = evidence_commands(report, cat)
    known = {PASTED_FRAGMENT: "warn_pasted"}
    warnings = [cat.t(known[w]) if w in known else w for w in report.warnings]
    return {
        "warnings": warnings,
        "evidence_cmds": ev_cmds,
        "evidence_rerun": ev_rerun,
        "report": report,
        "scan": scan,
        "started": started,
        "groups": views,
        "severity_order": list(reversed(SEVERITY_ORDER)),
        "severity_counts": report.severity_counts,
        "colours": SEVERITY_COLOURS,
        "by_entry": sorted(by_entry.items(), key=lambda kv: -kv[1])[:15],
        "clean": sorted(report.clean.items()),
        "accepted": sorted(report.accepted.values(), key=lambda a: a.entry.id),
        "unknown": sorted(report.unknown.values(), key=lambda u: u.script),
        "t": cat.t,
        "lang": cat.lang,
        "rank": severity_rank,
        "max_endpoints": MAX_ENDPOINTS,
        "max_hidden": MAX_HIDDEN,
    }
