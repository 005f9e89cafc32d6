"""The library API: read a scan, find, match, attach evidence, and build a report.

>>> from advisor.api import explain
>>> with open("scan.xml", "rb") as fh:
...     report = explain(fh)
>>> [g.title for g in report.sorted_groups()]

The CLI (:mod:`advisor.cli`) is a thin layer over :func:`explain` and the renderers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import BinaryIO, Protocol

from advisor.advise.accept import Acceptance, find_acceptance
from advisor.advise.advice import Advice, advise
from advisor.advise.context import Clue, identify
from advisor.advise.report import Report
from advisor.findings import host_findings, run_findings
from advisor.findings.model import Finding
from advisor.kb import KnowledgeBase, Verdict
from advisor.model import Host
from advisor.scan import open_scan


@dataclass
class Options:
    """What shapes the advice beyond the scan itself."""

    evidence: EvidenceLookup | None = None
    os_defaults: dict[str, str] | None = None
    """Software -> version assumed from ``--os`` (e.g. ``{"postfix": "3.4.13"}``)."""
    os_name: str | None = None
    on_advice: Callable[[Advice], None] | None = None
    """Called for every advice (the JSON renderer streams findings through it)."""
    progress: Callable[[int], None] | None = None
    on_host: Callable[[Host], None] | None = None
    """Called for every host read (``advisor diff`` records what was scanned)."""
    ignore: frozenset[str] = field(default_factory=frozenset)
    acceptances: list[Acceptance] = field(default_factory=list)
    """Accepted risks (``--accept FILE``)."""
    today: date = field(default_factory=date.today)


class EndpointEvidence(Protocol):
    """Server-side evidence about one endpoint, as the advise stage needs it."""

    def clues(self) -> list[Clue]:
        """What the server's own evidence says runs there (strongest clues first)."""
        ...

    def service_name(self) -> str | None:
        """The Postfix master.cf service behind the port, when known."""
        ...

    def refine(self, advice: Advice) -> Advice:
        """Add what the configuration says: effective settings, fixes already applied."""
        ...


class EvidenceLookup(Protocol):
    """Finds the evidence that belongs to a finding's host and port (see advisor.evidence)."""

    def for_finding(self, finding: Finding) -> EndpointEvidence | None: ...

    def describe(self) -> list[str]:
        """Lines for the report's "Evidence used" section."""
        ...


def scan_time(start: int | None) -> datetime:
    if start:
        try:
            return datetime.fromtimestamp(start, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(tz=UTC)


def advise_finding(finding: Finding, kb: KnowledgeBase, options: Options) -> Advice:
    """Knowledge plus evidence for one finding."""
    loc = finding.location
    view = options.evidence.for_finding(finding) if options.evidence else None
    identity = identify(
        loc.port,
        loc.service,
        strong=view.clues() if view else None,
        os_default=options.os_defaults,
        os_name=options.os_name,
    )
    advice = advise(finding, kb.match(finding), identity, view.service_name() if view else None)
    return view.refine(advice) if view else advice


def explain(
    stream: BinaryIO,
    kb: KnowledgeBase | None = None,
    options: Options | None = None,
    source: str = "-",
) -> Report:
    """Read ``stream`` (nmap XML or text) and return the grouped report."""
    kb = kb or KnowledgeBase.load()
    options = options or Options()
    scan = open_scan(stream, options.progress)
    report = Report(source=source)
    when = scan_time(scan.info.start)

    def take(finding: Finding) -> None:
        advice = advise_finding(finding, kb, options)
        entry = advice.entry
        if entry is not None and entry.id in options.ignore:
            return
        if entry is not None and options.acceptances and advice.verdict is Verdict.MATCHED:
            rule = find_acceptance(options.acceptances, entry.id, finding)
            if rule is not None and not rule.expired(options.today):
                report.accept(advice, rule)
                return
            if rule is not None:
                note = (
                    f"**Risk acceptance expired** on {rule.expires}: this finding counts again "
                    f"({rule.describe()})."
                )
                advice = replace(advice, notes=(*advice.notes, note))
                report.expired_acceptances += 1
        if report.add(advice) and options.on_advice is not None:
            options.on_advice(advice)

    prescripts_done = False
    for host in scan:
        if not prescripts_done:
            prescripts_done = True
            for finding in run_findings(scan.prescripts, "prescript", when):
                take(finding)
        report.hosts_read += 1
        if options.on_host is not None:
            options.on_host(host)
        if host.status == "up":
            report.hosts_up += 1
        report.ports_open += sum(1 for p in host.ports if p.state.startswith("open"))
        report.scripts_seen += sum(len(p.scripts) for p in host.ports) + len(host.hostscripts)
        for finding in host_findings(host, when):
            take(finding)
    if not prescripts_done:
        for finding in run_findings(scan.prescripts, "prescript", when):
            take(finding)
    for finding in run_findings(scan.postscripts, "postscript", when):
        take(finding)
    report.scan = scan.info
    if not scan.info.complete and scan.info.problem:
        report.warnings.insert(0, scan.info.problem)
    if options.evidence is not None:
        report.evidence.extend(options.evidence.describe())
    return report
