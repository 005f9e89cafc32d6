"""``advisor diff BEFORE AFTER``: which findings were fixed, which are new, which are still open.

A finding is identified by stable fields only: host, port, protocol and knowledge entry (or
script and title when no entry knows it), never by output text or times. A finding of BEFORE
counts as *fixed* only when AFTER looked at the same host and port again; if AFTER did not
scan it, it is *not rechecked* (a smaller scan is not a fix).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from advisor.advise.advice import Advice, severity_rank
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase
from advisor.model import ScanInfo

Key = tuple[str, int | None, str | None, str]
"""(host, port, protocol, kb id or "script|title")."""


@dataclass(frozen=True, slots=True)
class Item:
    host: str
    port: int | None
    protocol: str | None
    kb_id: str | None
    title: str
    script: str
    severity: str

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}/{self.protocol or 'tcp'}"


@dataclass
class Side:
    info: ScanInfo = field(default_factory=ScanInfo)
    items: dict[Key, Item] = field(default_factory=dict)
    endpoints: set[tuple[str, int | None]] = field(default_factory=set)
    """Every (host, port) the scan looked at, plus (host, None) for every host."""


@dataclass
class Diff:
    before: Side
    after: Side
    fixed: list[Item] = field(default_factory=list)
    new: list[Item] = field(default_factory=list)
    still_open: list[Item] = field(default_factory=list)
    not_rechecked: list[Item] = field(default_factory=list)

    def worst_open(self) -> str | None:
        levels = [i.severity for i in self.new + self.still_open]
        return max(levels, key=severity_rank) if levels else None


def _item(advice: Advice) -> tuple[Key, Item]:
    f = advice.finding
    loc = f.location
    entry = advice.entry
    ident = entry.id if entry is not None else f"{f.script}|{f.title}"
    item = Item(
        loc.host,
        loc.port,
        loc.protocol,
        entry.id if entry else None,
        entry.title if entry else f.title,
        f.script,
        advice.severity,
    )
    return (loc.host, loc.port, loc.protocol, ident), item


def read_side(stream: BinaryIO, kb: KnowledgeBase, options: Options, source: str) -> Side:
    side = Side()

    def collect(advice: Advice) -> None:
        key, item = _item(advice)
        old = side.items.get(key)
        if old is None or severity_rank(item.severity) > severity_rank(old.severity):
            side.items[key] = item

    opts = Options(
        evidence=options.evidence,
        os_defaults=options.os_defaults,
        os_name=options.os_name,
        ignore=options.ignore,
        acceptances=options.acceptances,
        today=options.today,
        on_advice=collect,
        on_host=lambda host: side.endpoints.update(
            [(host.address, None)] + [(host.address, p.portid) for p in host.ports]
        ),
    )
    report = explain(stream, kb, opts, source=source)
    side.info = report.scan
    return side


def compare(before: Side, after: Side) -> Diff:
    diff = Diff(before, after)
    for key, item in before.items.items():
        if key in after.items:
            diff.still_open.append(after.items[key])
        elif (item.host, item.port) in after.endpoints:
            diff.fixed.append(item)
        else:
            diff.not_rechecked.append(item)
    diff.new = [item for key, item in after.items.items() if key not in before.items]
    for items in (diff.fixed, diff.new, diff.still_open, diff.not_rechecked):
        items.sort(key=lambda i: (-severity_rank(i.severity), i.kb_id or "", i.host, i.port or 0))
    return diff


def grouped(items: list[Item]) -> Iterator[tuple[str, str, str, list[Item]]]:
    """(kb id or script, title, worst severity, items) per finding kind, worst first."""
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault((item.kb_id or item.script, item.title), []).append(item)
    ordered = sorted(
        groups.items(), key=lambda kv: (-max(severity_rank(i.severity) for i in kv[1]), kv[0])
    )
    for (ident, title), members in ordered:
        worst = max((i.severity for i in members), key=severity_rank)
        yield ident, title, worst, members
