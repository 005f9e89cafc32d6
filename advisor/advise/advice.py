"""Stage 4: apply knowledge and evidence to one finding, giving :class:`Advice`.

Severity follows the entry's context rules (port 25 is not 465), false-positive notes are
kept only when their conditions hold, and fixes are chosen for the software and version behind
the port, with placeholders such as ``{service}`` filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.advise.context import Identity, display_name, tls_mode
from advisor.advise.identification import Indicator, Vocabulary, vocabulary
from advisor.advise.packages import UNKNOWN as UNKNOWN_PACKAGE
from advisor.advise.packages import package_for
from advisor.advise.packages import vendor_product as own_product
from advisor.findings.model import (
    DOS,
    EXPLOITABLE,
    LIKELY_VULNERABLE,
    UNKNOWN_STATE,
    Finding,
    Kind,
    Location,
)
from advisor.kb import MatchResult, Verdict
from advisor.kb.schema import Condition, Entry, Fix, NotFix
from advisor.kb.versions import parse_version
from advisor.messages import Code, Msg, Note, english, msg

SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")
#: The severity of a finding on a host that shows itself as a honeypot (a likely false
#: positive): low, not info, so that it still counts (``--fail-on low``) should the host be
#: a real system that only looks like one.
HONEYPOT_SEVERITY = "low"


def severity_rank(level: str) -> int:
    return SEVERITY_ORDER.index(level) if level in SEVERITY_ORDER else 0


@dataclass(frozen=True, slots=True)
class ChosenFix:
    fix: Fix
    commands: tuple[str, ...]
    config: str
    applies: str
    applies_parts: tuple[Msg, ...] = ()
    """``applies`` as translatable messages."""
    """Why this fix is shown, e.g. ``Postfix <3.6 (version not known: pick yours)``."""
    already_applied: str | None = None
    """Set by the evidence stage when the configuration already contains this change."""


@dataclass(frozen=True, slots=True)
class Advice:
    finding: Finding
    verdict: Verdict
    entry: Entry | None
    severity: str
    severity_reason: str
    tls_mode: str | None
    identity: Identity
    false_positives: tuple[Note, ...] = ()
    """False-positive notes that apply: the entry's (Markdown text) and advisor's own for
    this host (messages: a honeypot naming what gave it away)."""
    fixes: tuple[ChosenFix, ...] = ()
    not_fixes: tuple[NotFix, ...] = ()
    verify: tuple[tuple[str, str], ...] = ()
    notes: tuple[Note, ...] = ()
    """Evidence-derived remarks (effective settings, 'fix already applied', ...)."""
    severity_parts: tuple[Msg, ...] = ()
    """:attr:`severity_reason` as messages, when advisor wrote it (a honeypot's lowered
    severity); empty when the reason is the entry's text."""


def _holds(cond: Condition, finding: Finding, mode: str | None, identity: Identity) -> bool:
    loc = finding.location
    software = {identity.software} if identity.software else set(identity.candidates)
    if cond.ports and loc.port not in cond.ports:
        return False
    service = loc.service.name.lower() if loc.service and loc.service.name else ""
    if cond.services and service not in cond.services:
        return False
    if cond.tls_mode and cond.tls_mode != mode:
        return False
    if cond.software and not software.intersection(cond.software):
        return False
    if cond.not_software and (identity.software is None or identity.software in cond.not_software):
        return False
    if cond.states and finding.state not in cond.states:
        return False
    if cond.honeypot is not None and bool(identity.honeypot) is not cond.honeypot:
        return False
    if cond.check_results:
        text = "\n".join(finding.check_results)
        if not any(p.search(text) for p in cond.check_results):
            return False
    return True


def _unknown_severity(finding: Finding) -> tuple[str, Msg]:
    """Severity of a finding no entry explains, and why (a message)."""
    if finding.kind is Kind.VULNS:
        if finding.state in (EXPLOITABLE,):
            return "high", msg("sev_unknown_exploited")
        if finding.state in (DOS,):
            return "medium", msg("sev_unknown_dos")
        if finding.state == LIKELY_VULNERABLE:
            return "low", msg("sev_unknown_likely")
        if finding.state == UNKNOWN_STATE:
            return "info", msg("sev_unknown_untested")
        return "medium", msg("sev_unknown_vulnerable")
    return "info", msg("sev_unknown_freeform")


def _cvss_severity(finding: Finding, level: str, reason: str) -> tuple[str, str, tuple[Msg, ...]]:
    """Version-based lookups: the band of the highest CVSS score among the rows (and the
    reason as messages, empty when it is the entry's own)."""
    try:
        top = float(finding.detail("max_cvss") or "")
    except ValueError:
        return level, reason, ()
    band = (
        "critical"
        if top >= 9.0
        else "high"
        if top >= 7.0
        else "medium"
        if top >= 4.0
        else "low"
        if top > 0
        else "info"
    )
    rows = finding.detail("rows") or "?"
    exploits = finding.detail("exploits") or "0"
    parts = (msg("sev_cvss", rows=rows, top=f"{top:.1f}", exploits=exploits),)
    return band, english(parts), parts


def default_service_name(port: int | None, version: tuple[int, ...] | None) -> str:
    """The master.cf service name Postfix's own template uses for a port."""
    if port == 465:
        return "smtps" if version is not None and version < (3, 5) else "submissions"
    if port == 587:
        return "submission"
    return "smtp"


def _fill(text: str, finding: Finding, service: str) -> str:
    loc = finding.location
    return _host_for(loc).join(_fill_parts(text, loc, service))


#: The placeholders an entry's commands, configuration, notes and verify steps may use.
PLACEHOLDERS = ("{host}", "{port}", "{service}")
#: ... and those notes may use too: the package of the product nmap identified (Debian/Ubuntu
#: and RHEL names, advisor/data/packages.toml), that product, and a CVE of the finding's rows.
NOTE_PLACEHOLDERS = ("{deb_package}", "{rpm_package}", "{product}", "{cve}")


def fill_text(text: str, finding: Finding, identity: Identity | None = None) -> str:
    """Entry text that is shown per endpoint (a note, a false-positive note, an expected
    result, in any language) with :data:`PLACEHOLDERS` filled in as in the commands, and
    :data:`NOTE_PLACEHOLDERS` from the finding; the service is the Postfix default for the
    port (notes do not get the master.cf name). Notes are trusted Markdown, so what comes
    from the scan is reduced to plain characters first."""
    if "{" not in text:
        return text
    location = finding.location
    if any(p in text for p in NOTE_PLACEHOLDERS):
        for name, value in _note_values(finding).items():
            text = text.replace(name, value)
    version = parse_version(identity.version) if identity is not None else None
    service = default_service_name(location.port, version)
    host = _host_for(location)
    if not _PLAIN_HOST.fullmatch(host):
        host = "HOST"  # an odd address from the scan stays out of Markdown
    return host.join(_fill_parts(text, location, service))


#: An IPv4/IPv6 address or a DNS name: what may go into a note's text as the host.
_PLAIN_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:%_-]{0,252}")
_CVE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,7}")
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9 .+:/()_-]")


def _note_values(finding: Finding) -> dict[str, str]:
    """What :data:`NOTE_PLACEHOLDERS` become for ``finding``: the product of its vulners row
    (a CPE) or of the port's -sV, its package, and its highest-scored CVE."""
    service = finding.location.service
    own = finding.detail("cpe") or ""
    cpes = tuple(c for c in (own, *(service.cpes if service else ())) if c.startswith("cpe:"))
    product = " ".join(p for p in (service.product, service.version) if p) if service else ""
    if (
        own.startswith("cpe:")
        and service is not None
        and service.cpes
        and own_product(own) not in {own_product(c) for c in service.cpes}
    ):
        product = own  # the row is about another product on the port (a library, a module)
    product = product or own
    package = package_for(cpes, service.product if service else None)
    cve = next((i for i in finding.ids if _CVE.fullmatch(i)), "CVE-YYYY-NNNN")
    shown = _NOT_PLAIN.sub("", product)[:80].strip() or "unknown product"
    return {
        "{deb_package}": package.debian if package else UNKNOWN_PACKAGE,
        "{rpm_package}": package.rhel if package else UNKNOWN_PACKAGE,
        "{product}": shown,
        "{cve}": cve,
    }


def _fill_parts(text: str, loc: Location, service: str) -> list[str]:
    """``text`` with ``{service}`` and ``{port}`` filled in, split where the host goes."""
    port = str(loc.port) if loc.port is not None else "PORT"
    return text.replace("{service}", service).replace("{port}", port).split("{host}")


def _host_for(loc: Location) -> str:
    """What ``{host}`` becomes: the address, or ``HOST`` for pre- and post-scan scripts."""
    return loc.host if loc.scope in ("port", "host") else "HOST"


def _choose_fixes(
    entry: Entry,
    finding: Finding,
    identity: Identity,
    service_name: str | None = None,
) -> tuple[ChosenFix, ...]:
    port = finding.location.port
    version = parse_version(identity.version)
    service = service_name or default_service_name(port, version)
    chosen: list[ChosenFix] = []
    for fix, remark in ranked_fixes(entry.fixes, identity):
        if fix.ports and port is not None and port not in fix.ports:
            continue
        name = (
            display_name(fix.software)
            if fix.software not in ("generic", "vendor")
            else "any software"
        )
        if fix.versions.is_any:
            parts: tuple[Msg, ...] = (
                (msg("applies_generic"),)
                if fix.software in ("generic", "vendor")
                else (msg("applies_any", software=name),)
            )
        elif version is not None:
            if not fix.versions.contains(version):
                continue
            parts = (
                msg(
                    "applies_version",
                    software=name,
                    version=identity.version,
                    range=fix.versions.describe(),
                ),
            )
        else:
            parts = (msg("applies_unknown", software=name, range=fix.versions.describe()),)
        parts += remark
        chosen.append(
            ChosenFix(
                fix=fix,
                commands=tuple(_fill(c, finding, service) for c in fix.commands),
                config=_fill(fix.config, finding, service),
                applies=english(parts),
                applies_parts=parts,
            )
        )
    return tuple(chosen)


Ranked = list[tuple[Fix, tuple[Msg, ...]]]
"""Fixes in the order to show them, each with a remark for its "For:" line (or none)."""


def _first(fixes: list[Fix], remark: tuple[Msg, ...] = ()) -> Ranked:
    """``fixes`` with the recommended ones first, otherwise in the entry's order."""
    return [(f, remark) for f in sorted(fixes, key=lambda f: not f.recommended)]


def ranked_fixes(fixes: tuple[Fix, ...], identity: Identity) -> Ranked:
    """Which of an entry's fixes apply to the software identified, in the order to show them.

    - nmap (or the server's own evidence) identified the software: its fixes, recommended
      first. Fixes for another server program (``[software] servers`` in
      ``advisor/data/identification.toml``) are ruled out and hidden; they are shown, with a
      remark naming what was found, only when the entry has nothing else. The same holds
      when nmap -sV names a product advisor has no fixes for.
    - an appliance (device type, OS class or product; see
      :mod:`advisor.advise.identification`) whose software is not identified: the firmware
      fix first, then the fixes for any software (generic, libraries), then, unless -sV
      named the product, the fixes of the servers usually on the port, with a remark.
    - otherwise the fixes of the software usually on the port, of applications that run
      behind any server (PHP), and the generic ones; with nothing known at all, every fix.
    - applications (PHP behind nginx) are never ruled out by identifying the server: their
      fixes follow the server's own.
    """
    vocab = vocabulary()
    known = identity.software
    appliance = identity.appliance
    generic = [f for f in fixes if f.software == "generic"]
    vendor = [f for f in fixes if f.software == "vendor"]
    anywhere = [f for f in fixes if f.software == "generic" or f.software in vocab.libraries]
    if appliance is not None and known is None:
        remark = (msg("applies_if_here_device", type=Code(appliance.name or appliance.value)),)
        candidates = [] if identity.product else _of(fixes, identity.candidates)
        shown = _first(vendor) + _first(anywhere) + _first(candidates, remark)
        return shown or _first([f for f in fixes if f.software != "vendor"], remark)
    if known is not None or identity.product:
        own = _of(fixes, (known,)) if known is not None else []
        if own:
            # On a device nmap's OS detection classified, the firmware is the other way.
            firmware = vendor if appliance is not None and appliance.kind == "osclass" else []
            # The application behind the server (PHP behind nginx, say) is not ruled out by
            # identifying the server: its fixes follow the server's own.
            apps = [f for f in fixes if _is_application(f, vocab)]
            return _first(own) + _first(apps) + _first(firmware)
        rest = [
            f
            for f in fixes
            if f.software == "generic"
            or f.software in vocab.libraries
            or (appliance is not None and f.software == "vendor")
        ]
        if rest:
            return _first(rest)
        seen = Code(identity.name if known is not None else identity.product or "")
        servers = [f for f in fixes if f.software in vocab.servers]
        apps = [f for f in fixes if f.software not in vocab.servers and f.software != "vendor"]
        remark = (msg("applies_if_here_seen", seen=seen),)
        return _first(apps) + _first(servers, remark) + _first(vendor)
    candidates = _of(fixes, identity.candidates)
    if candidates:
        return _first(candidates + [f for f in fixes if _is_application(f, vocab)] + generic)
    return _first(generic or list(fixes))


def _is_application(fix: Fix, vocab: Vocabulary) -> bool:
    """A fix for software that runs behind whatever server answers (php, wordpress, ...)."""
    return (
        fix.software not in vocab.servers
        and fix.software not in vocab.libraries
        and fix.software not in ("generic", "vendor")
    )


def _of(fixes: tuple[Fix, ...], software: tuple[str | None, ...]) -> list[Fix]:
    return [f for f in fixes if f.software in software]


_ADVICE_CACHE: dict[tuple[object, ...], Placeable] = {}


def clear_advice_cache() -> None:
    """Forget the advice of every context (see :func:`advice_for_context`)."""
    _ADVICE_CACHE.clear()
    _CHECKS.clear()


def advise(
    finding: Finding,
    result: MatchResult,
    identity: Identity,
    service_name: str | None = None,
) -> Advice:
    """Everything the report says about one finding.

    Memoised on everything the advice depends on except the finding's address: a large scan
    repeats the same few contexts thousands of times. Verify commands, which name the host,
    are filled in for each finding."""
    return place(advice_for_context(finding, result, identity, service_name), finding)


def advice_for_context(
    finding: Finding,
    result: MatchResult,
    identity: Identity,
    service_name: str | None = None,
) -> Placeable:
    """The memoised part of :func:`advise`: the advice of ``finding``'s context, not yet
    placed at its endpoint."""
    loc = finding.location
    key = (
        finding_reads(finding, result),
        loc.port,
        loc.scope,
        loc.service,
        identity,
        service_name,
        loc.host if result.entry is not None and _reads(result.entry).host else None,
    )
    hit = _ADVICE_CACHE.get(key)
    if hit is None:
        if len(_ADVICE_CACHE) > 8_000:
            _ADVICE_CACHE.clear()
        advice, verify = _advise(finding, result, identity, service_name)
        hit = _ADVICE_CACHE[key] = (advice, _verify_at(verify, advice, loc, service_name))
    return hit


def finding_reads(finding: Finding, result: MatchResult) -> tuple[object, ...]:
    """What the advice of ``finding`` under ``result`` reads of the finding itself: findings
    equal here get the same advice in the same context (endpoint, identity), whatever their
    evidence lines (the part of the :func:`advice_for_context` key that is not the context)."""
    entry = result.entry
    reads = _reads(entry) if entry is not None else _READS_NOTHING
    return (
        id(entry.fixes) if entry is not None else None,
        result.verdict,
        finding.kind,
        finding.state,
        finding.title if entry is None else None,
        _check_key(reads.check_results, finding.check_results) if reads.check_results else None,
        _vulners_key(finding) if finding.kind is Kind.VULNERS else None,
        _note_key(finding) if reads.note_values else None,
    )


@dataclass(frozen=True, slots=True)
class _Reads:
    """What an entry's advice reads of a finding beyond its context (entry, kind, state,
    port, scope, service, identity): the advice cache's key holds only these, so findings
    that differ elsewhere (another cipher list, other evidence lines) share one advice."""

    check_results: tuple[re.Pattern[str], ...]
    """The ``check_results`` patterns of its severity rules and false-positive notes, in
    order: the advice depends on which of them match, not on the text."""
    note_values: bool
    """Whether a false-positive note or verify command uses :data:`NOTE_PLACEHOLDERS`."""
    host: bool
    """Whether its fixes or notes name the host."""


_READS_NOTHING = _Reads((), False, False)
_READS: dict[int, tuple[Entry, _Reads]] = {}


def _reads(entry: Entry) -> _Reads:
    hit = _READS.get(id(entry))
    if hit is None or hit[0] is not entry:
        conditions = [rule.when for rule in entry.severity.context]
        conditions += [fp.when for fp in entry.false_positives]
        texts = [fp.note for fp in entry.false_positives]
        texts += [v.command for v in entry.verify]
        reads = _Reads(
            tuple(p for c in conditions for p in c.check_results),
            any(p in t for t in texts for p in NOTE_PLACEHOLDERS),
            _uses_host(entry),
        )
        hit = _READS[id(entry)] = (entry, reads)
    return hit[1]


_CHECKS: dict[tuple[int, int], tuple[tuple[object, ...], tuple[str, ...], object]] = {}


def _check_key(patterns: tuple[re.Pattern[str], ...], results: tuple[str, ...]) -> object:
    """Which of ``patterns`` match ``results`` (what :func:`_holds` tests).

    Remembered by identity: the findings placed from one extracted result share its
    ``check_results`` tuple (the entry kept keeps both alive, so their ids stay unique)."""
    hit = _CHECKS.get((id(patterns), id(results)))
    if hit is not None and hit[0] is patterns and hit[1] is results:
        return hit[2]
    text = "\n".join(results)
    value = tuple(p.search(text) is not None for p in patterns)
    if len(_CHECKS) > 8_000:
        _CHECKS.clear()
    _CHECKS[(id(patterns), id(results))] = (patterns, results, value)
    return value


def _vulners_key(finding: Finding) -> object:
    """What the severity of a version-based finding is computed from (:func:`_cvss_severity`)."""
    return (finding.detail("max_cvss"), finding.detail("rows"), finding.detail("exploits"))


def _note_key(finding: Finding) -> object:
    """What :func:`_note_values` reads of a finding besides its service."""
    return (finding.detail("cpe"), next((i for i in finding.ids if _CVE.fullmatch(i)), None))


Verify = tuple[tuple[str, str], ...]
"""Verify steps: (command, what it should show)."""


@dataclass(frozen=True, slots=True)
class VerifyAt:
    """A context's verify steps with the service and port filled in, each command split
    where the host goes: :meth:`at` gives any finding of that context its steps."""

    steps: tuple[tuple[tuple[str, ...], str], ...]
    fixed: Verify | None = None
    """The steps, when no command names the host (one tuple shared by every finding)."""

    def at(self, location: Location) -> Verify:
        if self.fixed is not None:
            return self.fixed
        host = _host_for(location)
        return tuple((host.join(parts), expect) for parts, expect in self.steps)

    @staticmethod
    def host(location: Location) -> str:
        """What the commands name as the host at ``location``."""
        return _host_for(location)


def _verify_at(
    verify: Verify, advice: Advice, location: Location, service_name: str | None
) -> VerifyAt:
    """``verify`` filled in for findings at ``location``'s port and scope (the advice
    cache's key holds both), all but the host."""
    if not any("{" in cmd for cmd, _ in verify):
        return VerifyAt(tuple(((cmd,), expect) for cmd, expect in verify), verify)
    if any(p in cmd for cmd, _ in verify for p in NOTE_PLACEHOLDERS):
        values = _note_values(advice.finding)  # the product's package, a CVE of its rows
        for name, value in values.items():
            verify = tuple((cmd.replace(name, value), expect) for cmd, expect in verify)
    version = parse_version(advice.identity.version)
    service = service_name or default_service_name(location.port, version)
    steps = tuple((tuple(_fill_parts(cmd, location, service)), exp) for cmd, exp in verify)
    if all(len(parts) == 1 for parts, _ in steps):
        return VerifyAt(steps, tuple((parts[0], expect) for parts, expect in steps))
    return VerifyAt(steps)


Placeable = tuple[Advice, VerifyAt]
"""Advice for a context, and its verify steps before the host is filled in."""


def place(placeable: Placeable, finding: Finding) -> Advice:
    """The advice of a context, for ``finding``: its own finding and verify commands."""
    t, verify = placeable
    # positional construction: dataclasses.replace() is slow on this hot path
    return Advice(
        finding,
        t.verdict,
        t.entry,
        t.severity,
        t.severity_reason,
        t.tls_mode,
        t.identity,
        t.false_positives,
        t.fixes,
        t.not_fixes,
        verify.at(finding.location),
        t.notes,
        t.severity_parts,
    )


def uses_host(entry: Entry | None) -> bool:
    """Whether the entry's fixes name the host (then its advice differs per host)."""
    return entry is not None and _uses_host(entry)


_USES_HOST: dict[int, tuple[Entry, bool]] = {}


def _uses_host(entry: Entry) -> bool:
    """Whether the entry's fixes name the host (then their text differs per host)."""
    hit = _USES_HOST.get(id(entry))
    if hit is None or hit[0] is not entry:
        uses = any(
            "{host}" in c for f in entry.fixes for c in (*f.commands, f.config, f.notes)
        ) or any("{host}" in fp.note for fp in entry.false_positives)
        hit = _USES_HOST[id(entry)] = (entry, uses)
    return hit[1]


def _advise(
    finding: Finding,
    result: MatchResult,
    identity: Identity,
    service_name: str | None,
) -> tuple[Advice, tuple[tuple[str, str], ...]]:
    mode = tls_mode(finding.location.port, finding.location.service)
    entry = result.entry
    if entry is None or result.verdict is not Verdict.MATCHED:
        level, why = _unknown_severity(finding)
        advice = Advice(
            finding,
            result.verdict,
            entry,
            level,
            english((why,)),
            mode,
            identity,
            severity_parts=(why,),
        )
        return advice, ()
    level, reason = entry.severity.level, entry.severity.reason
    severity_parts: tuple[Msg, ...] = ()
    if finding.kind is Kind.VULNERS:
        level, reason, severity_parts = _cvss_severity(finding, level, reason)
    for rule in entry.severity.context:
        if _holds(rule.when, finding, mode, identity):
            level, reason, severity_parts = rule.level, rule.reason, ()
            break
    fps: tuple[Note, ...] = tuple(
        fill_text(fp.note, finding, identity)
        for fp in entry.false_positives
        if _holds(fp.when, finding, mode, identity)
    )
    if identity.honeypot and entry.category != "meta":
        strong = identity.strong_honeypot
        lowered = strong and severity_rank(level) > severity_rank(HONEYPOT_SEVERITY)
        fps = (honeypot_note(identity.honeypot, level if lowered else None), *fps)
        if lowered:
            severity_parts = (msg("sev_honeypot_a"), msg(f"sev_{level}"), msg("sev_honeypot_b"))
            level, reason = HONEYPOT_SEVERITY, english(severity_parts)
    software = {identity.software} if identity.software else set(identity.candidates)
    port = finding.location.port
    version = parse_version(identity.version)
    not_fixes = tuple(
        nf
        for nf in entry.not_fixes
        if (nf.software is None or nf.software in software or not software)
        and (not nf.ports or port in nf.ports)
        and (version is None or nf.versions.contains(version))
    )
    verify = tuple(
        (v.command, v.expect)
        for v in entry.verify
        if v.software is None or not software or v.software in software
    )
    advice = Advice(
        finding=finding,
        verdict=result.verdict,
        entry=entry,
        severity=level,
        severity_reason=reason,
        tls_mode=mode,
        identity=identity,
        false_positives=fps,
        fixes=_choose_fixes(entry, finding, identity, service_name),
        not_fixes=not_fixes,
        severity_parts=severity_parts,
    )
    return advice, verify


#: How each kind of honeypot indicator is worded (``hp_*`` in advisor/locales/en.toml).
_HONEYPOT_EVIDENCE = {
    "cert-issuer": "hp_cert_issuer",
    "cert-subject": "hp_cert_subject",
    "product": "hp_product",
    "extrainfo": "hp_extrainfo",
    "banner": "hp_banner",
    "hostname": "hp_hostname",
}


def honeypot_note(indicators: tuple[Indicator, ...], lowered_from: str | None) -> Note:
    """The host-specific false-positive note: what makes this host look like a honeypot.

    Strong indicators (the service itself: -sV, banner, certificate) say the finding is most
    likely emulated, and ``lowered_from`` names the severity it had; a hostname alone only
    asks the question."""
    strong = any(i.strong for i in indicators)
    parts: list[Msg] = [msg("fp_honeypot_strong" if strong else "fp_honeypot_weak")]
    for n, ind in enumerate(indicators):
        if n:
            parts.append(msg("hp_sep"))
        key = _HONEYPOT_EVIDENCE.get(ind.kind, "hp_product")
        if ind.default:
            key += "_default"
        elif not ind.name:
            key += "_generic"
        parts.append(msg(key, value=Code(ind.value), where=Code(ind.where), name=ind.name))
    if not strong:
        parts.append(msg("fp_honeypot_weak_end"))
        return tuple(parts)
    parts.append(msg("fp_honeypot_strong_end"))
    if lowered_from is not None:
        parts += [
            msg("fp_honeypot_lowered_a"),
            msg(f"sev_{lowered_from}"),
            msg("fp_honeypot_lowered_b"),
        ]
    parts.append(msg("fp_honeypot_advice"))
    return tuple(parts)
