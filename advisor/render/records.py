"""One finding at one endpoint, for the formats that list findings one by one (SARIF, CSV,
DefectDojo).

The Markdown and HTML reports group endpoints that share a context; these formats need every
endpoint on its own, with what is particular to it (the script that reported it, the verify
commands naming its host). The CLI already collects exactly that while the scan is read: the
JSON renderer's finding spool (:class:`advisor.render.json.FindingSpool`, flat memory for any
scan size, filled by every worker of a parallel read). :func:`endpoint_findings` reads those
records back and joins each with its shared advice record and its knowledge entry.

Without a spool (library use), the records are rebuilt from the report: one per endpoint of
every variant, with the variant's representative advice placed at that endpoint (its own
verify commands). A variant merges endpoints that share a context, so a finding rebuilt this
way carries the representative's script and title; the CLI's spool has each finding's own.

Text comes in two forms, kept apart by name: plain text (``severity_reason``,
``false_positive``...) for consumers that show text as it is, and Markdown (``*_md``) whose
scan-derived parts already went through :mod:`advisor.render.escape`. Raw scan values
(``title``, ``script``, ``check_results``...) are untrusted and unescaped: each renderer
escapes them for its format.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from advisor.advise.advice import SEVERITY_ORDER, Advice, VerifyAt, advice_for_context, place
from advisor.advise.report import Report
from advisor.findings.model import Kind, Location
from advisor.kb import KnowledgeBase, MatchResult, Verdict
from advisor.kb.schema import Entry
from advisor.render.escape import neutralise
from advisor.render.json import FindingSpool

#: Bump when the fingerprint recipe changes (it is part of every fingerprint).
FINGERPRINT_VERSION = "advisor-finding/1"

#: Kinds whose nmap title names *what* was found (a vulnerability, a protocol version, a
#: cipher warning, a CPE, a certificate problem): part of the fingerprint. An error text or a
#: cipher grade is not: it changes between runs without the problem changing.
_TITLED_KINDS = frozenset({Kind.VULNS, Kind.PROTOCOL, Kind.WARNING, Kind.VULNERS, Kind.CERT})

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


@dataclass(frozen=True, slots=True)
class FixRow:
    """A fix chosen for the finding's software and version, filled in for its port."""

    title: str
    """The entry's fix title (trusted Markdown)."""
    software: str
    versions: str
    applies: str
    """Why it is shown (plain text), e.g. ``Postfix >=2.3 (version not known: pick yours)``."""
    config: str
    commands: tuple[str, ...]
    reload: str
    recommended: bool
    already_applied: str | None
    notes: str
    """The entry's notes on this fix (trusted Markdown), empty when none."""


@dataclass(frozen=True, slots=True)
class Clue:
    """What says which software answers on the port."""

    source: str
    text: str
    """Plain text."""
    text_md: str
    """Markdown, scan values in code spans."""


@dataclass(frozen=True, slots=True)
class EndpointFinding:
    """One finding at one endpoint, with the advice for it."""

    host: str
    hostname: str | None
    port: int | None
    protocol: str | None
    scope: str
    service: str | None
    script: str
    kind: str
    title: str
    """nmap's title of the finding (untrusted)."""
    state: str
    ids: tuple[str, ...]
    entry: Entry | None
    """The knowledge entry that explains it (None: advisor has no entry)."""
    verdict: str
    severity: str
    severity_reason: str
    severity_reason_md: str
    false_positive: str | None
    """The false-positive notes whose conditions hold here (plain text), or None."""
    false_positive_md: str | None
    software: str | None
    version: str | None
    confidence: str
    candidates: tuple[str, ...]
    clues: tuple[Clue, ...]
    fixes: tuple[FixRow, ...]
    """Recommended fix first."""
    not_fixes: tuple[tuple[str, str], ...]
    """(change, why as Markdown): changes that look right and are not."""
    verify: tuple[tuple[str, str], ...]
    """(command naming this endpoint, expected result as plain text)."""
    notes: tuple[str, ...]
    notes_md: tuple[str, ...]
    nmap_description: str
    check_results: tuple[str, ...]
    nmap_references: tuple[str, ...]
    output: str
    """The script's raw output, kept only for findings without an entry."""

    @property
    def location(self) -> Location:
        return Location(self.host, self.hostname, self.port, self.protocol, None, self.scope)

    @property
    def endpoint(self) -> str:
        """``host:port/proto`` (IPv6 in brackets), the host, or ``(pre-scan)``."""
        return self.location.endpoint

    @property
    def rule_id(self) -> str:
        """The entry id (``ADV-1001``), or ``nse/<script>`` for a script advisor has no
        entry for."""
        return self.entry.id if self.entry is not None else unknown_rule_id(self.script)

    @property
    def display_title(self) -> str:
        """The entry's title, or ``script: nmap's title`` (one line, scan text as it is)."""
        if self.entry is not None:
            return self.entry.title
        return f"{self.script}: {' '.join(self.title.split())}"

    @property
    def cves(self) -> tuple[str, ...]:
        """CVE ids of the finding (nmap's ids) and of its entry, well-formed ones only."""
        seen: dict[str, None] = {}
        for ident in (*self.ids, *(self.entry.cve if self.entry else ())):
            ident = ident.strip().upper()
            if _CVE.match(ident):
                seen.setdefault(ident, None)
        return tuple(seen)

    @property
    def fingerprint(self) -> str:
        """A stable identity: the same finding at the same endpoint gets the same value in
        every run, whatever advisor's wording (see :func:`fingerprint`)."""
        return fingerprint(
            self.rule_id,
            self.script,
            self.host,
            self.port,
            self.protocol,
            self.scope,
            self.title if self.kind in _TITLED_KINDS else "",
        )


def unknown_rule_id(script: str) -> str:
    """The rule id of findings of a script advisor has no entry for."""
    return "nse/" + neutralise(" ".join(script.split()))


def fingerprint(
    rule_id: str,
    script: str,
    host: str,
    port: int | None,
    protocol: str | None,
    scope: str,
    what: str = "",
) -> str:
    """SHA-256 (hex) of the fields that identify a finding, joined by U+001F.

    The fields: :data:`FINGERPRINT_VERSION`, the rule id (entry id or ``nse/<script>``), the
    script id, the host's address, the port (empty for host and pre/post-scan scripts), the
    transport protocol, the scope (``port``, ``host``, ``prescript``, ``postscript``), and,
    for a vulnerability table, a TLS protocol or cipher warning, a CPE or a certificate
    problem, nmap's title of it (two such findings of one entry can share an endpoint). No
    advisor text, no time, no run-numbered table key."""
    fields = (
        FINGERPRINT_VERSION,
        rule_id,
        script,
        host,
        "" if port is None else str(port),
        protocol or "",
        scope,
        " ".join(what.split()),
    )
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def _known_severity(level: str) -> str:
    """``level`` if it is one of advisor's severities, else ``info``."""
    return level if level in SEVERITY_ORDER else "info"


def endpoint_findings(
    report: Report, kb: KnowledgeBase, spool: FindingSpool | None = None
) -> Iterator[EndpointFinding]:
    """Every finding of ``report`` at every endpoint: from the CLI's ``spool`` (scan order),
    or rebuilt from the report (group order) when there is none."""
    own = spool if spool is not None else rebuild_spool(report)
    shared: dict[str, _Shared] = {}
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as tmp:
            own.copy_to(tmp)
            tmp.flush()
            tmp.seek(0)
            for line in tmp:
                line = line.rstrip("\n")
                if line.endswith(","):
                    line = line[:-1]
                if not line:
                    continue
                record = json.loads(line)
                name = record["advice"]
                parts = shared.get(name)
                if parts is None:
                    parts = shared[name] = _Shared.read(json.loads(own.writer.advice[name]), kb)
                yield _finding(record, parts)
    finally:
        if spool is None:
            own.close()


def rebuild_spool(report: Report) -> FindingSpool:
    """A spool holding one record per endpoint of every variant of ``report``: the
    variant's advice placed at that endpoint, with the representative's service."""
    spool = FindingSpool()
    for group in report.sorted_groups():
        for variant in group.sorted_variants():
            advice = variant.advice
            first = advice.finding.location
            verify = _verify_steps(variant.advice)
            for loc in variant.locations:
                where = Location(
                    loc.host, loc.hostname, loc.port, loc.protocol, first.service, loc.scope
                )
                if where == first:
                    spool.add(advice)
                else:
                    spool.add(place((advice, verify), advice.finding.at(where)))
    return spool


def _verify_steps(advice: Advice) -> VerifyAt:
    """The verify steps of ``advice``'s context, to fill in for each of its endpoints."""
    if advice.entry is None or advice.verdict is not Verdict.MATCHED or not advice.verify:
        return VerifyAt((), advice.verify)
    result = MatchResult(advice.verdict, advice.entry)
    return advice_for_context(advice.finding, result, advice.identity)[1]


@dataclass(frozen=True, slots=True)
class _Shared:
    """The parts of a finding that come from its shared advice record, read once."""

    entry: Entry | None
    verdict: str
    severity: str
    severity_reason: str
    severity_reason_md: str
    false_positive: str | None
    false_positive_md: str | None
    software: str | None
    version: str | None
    confidence: str
    candidates: tuple[str, ...]
    clues: tuple[Clue, ...]
    fixes: tuple[FixRow, ...]
    not_fixes: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    notes_md: tuple[str, ...]

    @staticmethod
    def read(record: dict[str, Any], kb: KnowledgeBase) -> _Shared:
        kb_id = record.get("kb_id")
        entry = kb.get(kb_id) if kb_id else None
        soft = record.get("software") or {}
        fix_notes = {(f.software, f.title): f.notes for f in entry.fixes} if entry else {}
        fixes = tuple(
            FixRow(
                title=f["title"],
                software=f["software"],
                versions=f.get("versions") or "",
                applies=f.get("applies") or "",
                config=f.get("config") or "",
                commands=tuple(f.get("commands") or ()),
                reload=f.get("reload") or "",
                recommended=bool(f.get("recommended")),
                already_applied=f.get("already_applied"),
                notes=fix_notes.get((f["software"], f["title"]), ""),
            )
            for f in record.get("fixes") or ()
        )
        reason = record.get("severity_reason") or ""
        return _Shared(
            entry=entry,
            verdict=record.get("verdict") or "",
            severity=_known_severity(record.get("severity") or "info"),
            severity_reason=reason,
            severity_reason_md=record.get("severity_reason_md") or reason,
            false_positive=record.get("false_positive"),
            false_positive_md=record.get("false_positive_md") or record.get("false_positive"),
            software=soft.get("name"),
            version=soft.get("version"),
            confidence=soft.get("confidence") or "",
            candidates=tuple(soft.get("candidates") or ()),
            clues=tuple(
                Clue(c.get("source", ""), c.get("text", ""), c.get("text_md") or c.get("text", ""))
                for c in soft.get("evidence") or ()
            ),
            fixes=fixes,
            not_fixes=tuple(
                (n["change"], n.get("why_md") or n.get("why", ""))
                for n in record.get("not_fixes") or ()
            ),
            notes=tuple(record.get("notes") or ()),
            notes_md=tuple(record.get("notes_md") or record.get("notes") or ()),
        )


def _finding(record: dict[str, Any], s: _Shared) -> EndpointFinding:
    nmap = record.get("nmap") or {}
    return EndpointFinding(
        host=record["host"],
        hostname=record.get("hostname"),
        port=record.get("port"),
        protocol=record.get("protocol"),
        scope=record.get("scope") or "port",
        service=record.get("service"),
        script=record.get("script") or "",
        kind=record.get("kind") or "",
        title=record.get("title") or "",
        state=record.get("state") or "",
        ids=tuple(record.get("ids") or ()),
        entry=s.entry,
        verdict=s.verdict,
        severity=_known_severity(record.get("severity") or s.severity),
        severity_reason=s.severity_reason,
        severity_reason_md=s.severity_reason_md,
        false_positive=s.false_positive,
        false_positive_md=s.false_positive_md,
        software=s.software,
        version=s.version,
        confidence=s.confidence,
        candidates=s.candidates,
        clues=s.clues,
        fixes=s.fixes,
        not_fixes=s.not_fixes,
        verify=tuple((v["command"], v.get("expect") or "") for v in record.get("verify") or ()),
        notes=s.notes,
        notes_md=s.notes_md,
        nmap_description=nmap.get("description") or "",
        check_results=tuple(nmap.get("check_results") or ()),
        nmap_references=tuple(nmap.get("references") or ()),
        output=nmap.get("output") or "",
    )
