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
from functools import lru_cache
from typing import BinaryIO, Protocol

from advisor.advise.accept import Acceptance, find_acceptance
from advisor.advise.advice import (
    Advice,
    Placeable,
    VerifyAt,
    advice_for_context,
    advise,
    clear_advice_cache,
    finding_reads,
    place,
    uses_host,
)
from advisor.advise.context import Clue, identify
from advisor.advise.identification import HostProfile, host_profile
from advisor.advise.report import Counted, Outcome, Report, Skipped
from advisor.evidence.distros import DistroPackages, guess_from_host
from advisor.evidence.distros import lookup as lookup_release
from advisor.findings import host_scripts, run_findings
from advisor.findings.memo import FindingMemo, Template
from advisor.findings.model import Finding, Location
from advisor.kb import KnowledgeBase, MatchResult, Verdict
from advisor.model import Host, describe_repairs
from advisor.scan import open_scan
from advisor.scan.xml import forget_services


@dataclass
class Options:
    """What shapes the advice beyond the scan itself."""

    evidence: EvidenceLookup | None = None
    os_defaults: dict[str, str] | None = None
    """Software -> version assumed from ``--os`` (e.g. ``{"postfix": "3.4.13"}``)."""
    os_name: str | None = None
    """The assumed release's name (``Ubuntu 20.04 LTS``)."""
    os_how: tuple[str, str] | None = None
    """How it was chosen, as a message key and its detail (``assumed_given``, ``--os ...``)."""
    on_advice: Callable[[Advice], None] | None = None
    """Called for every advice (the JSON renderer streams findings through it)."""
    on_repeat: Callable[[Advice, Finding, Location, VerifyAt], None] | None = None
    """With ``on_advice``: called instead of it for a finding that repeats one advised
    earlier in the same context (same script result, port, service and assumed release)
    and whose advice does not name the host, with the earlier advice ``first``, the repeat's
    location-free finding (``first``'s, or the same under another run-numbered table key),
    its location and the context's verify steps. The advice ``on_advice`` would have got is
    ``replace(first, finding=finding.at(where), verify=verify.at(where))``. Lets a consumer
    that only writes records skip building it (the JSON spool)."""
    progress: Callable[[int], None] | None = None
    on_host: Callable[[Host], None] | None = None
    """Called for every host read (``advisor diff`` records what was scanned)."""
    ignore: frozenset[str] = field(default_factory=frozenset)
    guess_os: bool = True
    """Without ``--os``, guess each host's release from nmap's -sV and OS hints."""
    acceptances: list[Acceptance] = field(default_factory=list)
    """Accepted risks (``--accept FILE``)."""
    today: date = field(default_factory=date.today)
    reuse: bool = True
    """Read each distinct script result once and replay the advice for repeats (see
    :mod:`advisor.findings.memo`). Off only to check that it changes nothing."""


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


def release_defaults(release: DistroPackages) -> dict[str, str]:
    """Software key -> upstream version that a release ships."""
    out = {}
    for key in ("postfix", "dovecot", "nginx", "apache", "openssl", "openssh"):
        version = release.version_of(key)
        if version:
            out[key] = version
    return out


def _assumed_release(host: Host) -> tuple[dict[str, str], str, tuple[str, str]] | None:
    services = tuple(
        (p.service.product, p.service.version, p.service.extrainfo, p.service.cpes)
        for p in host.ports
        if p.service is not None and p.service.product
    )
    if not services and not host.os_matches:
        return None
    return _guess_release(services, host.os_matches)


@lru_cache(maxsize=4096)
def _guess_release(
    services: tuple[tuple[str, str, str, tuple[str, ...]], ...], os_matches: tuple[str, ...]
) -> tuple[dict[str, str], str, tuple[str, str]] | None:
    guess = guess_from_host(services, os_matches)
    if guess is None or guess.os_id is None:
        return None
    release = lookup_release(guess.os_id)
    if release is None:
        return None
    return release_defaults(release), release.name, ("assumed_guessed", guess.reason)


def forget_caches(kb: KnowledgeBase) -> None:
    """Drop what the advise stage memoised across hosts (advice per context, entry matches,
    release guesses, services): a worker calls it once its part is read, before it writes
    its report, so that the memory the caches held serves the writing instead."""
    clear_advice_cache()
    kb.forget_matches()
    _guess_release.cache_clear()
    forget_services()


def scan_time(start: int | None) -> datetime:
    if start:
        try:
            return datetime.fromtimestamp(start, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(tz=UTC)


def advise_finding(
    finding: Finding,
    kb: KnowledgeBase,
    options: Options,
    assumed: tuple[dict[str, str], str, tuple[str, str]] | None = None,
    host: HostProfile | None = None,
) -> list[Advice]:
    """Knowledge plus evidence for one finding (one advice per matching entry).

    ``assumed``: package versions of the release the host is guessed to run, and what the
    guess rests on (used when ``--os`` is not given). ``host``: what nmap's identification
    says about the finding's host (appliance, honeypot; :func:`host_profile`)."""
    loc = finding.location
    view = options.evidence.for_finding(finding) if options.evidence else None
    os_defaults, os_name, os_how = options.os_defaults, options.os_name, options.os_how
    if os_defaults is None and assumed is not None:
        os_defaults, os_name, os_how = assumed
    identity = identify(
        loc.port,
        loc.service,
        strong=view.clues() if view else None,
        os_default=os_defaults,
        os_name=os_name,
        os_how=os_how,
        host=host,
    )
    service = view.service_name() if view else None
    out = []
    for result in kb.match_all(finding):
        advice = advise(finding, result, identity, service)
        out.append(view.refine(advice) if view else advice)
    return out


#: Replay plans kept (advice signature x endpoint context); past it they start afresh.
MAX_PLANS = 8_000


def _signature(finding: Finding, kb: KnowledgeBase) -> tuple[object, ...]:
    """What advising ``finding`` and counting it in the report read of the finding: which
    entries match it and what their advice reads of it (:func:`finding_reads`), and the
    fields the report groups by. Findings with equal signatures at the same endpoint context
    have the same outcome, whatever their evidence lines, so one plan replays for all of
    them."""
    return (
        finding.script,
        finding.kind,
        finding.state,
        finding.title,
        tuple((id(r.entry), finding_reads(finding, r)) for r in kb.match_all(finding)),
    )


def explain(
    stream: BinaryIO,
    kb: KnowledgeBase | None = None,
    options: Options | None = None,
    source: str = "-",
) -> Report:
    """Read ``stream`` (nmap XML or text) and return the grouped report."""
    return explain_part(stream, kb, options, source)


def explain_part(
    stream: BinaryIO,
    kb: KnowledgeBase | None = None,
    options: Options | None = None,
    source: str = "-",
    prescripts: bool = True,
    line_offset: Callable[[], int] | None = None,
    threaded: bool = True,
) -> Report:
    """:func:`explain`, for one part of a scan read in parallel (see :mod:`advisor.parallel`):
    ``prescripts=False`` leaves the pre-scan scripts to the first part, ``line_offset`` counts
    the lines before this part, ``threaded=False`` keeps parsing in this thread (when every
    CPU already has a part to read)."""
    kb = kb or KnowledgeBase.load()
    options = options or Options()
    scan = open_scan(stream, options.progress, line_offset, threaded)
    report = Report(source=source)
    when = scan_time(scan.info.start)
    memo = FindingMemo(when, enabled=options.reuse)
    plans: dict[tuple[object, ...], list[_Step]] = {}
    # A repeat of a finding already advised in the same context replays that outcome.
    # Server evidence and accepted risks look at each endpoint, so they advise every one.
    replay = options.reuse and options.evidence is None and not options.acceptances
    on_advice = options.on_advice
    on_repeat = options.on_repeat if on_advice is not None else None

    assumed: tuple[dict[str, str], str, tuple[str, str]] | None = None
    assumed_ids: dict[object, int] = {None: 0}
    assumed_key = 0
    profile: HostProfile | None = None
    profile_ids: dict[HostProfile | None, int] = {None: 0}
    profile_key = 0

    def take(finding: Finding) -> list[_Step]:
        """Advise a finding; the steps taken, to replay for its repeats."""
        return [
            _Step(keep(advice), advice)
            for advice in advise_finding(finding, kb, options, assumed, profile)
        ]

    def take_template(template: Template, where: Location, bare: Location) -> None:
        if not replay:
            take(template.finding.at(where))
            return
        sig = template.sig
        if sig is None:
            sig = template.sig = _signature(template.finding, kb)
        context = (
            sig,
            where.port,
            where.protocol,
            where.scope,
            where.service,
            assumed_key,
            profile_key,
        )
        plan = plans.get(context)
        if plan is None:
            done = take(template.finding.at(where))
            if all(step.outcome is not None for step in done):
                if len(plans) >= MAX_PLANS:
                    plans.clear()  # contexts that never repeat
                plans[context] = done
            return
        for step in plan:
            outcome = step.outcome
            assert outcome is not None
            report.replay(outcome, bare)
            if on_advice is not None and isinstance(outcome, Counted):
                if on_repeat is not None and not step.host_specific:
                    on_repeat(step.advice, template.finding, where, step.context()[1])
                else:
                    on_advice(step.placed(template.finding.at(where)))

    def keep(advice: Advice) -> Outcome:
        finding = advice.finding
        entry = advice.entry
        if entry is not None and entry.id in options.ignore:
            return Skipped()
        if entry is not None and options.acceptances and advice.verdict is Verdict.MATCHED:
            rule = find_acceptance(options.acceptances, entry.id, finding)
            if rule is not None and not rule.expired(options.today):
                report.accept(advice, rule)
                return None
            if rule is not None:
                note = (
                    f"**Risk acceptance expired** on {rule.expires}: this finding counts again "
                    f"({rule.describe()})."
                )
                advice = replace(advice, notes=(*advice.notes, note))
                report.expired_acceptances += 1
        outcome = report.add(advice)
        if isinstance(outcome, Counted) and options.on_advice is not None:
            options.on_advice(advice)
        return outcome

    prescripts_done = not prescripts
    for host in scan:
        if not prescripts_done:
            prescripts_done = True
            for finding in run_findings(scan.prescripts, "prescript", when):
                take(finding)
        report.hosts_read += 1
        if options.on_host is not None:
            options.on_host(host)
        guess = _assumed_release(host) if options.os_defaults is None and options.guess_os else None
        if guess is not assumed:  # equal hosts get the same (cached) guess
            assumed = guess
            # a small int stands for the assumption in replay keys (hashed at every finding)
            assumed_key = assumed_ids.setdefault(_frozen_assumption(guess), len(assumed_ids))
        profile = host_profile(host)
        # a small int stands for the profile in replay keys; most hosts have none (0)
        profile_key = profile_ids.setdefault(profile, len(profile_ids)) if profile else 0
        if host.status == "up":
            report.hosts_up += 1
        report.ports_open += sum(1 for p in host.ports if p.state.startswith("open"))
        report.scripts_seen += sum(len(p.scripts) for p in host.ports) + len(host.hostscripts)
        for where, scripts in host_scripts(host):
            bare = Location(
                where.host, where.hostname, where.port, where.protocol, None, where.scope
            )
            for script in scripts:
                for template in memo.templates(script):
                    take_template(template, where, bare)
    profile = None  # pre- and post-scan results belong to no host
    if not prescripts_done:
        for finding in run_findings(scan.prescripts, "prescript", when):
            take(finding)
    for finding in run_findings(scan.postscripts, "postscript", when):
        take(finding)
    report.scan = scan.info
    if not scan.info.complete and scan.info.problem:
        report.warnings.insert(0, scan.info.problem)
    if scan.info.recovered:
        report.warnings.append(describe_repairs(scan.info.recovered))
    if options.evidence is not None:
        report.evidence.extend(options.evidence.describe())
    return report


@dataclass(slots=True)
class _Step:
    """What advising one finding did: replayed for the same finding in the same context."""

    outcome: Outcome
    advice: Advice
    placeable: Placeable | None = None
    host_specific: bool = field(init=False)
    """Whether the entry's fixes name the host (then every host's advice differs)."""

    def __post_init__(self) -> None:
        self.host_specific = uses_host(self.advice.entry)

    def placed(self, finding: Finding) -> Advice:
        """The same advice for ``finding`` (a repeat elsewhere), with its own verify commands.

        The memoised context is looked up once and kept, unless the entry's fixes name the
        host (then every host's advice differs)."""
        first = self.advice
        if self.host_specific:
            return advise(finding, MatchResult(first.verdict, first.entry), first.identity)
        return place(self.context(), finding)

    def context(self) -> Placeable:
        """The advice of this step's context (replays share port, scope and service)."""
        if self.placeable is None:
            first = self.advice
            result = MatchResult(first.verdict, first.entry)
            self.placeable = advice_for_context(first.finding, result, first.identity)
        return self.placeable


def _frozen_assumption(
    assumed: tuple[dict[str, str], str, tuple[str, str]] | None,
) -> object:
    if assumed is None:
        return None
    defaults, name, how = assumed
    return (tuple(sorted(defaults.items())), name, how)
