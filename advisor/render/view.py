"""Shape a :class:`~advisor.advise.report.Report` for the Markdown and HTML templates.

The view holds plain values: trusted text (knowledge entries, our own strings) and untrusted
text (anything from the scan) are kept apart by name (``raw_*`` and ``scan_*`` fields are
untrusted) so each template escapes them the right way. Text built by the code (messages, see
:mod:`advisor.messages`) is given as Markdown: literal values in code spans, which the HTML
template converts like the knowledge text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from advisor.advise.advice import SEVERITY_ORDER, Advice, fill_text, severity_rank
from advisor.advise.context import tls_upgrade
from advisor.advise.report import Group, InformationalScript, Report, Variant, split_unknown
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.kb.informational import load_informational
from advisor.kb.proof import proof_status
from advisor.messages import english, msg
from advisor.model import describe_repairs
from advisor.render.escape import code, md_text
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
    """(source, Markdown text) in the report's language."""
    notes: list[str] = field(default_factory=list)
    tls: str = ""
    """How TLS starts on this port, for its protocol, in the report's language."""


def tls_text(advice: Advice, cat: Catalog) -> str:
    """``tls_<mode>``, or for STARTTLS the protocol's own way of starting TLS
    (``tls_starttls_postgresql``: PostgreSQL's SSLRequest is no STARTTLS)."""
    mode = advice.tls_mode
    if not mode:
        return ""
    if mode == "starttls":
        loc = advice.finding.location
        protocol = tls_upgrade(loc.port, loc.service)
        if protocol is not None and f"tls_starttls_{protocol}" in cat.english:
            return cat.t(f"tls_starttls_{protocol}")
    return cat.t(f"tls_{mode}")


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
    view.clues = [
        (cat.source(c.source), cat.parts_md(c.parts) if c.parts else md_text(c.text))
        for c in a.identity.clues
    ]
    view.notes = [n if isinstance(n, str) else cat.parts_md(n) for n in a.notes]
    view.tls = tls_text(a, cat)
    if entry is None:
        if a.severity_parts:
            view.severity_reason = cat.parts_md(a.severity_parts)
        return view
    if a.severity_reason == entry.severity.reason:
        view.severity_reason = cat.entry(entry, "severity_reason")
    for i, rule in enumerate(entry.severity.context):
        if a.severity_reason == rule.reason:
            view.severity_reason = cat.entry(entry, "severity_context", i, "reason")
    if a.severity_parts:
        view.severity_reason = cat.parts_md(a.severity_parts)

    def fill(text: str) -> str:  # text shown per endpoint names this one, as commands do
        return fill_text(text, a.finding, a.identity)

    notes = [fill(fp.note) for fp in entry.false_positives]
    view.false_positives = [
        cat.parts_md(n)
        if not isinstance(n, str)
        else fill(cat.entry(entry, "false_positives", notes.index(n), "note"))
        if n in notes
        else n
        for n in a.false_positives
    ]
    for chosen in a.fixes:
        idx = entry.fixes.index(chosen.fix)
        view.fixes.append(
            {
                "title": cat.entry(entry, "fixes", idx, "title"),
                "notes": fill(cat.entry(entry, "fixes", idx, "notes")),
                "fix": chosen.fix,
                "scope": cat.scope(entry, idx),
                "applies": cat.parts_md(chosen.applies_parts)
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
            {
                "change": nf.change,
                # a translated change is Markdown (its settings in code spans); English is literal
                "change_md": cat.optional(entry, "not_fixes", idx, "change"),
                "why": fill(cat.entry(entry, "not_fixes", idx, "why")),
            }
        )
    expects = {v.expect: i for i, v in enumerate(entry.verify)}
    view.verify = [
        (cmd, fill(cat.entry(entry, "verify", expects[exp], "expect")) if exp in expects else exp)
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
        refs = [(cat.reference_title(entry, i), r.url) for i, r in enumerate(entry.references)]
    variants = g.sorted_variants()
    return GroupView(
        group=g,
        anchor=(entry.id if entry else f"unknown-{number}").lower(),
        number=number,
        text=text,
        variants=[_variant(v, cat, proofs) for v in variants[:MAX_VARIANTS]],
        hidden_variants=variants[MAX_VARIANTS:],
        references=refs,
        proven=_proven(entry, cat, proofs) if entry else [],
    )


def _proven(
    entry: Any, cat: Catalog, proofs: dict[str, list[dict[str, str]]]
) -> list[dict[str, str]]:
    """The entry's proven fixes, each named by its title in the report's language."""
    titles = {(f.software, f.title): i for i, f in enumerate(entry.fixes)}
    out = []
    for p in proofs.get(entry.id, []):
        idx = titles.get((p["software"], p["fix"]))
        fix = cat.entry(entry, "fixes", idx, "title") if idx is not None else p["fix"]
        out.append({**p, "fix": fix})
    return out


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


@dataclass(frozen=True, slots=True)
class InformationalView:
    """One informational script: its line in the report's language, and where it ran."""

    script: str
    line: str
    count: int
    hosts: int
    weakness: bool


def informational_views(rows: list[InformationalScript], cat: Catalog) -> list[InformationalView]:
    out = []
    for row in rows:
        info = row.info
        line = info.line(cat.lang)
        if not info.translated(cat.lang):
            line = f"{cat.marker} {line}"
        out.append(InformationalView(row.script, line, row.count, row.hosts, info.weakness))
    return out


_EV_READ = re.compile(r"^(?P<label>[^:`]+): read (?P<path>.+?)(?: \((?P<kind>[a-z_]+)\))?$")
_EV_RAN = re.compile(r"^(?P<label>[^:`]+): ran `(?P<command>[^`]+)`$")
_EV_SKIPPED = re.compile(r"^(?P<label>[^:`]+): `(?P<command>[^`]+)`: not installed here, skipped$")


def evidence_line(line: str, cat: Catalog) -> str:
    """A line of the evidence section (advisor.evidence, English) in the report's language:
    the files read and the commands run; any other line as it is."""
    if cat.lang == "en":
        return line

    def label(name: str) -> str:
        return cat.t("ev_label_scanned") if name == "the scanned host" else code(name)

    if m := _EV_READ.match(line):
        path = code(m["path"])
        if m["kind"]:
            return cat.t("ev_read_kind", label=label(m["label"]), path=path, kind=m["kind"])
        return cat.t("ev_read", label=label(m["label"]), path=path)
    if m := _EV_RAN.match(line):
        return cat.t("ev_ran", label=label(m["label"]), command=code(m["command"]))
    if m := _EV_SKIPPED.match(line):
        return cat.t("ev_not_installed", label=label(m["label"]), command=code(m["command"]))
    return line


def build(report: Report, kb: KnowledgeBase, cat: Catalog) -> dict[str, Any]:
    """Everything the templates need, as one context dict."""
    groups = report.sorted_groups()
    informational, unknown = split_unknown(report, load_informational(kb.root))
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
    known = {PASTED_FRAGMENT: cat.t("warn_pasted")}
    if scan.recovered:  # the damage read past, in the report's language
        known[describe_repairs(scan.recovered)] = describe_repairs(scan.recovered, cat.t)
    warnings = [known.get(w, w) for w in report.warnings]
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
        "unknown": unknown,
        "informational": informational_views(informational, cat),
        "t": cat.t,
        "evidence": [evidence_line(line, cat) for line in report.evidence],
        "entry_title": lambda entry: cat.entry(entry, "title"),
        "lang": cat.lang,
        "rank": severity_rank,
        "max_endpoints": MAX_ENDPOINTS,
        "max_hidden": MAX_HIDDEN,
    }
