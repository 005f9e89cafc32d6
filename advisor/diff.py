"""``advisor diff BEFORE AFTER``: which findings were fixed, which are new, which are still open.

A finding is identified by stable fields only: host, port, protocol and knowledge entry (or
script and title when no entry knows it), never by output text or times. A finding of BEFORE
counts as *fixed* only when AFTER looked at the same host and port again and found the port
open (the host up, for host-level findings); if AFTER did not scan it, or found the port
closed or filtered or the host down, it is *not rechecked*: a smaller scan, a stopped server
or a firewall in the way is not a fix.

Both sides are advised exactly as ``advisor explain`` would advise them with the same options:
``--ignore`` leaves entries out of both, severities are the contextual ones (port 25 is not
465), and server evidence shapes who answers on each port. A finding of AFTER under an
accepted-risk rule that has not expired is *accepted*: listed apart, never *still open* or
*new*, and it does not set the exit code. Once the rule has expired it counts again (and says
so), as in ``advisor explain``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from advisor.advise.accept import Acceptance, find_acceptance
from advisor.advise.advice import Advice, severity_rank
from advisor.advise.context import display_name
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase, Verdict
from advisor.model import Host, ScanInfo

Key = tuple[str, int | None, str | None, str]
"""(host, port, protocol, kb id or "script|title")."""


@dataclass(frozen=True, slots=True)
class Item:
    """One finding of one side, reduced to what the diff shows."""

    host: str
    port: int | None
    protocol: str | None
    kb_id: str | None
    title: str
    script: str
    severity: str
    """The contextual severity advice gives (the entry's context rules applied)."""
    severity_reason: str = ""
    contextual: bool = False
    """Whether ``severity`` differs from the entry's own level because of its context (a
    context rule such as "port 25, opportunistic TLS", or the CVSS score of the rows)."""
    software: str | None = None
    """Who answers on the port (``postfix``), as advice identified it."""
    version: str | None = None
    confidence: str = "low"
    """``high`` (the server's own evidence), ``medium`` (nmap -sV), ``low`` (port only)."""
    identified_by: str | None = None
    """The source of the strongest clue (``ss``, ``config``, ``nmap -sV``, ``port``...)."""
    acceptance: Acceptance | None = None
    """The accepted-risk rule that covers this finding: in force for an item of
    :attr:`Diff.accepted`, expired for an item of any other list."""

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}/{self.protocol or 'tcp'}"

    @property
    def who(self) -> str | None:
        """``Postfix 3.7.11 (confidence high, from ss)``, or None when nothing is known."""
        if self.software is None:
            return None
        name = display_name(self.software)
        if self.version:
            name += f" {self.version}"
        source = f", from {self.identified_by}" if self.identified_by else ""
        return f"{name} (confidence {self.confidence}{source})"


@dataclass
class Side:
    info: ScanInfo = field(default_factory=ScanInfo)
    items: dict[Key, Item] = field(default_factory=dict)
    """Findings that count (open)."""
    endpoints: set[tuple[str, int | None]] = field(default_factory=set)
    """Every (host, port) the scan looked at, plus (host, None) for every host."""
    accepted: dict[Key, Item] = field(default_factory=dict)
    """Findings under an accepted-risk rule that has not expired."""
    ignored: frozenset[str] = frozenset()
    """Entries left out (``--ignore``)."""
    evidence: list[str] = field(default_factory=list)
    """The evidence used, as ``advisor explain`` lists it."""
    warnings: list[str] = field(default_factory=list)


@dataclass
class Diff:
    before: Side
    after: Side
    fixed: list[Item] = field(default_factory=list)
    new: list[Item] = field(default_factory=list)
    still_open: list[Item] = field(default_factory=list)
    not_rechecked: list[Item] = field(default_factory=list)
    accepted: list[Item] = field(default_factory=list)
    """Findings of AFTER under an accepted-risk rule in force (not open, not counted)."""

    @property
    def ignored(self) -> frozenset[str]:
        return self.before.ignored | self.after.ignored

    @property
    def expired(self) -> list[Item]:
        """New or still-open findings whose acceptance has expired."""
        return [i for i in self.new + self.still_open if i.acceptance is not None]

    def worst_open(self) -> str | None:
        """The worst contextual severity among the new and still-open findings."""
        levels = [i.severity for i in self.new + self.still_open]
        return max(levels, key=severity_rank) if levels else None


def _item(advice: Advice, acceptance: Acceptance | None) -> tuple[Key, Item]:
    f = advice.finding
    loc = f.location
    entry = advice.entry
    ident = entry.id if entry is not None else f"{f.script}|{f.title}"
    identity = advice.identity
    item = Item(
        loc.host,
        loc.port,
        loc.protocol,
        entry.id if entry else None,
        entry.title if entry else f.title,
        f.script,
        advice.severity,
        severity_reason=advice.severity_reason,
        contextual=entry is not None
        and advice.verdict is Verdict.MATCHED
        and advice.severity_reason != entry.severity.reason,
        software=identity.software,
        version=identity.version,
        confidence=identity.confidence,
        identified_by=identity.clues[0].source if identity.clues else None,
        acceptance=acceptance,
    )
    return (loc.host, loc.port, loc.protocol, ident), item


def _rechecked(host: Host) -> list[tuple[str, int | None]]:
    """The endpoints of ``host`` whose findings this scan could have seen again: its open
    ports, and the host itself when it was up."""
    if host.status != "up":
        return []
    return [(host.address, None)] + [
        (host.address, p.portid) for p in host.ports if p.state == "open"
    ]


def read_side(stream: BinaryIO, kb: KnowledgeBase, options: Options, source: str) -> Side:
    """Advise one scan with ``options`` (ignore, acceptances, evidence, ``--os``...) and keep
    each finding's stable key and contextual severity.

    Accepted risks are matched here, on the same rule as :func:`advisor.api.explain`
    (:func:`~advisor.advise.accept.find_acceptance`, first rule covering the entry, host and
    port; expired after its date as of ``options.today``), because the diff needs each
    accepted finding's host and port."""
    side = Side(ignored=options.ignore)
    rules = options.acceptances

    def collect(advice: Advice) -> None:
        entry = advice.entry
        rule = None
        if rules and entry is not None and advice.verdict is Verdict.MATCHED:
            rule = find_acceptance(rules, entry.id, advice.finding)
        key, item = _item(advice, rule)
        target = (
            side.accepted if rule is not None and not rule.expired(options.today) else side.items
        )
        old = target.get(key)
        if old is None or severity_rank(item.severity) > severity_rank(old.severity):
            target[key] = item

    opts = replace(
        options,
        acceptances=[],
        on_advice=collect,
        on_repeat=None,
        on_host=lambda host: side.endpoints.update(_rechecked(host)),
    )
    report = explain(stream, kb, opts, source=source)
    side.info = report.scan
    side.evidence = list(report.evidence)
    side.warnings = list(report.warnings)
    return side


def _order(item: Item) -> tuple[int, str, str, int]:
    return (-severity_rank(item.severity), item.kb_id or "", item.host, item.port or 0)


def compare(before: Side, after: Side) -> Diff:
    """Sort the findings of both sides into new, still open, fixed, not rechecked, accepted."""
    diff = Diff(before, after)
    # a key is open or accepted, never both: the rule depends only on entry, host and port
    for key, item in (*before.items.items(), *before.accepted.items()):
        if key in after.items:
            diff.still_open.append(after.items[key])
        elif key in after.accepted:
            continue  # listed under accepted below
        elif (item.host, item.port) in after.endpoints:
            diff.fixed.append(item)
        else:
            diff.not_rechecked.append(item)
    seen = before.items.keys() | before.accepted.keys()
    diff.new = [item for key, item in after.items.items() if key not in seen]
    diff.accepted = list(after.accepted.values())
    for items in (diff.fixed, diff.new, diff.still_open, diff.not_rechecked, diff.accepted):
        items.sort(key=_order)
    return diff


@dataclass(frozen=True, slots=True)
class Group:
    """The items of one finding kind at one severity (and one acceptance), for the reports."""

    ident: str
    title: str
    severity: str
    """The contextual severity every item of the group has."""
    items: list[Item]
    reasons: tuple[str, ...] = ()
    """Why the severity differs from the entry's own level here (context rules), if it does."""
    acceptance: Acceptance | None = None
    who: tuple[str, ...] = ()
    """Who answers on the group's ports (distinct descriptions, see :attr:`Item.who`)."""


def grouped(items: list[Item]) -> Iterator[Group]:
    """One :class:`Group` per finding kind, severity and acceptance, worst first.

    Severity is part of the key: the same entry is ``info`` on port 25 and ``medium`` on 465,
    and each heading shows the severity of exactly the endpoints under it."""
    groups: dict[tuple[str, str, str, Acceptance | None], list[Item]] = {}
    for item in items:
        key = (item.kb_id or item.script, item.title, item.severity, item.acceptance)
        groups.setdefault(key, []).append(item)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (-severity_rank(kv[0][2]), kv[0][0], kv[0][1], _rule_order(kv[0][3])),
    )
    for (ident, title, severity, rule), members in ordered:
        reasons = tuple(dict.fromkeys(i.severity_reason for i in members if i.contextual))
        who = tuple(dict.fromkeys(w for w in (i.who for i in members) if w is not None))
        yield Group(ident, title, severity, members, reasons, rule, who)


def _rule_order(rule: Acceptance | None) -> tuple[str, str]:
    if rule is None:
        return ("", "")
    return (rule.expires.isoformat() if rule.expires else "~", rule.accepted_by)
