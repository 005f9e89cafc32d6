"""The report: advice grouped by finding, with the affected endpoints, in bounded memory.

A group is one knowledge entry (or one unknown title). Inside it, endpoints that share the same
context (port, software, version, severity, applicable notes) share one :class:`Variant` whose
representative :class:`~advisor.advise.advice.Advice` is rendered once; only endpoint strings are
kept for the rest. That keeps a 100k-host scan readable and its memory small.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from advisor.advise.accept import Acceptance
from advisor.advise.advice import Advice, severity_rank
from advisor.findings.model import Finding, Kind, Location
from advisor.kb import Verdict
from advisor.kb.informational import InfoLine, Informational
from advisor.kb.schema import Entry
from advisor.model import ScanInfo

#: Kinds whose title is the host's own text (a vulns table's title, the first line of free-form
#: output such as an EHLO reply naming the host): evidence, not context. With an entry, findings
#: that differ only there share a variant (its representative's output is shown), or a 10k-host
#: estate would get one variant per mail server name, most of them never listed.
_TITLE_IS_EVIDENCE = (Kind.VULNS, Kind.OUTPUT)

#: Unknown-script samples kept per script id.
UNKNOWN_SAMPLES = 3


@dataclass
class Variant:
    advice: Advice
    locations: list[Location] = field(default_factory=list)
    """Every endpoint with this context (service details dropped to save memory)."""

    @property
    def endpoints(self) -> list[str]:
        return [loc.endpoint for loc in self.locations]

    def __getstate__(self) -> tuple[Advice, tuple[list[object], ...]]:
        # Pickled by columns (a part of a scan read in parallel goes to the parent this way):
        # far fewer objects for pickle to track than one Location each.
        locs = self.locations
        return self.advice, (
            [loc.host for loc in locs],
            [loc.hostname for loc in locs],
            [loc.port for loc in locs],
            [loc.protocol for loc in locs],
            [loc.scope for loc in locs],
        )

    def __setstate__(self, state: tuple[Advice, tuple[list[Any], ...]]) -> None:
        self.advice, (hosts, names, ports, protocols, scopes) = state
        self.locations = [
            Location(h, n, p, proto, None, scope)
            for h, n, p, proto, scope in zip(hosts, names, ports, protocols, scopes, strict=True)
        ]


@dataclass
class Group:
    key: str
    title: str
    script: str
    entry: Entry | None
    severity: str = "info"
    count: int = 0
    variants: dict[tuple[object, ...], Variant] = field(default_factory=dict)
    _hosts: tuple[int, frozenset[str]] = field(default=(-1, frozenset()), repr=False)

    @property
    def hosts(self) -> frozenset[str]:
        """The hosts affected (worked out from the endpoints when asked: a set per group would
        hold every address of a large scan again)."""
        if self._hosts[0] != self.count:
            hosts = frozenset(loc.host for v in self.variants.values() for loc in v.locations)
            self._hosts = (self.count, hosts)
        return self._hosts[1]

    def sorted_variants(self) -> list[Variant]:
        return sorted(
            self.variants.values(),
            key=lambda v: (-severity_rank(v.advice.severity), -len(v.locations)),
        )


#: Endpoints listed for a script advisor has no entry for (``count`` has them all).
UNKNOWN_ENDPOINTS = 200


@dataclass
class UnknownScript:
    script: str
    count: int = 0
    samples: list[Finding] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    """The first :data:`UNKNOWN_ENDPOINTS` endpoints, in scan order."""
    hosts: int = 0
    """Hosts it ran on (a host's results come together in a scan: counted as they change)."""
    last_host: str | None = field(default=None, repr=False)

    def count_host(self, host: str) -> None:
        if host != self.last_host:
            self.hosts += 1
            self.last_host = host


@dataclass(frozen=True, slots=True)
class InformationalScript:
    """Output of a script that only describes (or of a script with entries, that matched
    none of them): shown as one line, severity info, with where it ran; never a finding."""

    script: str
    info: InfoLine
    count: int
    """Endpoints (ports, or hosts for host scripts) where it produced output."""
    hosts: int

    severity = "info"


def split_unknown(
    report: Report, informational: Informational
) -> tuple[list[InformationalScript], list[UnknownScript]]:
    """The report's scripts without a matching entry: those with an informational line
    (``knowledge/informational.toml``), and the rest (still "no knowledge entry"), each by
    script id."""
    lines: list[InformationalScript] = []
    rest: list[UnknownScript] = []
    for unknown in sorted(report.unknown.values(), key=lambda u: u.script):
        info = informational.get(unknown.script)
        if info is None:
            rest.append(unknown)
        else:
            lines.append(InformationalScript(unknown.script, info, unknown.count, unknown.hosts))
    return lines, rest


@dataclass(frozen=True, slots=True)
class Counted:
    """Where :meth:`Report.add` put a finding: its group and variant."""

    group: Group
    variant: Variant
    severity: str
    false_positive: bool


@dataclass(frozen=True, slots=True)
class Clean:
    """A check that came back clean, counted under ``title``."""

    title: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """Not counted anywhere (``--ignore``)."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """Output of a script advisor has no entry for, counted under ``script`` once its
    samples are complete (a repeat then only adds a count and an endpoint)."""

    script: str


Outcome = Counted | Clean | Skipped | Unknown | None
"""What :meth:`Report.add` did with an advice; None when it cannot simply be repeated
(output kept as a sample of an unknown script, a finding under an accepted risk)."""


@dataclass
class AcceptedGroup:
    entry: Entry
    rule: Acceptance
    endpoints: list[str] = field(default_factory=list)


@dataclass
class Report:
    scan: ScanInfo = field(default_factory=ScanInfo)
    source: str = "-"
    groups: dict[str, Group] = field(default_factory=dict)
    clean: Counter[str] = field(default_factory=Counter)
    """Checked and clean: title -> count of endpoints."""
    unknown: dict[str, UnknownScript] = field(default_factory=dict)
    hosts_read: int = 0
    hosts_up: int = 0
    ports_open: int = 0
    scripts_seen: int = 0
    severity_counts: Counter[str] = field(default_factory=Counter)
    false_positive_count: int = 0
    warnings: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    """Lines describing the evidence used (files read, commands run, assumptions)."""
    unconfirmed: set[str] = field(default_factory=set)
    """Software guessed (not confirmed by the server's own evidence) for some finding."""
    accepted: dict[tuple[str, int], AcceptedGroup] = field(default_factory=dict)
    """Findings covered by an accepted-risk rule that has not expired."""
    expired_acceptances: int = 0

    def accept(self, advice: Advice, rule: Acceptance) -> None:
        assert advice.entry is not None
        key = (advice.entry.id, id(rule))
        group = self.accepted.get(key)
        if group is None:
            group = self.accepted[key] = AcceptedGroup(advice.entry, rule)
        group.endpoints.append(advice.finding.location.endpoint)

    # -- building --------------------------------------------------------------------------
    def add(self, advice: Advice) -> Outcome:
        """Take one advice; say where it went (see :class:`Counted` and :meth:`replay`)."""
        finding = advice.finding
        if advice.verdict is Verdict.CLEAN:
            if advice.entry is not None:
                title = advice.entry.title
            elif finding.kind is Kind.PROTOCOL:
                title = f"{finding.script}: {finding.title} offered (not deprecated)"
            elif finding.kind is Kind.GRADE:
                title = f"{finding.script}: weakest cipher grade {finding.title}"
            else:
                title = f"{finding.script}: {finding.title}"
            self.clean[title] += 1
            return Clean(title)
        if advice.verdict is Verdict.UNKNOWN and finding.kind in (Kind.OUTPUT,):
            unknown = self.unknown.setdefault(finding.script, UnknownScript(finding.script))
            unknown.count += 1
            unknown.count_host(finding.location.host)
            if len(unknown.endpoints) < UNKNOWN_ENDPOINTS:
                unknown.endpoints.append(finding.location.endpoint)
            if len(unknown.samples) < UNKNOWN_SAMPLES:
                unknown.samples.append(finding)
                return None  # a repeat may still be a sample: advise it again
            return Unknown(finding.script)
        entry = advice.entry
        key = entry.id if entry else f"{finding.script}|{finding.title}"
        group = self.groups.get(key)
        if group is None:
            title = entry.title if entry else finding.title
            group = self.groups[key] = Group(key, title, finding.script, entry)
        ident = advice.identity
        if finding.location.port is not None and ident.confidence != "high":
            if ident.software:
                self.unconfirmed.add(ident.software)
            else:
                self.unconfirmed.update(ident.candidates or ("unknown",))
        if severity_rank(advice.severity) > severity_rank(group.severity) or group.count == 0:
            group.severity = advice.severity
        ctx = (
            finding.location.port,
            finding.location.scope,
            advice.severity,
            ident.software,
            ident.version,
            ident.candidates,
            advice.false_positives,
            tuple(c.applies for c in advice.fixes),
            advice.notes,
            finding.title if entry is None or finding.kind not in _TITLE_IS_EVIDENCE else "",
            finding.state,
        )
        variant = group.variants.get(ctx)
        if variant is None:
            variant = group.variants[ctx] = Variant(advice)
        outcome = Counted(group, variant, advice.severity, bool(advice.false_positives))
        loc = finding.location
        if loc.service is not None:
            loc = Location(loc.host, loc.hostname, loc.port, loc.protocol, None, loc.scope)
        self.replay(outcome, loc)
        return outcome

    def replay(self, outcome: Counted | Clean | Skipped | Unknown, location: Location) -> None:
        """Count one more endpoint with the same advice as an earlier :meth:`add`.

        ``location`` should carry no service (it is kept for every endpoint)."""
        if isinstance(outcome, Skipped):
            return
        if isinstance(outcome, Clean):
            self.clean[outcome.title] += 1
            return
        if isinstance(outcome, Unknown):
            unknown = self.unknown[outcome.script]
            unknown.count += 1
            unknown.count_host(location.host)
            if len(unknown.endpoints) < UNKNOWN_ENDPOINTS:
                unknown.endpoints.append(location.endpoint)
            return
        group = outcome.group
        group.count += 1
        outcome.variant.locations.append(location)
        self.severity_counts[outcome.severity] += 1
        if outcome.false_positive:
            self.false_positive_count += 1

    def merge(self, later: Report) -> None:
        """Add the report of the hosts that follow this report's in the scan.

        Used to join the parts of a scan read in parallel (:mod:`advisor.parallel`): merged in
        document order, the result is the report one sequential read gives."""
        for key, group in later.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = group
                continue
            if severity_rank(group.severity) > severity_rank(mine.severity):
                mine.severity = group.severity
            mine.count += group.count
            for ctx, variant in group.variants.items():
                own = mine.variants.get(ctx)
                if own is None:
                    mine.variants[ctx] = variant
                else:
                    own.locations.extend(variant.locations)
        self.clean.update(later.clean)
        for script, unknown in later.unknown.items():
            own_unknown = self.unknown.get(script)
            if own_unknown is None:
                self.unknown[script] = unknown
                continue
            own_unknown.count += unknown.count
            # parts are cut between hosts: a host is never in two of them
            own_unknown.hosts += unknown.hosts
            own_unknown.last_host = unknown.last_host
            room = UNKNOWN_SAMPLES - len(own_unknown.samples)
            own_unknown.samples.extend(unknown.samples[: max(0, room)])
            room = UNKNOWN_ENDPOINTS - len(own_unknown.endpoints)
            own_unknown.endpoints.extend(unknown.endpoints[: max(0, room)])
        for key2, accepted in later.accepted.items():
            own_accepted = self.accepted.get(key2)
            if own_accepted is None:
                self.accepted[key2] = accepted
            else:
                own_accepted.endpoints.extend(accepted.endpoints)
        self.hosts_read += later.hosts_read
        self.hosts_up += later.hosts_up
        self.ports_open += later.ports_open
        self.scripts_seen += later.scripts_seen
        self.severity_counts.update(later.severity_counts)
        self.false_positive_count += later.false_positive_count
        self.expired_acceptances += later.expired_acceptances
        self.unconfirmed |= later.unconfirmed
        self.warnings.extend(w for w in later.warnings if w not in self.warnings)
        self.evidence.extend(e for e in later.evidence if e not in self.evidence)
        self.scan = later.scan  # the last part knows how the scan ended

    # -- reading ---------------------------------------------------------------------------
    def sorted_groups(self) -> list[Group]:
        return sorted(
            self.groups.values(), key=lambda g: (-severity_rank(g.severity), -g.count, g.key)
        )

    @property
    def finding_count(self) -> int:
        return sum(g.count for g in self.groups.values())

    def worst(self) -> str | None:
        levels = [g.severity for g in self.groups.values()]
        return max(levels, key=severity_rank) if levels else None
