"""Attach server-side evidence to findings: which process holds the port, which configuration
applies to it, and whether an advised change is already in place.

Evidence belongs to one host. :class:`EvidenceSet` maps hosts to their evidence and refuses to
guess: evidence given without saying which host it came from is used only when the scan has a
single host (``advisor.cli`` checks that), and evidence from ``--local`` only for addresses of
this machine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from advisor.advise.advice import Advice, ChosenFix
from advisor.advise.context import Clue, clue, software_from_product
from advisor.evidence.dovecot import DovecotConfig, parse_doveconf
from advisor.evidence.listeners import Listener, ListenerTable, parse_listeners
from advisor.evidence.nginx import NginxConfig, parse_nginx
from advisor.evidence.postfix import PostfixConfig, load_postfix
from advisor.evidence.processes import describe_socket
from advisor.findings.model import Finding
from advisor.messages import Code, Msg, Seg, english, msg, text

#: File names recognised in an evidence folder, by what they hold.
EVIDENCE_FILES: dict[str, tuple[str, ...]] = {
    "listeners": ("ss.txt", "ss-lnpt.txt", "netstat.txt", "lsof.txt", "listeners.txt"),
    "postconf": ("postconf.txt", "postconf-n.txt", "main.cf"),
    "master": ("master.txt", "postconf-M.txt", "postconf-m.txt", "master.cf"),
    "mail_version": ("mail_version.txt", "postconf-mail_version.txt"),
    "doveconf": ("doveconf.txt", "doveconf-n.txt"),
    "nginx": ("nginx.txt", "nginx-T.txt"),
}


@dataclass
class HostEvidence:
    """Everything known from one server."""

    label: str
    listeners: ListenerTable | None = None
    postfix: PostfixConfig | None = None
    dovecot: DovecotConfig | None = None
    nginx: NginxConfig | None = None
    sources: list[str] = field(default_factory=list)
    """What was read or run, for the report."""

    @property
    def empty(self) -> bool:
        return not (self.listeners or self.postfix or self.dovecot or self.nginx)

    @classmethod
    def from_texts(
        cls,
        label: str,
        listeners: str | None = None,
        postconf: str | None = None,
        master: str | None = None,
        mail_version: str | None = None,
        doveconf: str | None = None,
        nginx: str | None = None,
    ) -> HostEvidence:
        ev = cls(label)
        if listeners is not None:
            ev.listeners = parse_listeners(listeners)
        if postconf is not None or master is not None or mail_version is not None:
            ev.postfix = load_postfix(main=postconf, master=master, mail_version=mail_version)
        if doveconf is not None:
            ev.dovecot = parse_doveconf(doveconf)
        if nginx is not None:
            ev.nginx = parse_nginx(nginx)
        return ev

    @classmethod
    def from_folder(cls, label: str, folder: Path, prefix: str = "") -> HostEvidence:
        texts: dict[str, str] = {}
        read: list[str] = []
        for kind, names in EVIDENCE_FILES.items():
            for name in names:
                path = folder / f"{prefix}{name}"
                if path.is_file():
                    texts[kind] = path.read_text(encoding="utf-8", errors="replace")
                    read.append(str(path))
                    break
        ev = cls.from_texts(label, **texts)
        ev.sources.extend(f"read {p}" for p in read)
        return ev


class EvidenceSet:
    """Evidence per host, looked up by address or hostname."""

    def __init__(self) -> None:
        self.hosts: dict[str, HostEvidence] = {}
        self.unbound: HostEvidence | None = None
        """Evidence not tied to a named host (``--ss FILE`` ...)."""
        self.local: HostEvidence | None = None
        self.local_addresses: frozenset[str] = frozenset()
        self.bind_unbound = False
        """Set when the scan is known to hold exactly one host."""
        self.notes: list[str] = []

    def for_finding(self, finding: Finding) -> EndpointView | None:
        loc = finding.location
        if loc.port is None or loc.scope != "port":
            return None
        ev = self.hosts.get(loc.host) or (self.hosts.get(loc.hostname) if loc.hostname else None)
        if ev is None and self.local is not None and _is_local(loc.host, self.local_addresses):
            ev = self.local
        if ev is None and self.unbound is not None and self.bind_unbound:
            ev = self.unbound
        return EndpointView(ev, finding) if ev is not None and not ev.empty else None

    def describe(self) -> list[str]:
        lines: list[str] = []
        for ev in (
            ([self.unbound] if self.unbound else [])
            + list(self.hosts.values())
            + ([self.local] if self.local else [])
        ):
            for source in ev.sources:
                lines.append(f"{ev.label}: {source}")
        return lines + self.notes


_DEFAULT_SOURCE = re.compile(r"^default \(Postfix (?P<version>[^)]+)\)(?P<rest>; .*)?$")
_MASTER_SOURCE = re.compile(r"^master\.cf -o on service (?P<service>\S+)$")


def _source_parts(source: str) -> tuple[Msg, ...]:
    """Where a setting's value comes from (:attr:`advisor.evidence.postfix.Effective.source`),
    as messages: the usual forms translated, anything else as it is."""
    if m := _DEFAULT_SOURCE.match(source):
        rest = (text(m["rest"]),) if m["rest"] else ()
        return (msg("src_default_postfix", version=m["version"]), *rest)
    if source == "default":
        return (msg("src_default"),)
    if m := _MASTER_SOURCE.match(source):
        return (msg("src_master_o", service=m["service"]),)
    return (text(source),)


def _is_local(address: str, local: frozenset[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or address in local


def _joined(items: Iterable[tuple[Seg, ...]]) -> tuple[Seg, ...]:
    """Runs of text joined with ``", "``."""
    out: list[Seg] = []
    for i, item in enumerate(items):
        out.extend((", ", *item) if i else item)
    return tuple(out)


_KNOWN = {"Postfix": "postfix", "Dovecot": "dovecot", "nginx": "nginx"}


def _software_key(name: str | None) -> str | None:
    if not name:
        return None
    return _KNOWN.get(name) or software_from_product(name) or name.lower()


class EndpointView:
    """Evidence about one finding's host and port."""

    def __init__(self, evidence: HostEvidence, finding: Finding) -> None:
        self.ev = evidence
        self.finding = finding
        self.port = finding.location.port or 0
        self.address = finding.location.host
        self._service = (
            evidence.postfix.service_for_port(self.port, self.address)
            if evidence.postfix and evidence.postfix.master
            else None
        )

    # -- who ------------------------------------------------------------------------------
    def _sockets(self) -> list[Listener]:
        listeners = self.ev.listeners
        assert listeners is not None
        try:
            ipaddress.ip_address(self.address)
        except ValueError:  # a pasted text fragment names no host: match on the port alone
            return listeners.on_port(self.port)
        return listeners.lookup(self.address, self.port, self.finding.location.protocol or "tcp")

    def clues(self) -> list[Clue]:
        clues: list[Clue] = []
        ev = self.ev
        if ev.listeners is not None:
            found = self._sockets()
            if found:
                sock = found[0]
                owners = describe_socket(sock.processes)
                software = _software_key(owners.software[0]) if owners.software else None
                owner = owners.owner
                workers = [w for w in owners.workers if w.name == "smtpd"]
                if software == "postfix" and owner is not None and owner.name == "master":
                    pids = _joined((Code("smtpd"), f" (pid {w.pid})") for w in workers)
                    key = "clue_ss_postfix" if workers else "clue_ss_postfix_idle"
                    clues.append(
                        clue(
                            "ss",
                            msg(
                                key,
                                endpoint=Code(sock.endpoint),
                                master_pid=owner.pid,
                                workers=pids,
                            ),
                            software=software,
                        )
                    )
                else:
                    said: tuple[Seg, ...] = (Code(sock.endpoint), ": ", *owners.text)
                    if len(owners.software) > 1:
                        also = ", ".join(owners.software[1:])
                        said += (f" (also: {also}: worth a second look)",)
                    clues.append(clue("ss", text(*said), software=software))
            else:
                others = ev.listeners.on_port(self.port)
                where = _joined((Code(s.endpoint),) for s in others)
                clues.append(
                    clue(
                        "ss",
                        msg("clue_ss_none", address=Code(self.address), port=self.port),
                        *((msg("clue_ss_only", where=where),) if where else ()),
                        msg("clue_ss_none_end"),
                    )
                )
        pf = ev.postfix
        if pf is not None and self._service is not None:
            svc = self._service
            mode = pf.tls_mode(svc)
            how = (
                msg("mode_wrapper")
                if mode.wrapper
                else msg("mode_starttls", level=mode.level or "none")
            )
            clues.append(
                clue(
                    "config",
                    msg(
                        "clue_master",
                        service=Code(svc.name),
                        type=svc.type,
                        command=svc.command,
                        port=self.port,
                    ),
                    how,
                    *((msg("clue_postfix_version", version=pf.version),) if pf.version else ()),
                    software="postfix",
                    version=pf.version,
                )
            )
        elif pf is not None and pf.version:
            clues.append(
                clue(
                    "config",
                    msg("clue_postconf_version", version=pf.version),
                    version=pf.version,
                    version_of="postfix",
                )
            )
        dc = ev.dovecot
        if dc is not None and dc.listeners_on(self.port):
            clues.append(
                clue(
                    "config",
                    msg("clue_doveconf", version=dc.version or "", port=self.port),
                    software="dovecot",
                    version=dc.version,
                )
            )
        ng = ev.nginx
        if ng is not None and ng.servers_for_port(self.port, self.address):
            clues.append(
                clue(
                    "config",
                    msg("clue_nginx", port=self.port),
                    software="nginx",
                    version=ng.version,
                )
            )
        return clues

    def service_name(self) -> str | None:
        return self._service.name if self._service is not None else None

    # -- what the configuration says --------------------------------------------------------
    def refine(self, advice: Advice) -> Advice:
        notes = list(advice.notes)
        fixes: list[ChosenFix] = []
        shown: set[str] = set()
        for chosen in advice.fixes:
            fix = chosen.fix
            current = self._current(fix.target, fix.settings)
            applied = bool(current) and all(
                _same(value, want)
                for (name, want), (_, value, _) in zip(fix.settings, current, strict=True)
            )
            for name, value, source in current:
                if name not in shown:
                    shown.add(name)
                    head = (
                        msg("note_now_head", name=Code(name), value=Code(value))
                        if value
                        else msg("note_now_empty_head", name=Code(name))
                    )
                    notes.append((head, *_source_parts(source), msg("note_now_tail")))
            if applied:
                chosen = replace(
                    chosen,
                    already_applied=english((msg("note_already"),)),
                )
            fixes.append(chosen)
        return replace(advice, notes=tuple(notes), fixes=tuple(fixes))

    def _current(
        self, target: str, settings: tuple[tuple[str, str], ...]
    ) -> list[tuple[str, str | None, str]]:
        out: list[tuple[str, str | None, str]] = []
        ev = self.ev
        for name, _ in settings:
            if target in ("postfix-main", "postfix-master") and ev.postfix is not None:
                eff = ev.postfix.effective(name, self._service)
                out.append((name, eff.value, eff.source))
            elif target == "dovecot" and ev.dovecot is not None:
                setting = ev.dovecot.effective(name)
                if setting is not None:
                    out.append((name, setting.value, f"doveconf: {setting.where}"))
                else:
                    out.append((name, None, "doveconf -n: not set (Dovecot's default)"))
            elif target in ("nginx-server", "nginx-http") and ev.nginx is not None:
                servers = ev.nginx.servers_for_port(self.port, self.address)
                directives = servers[0].effective(name) if servers else []
                if directives:
                    d = directives[-1]
                    out.append((name, " ".join(d.args), f"nginx -T: {d.file}:{d.line}"))
                else:
                    out.append((name, None, "nginx -T: not set (nginx's default)"))
        return out if len(out) == len(settings) else []


def _norm(value: str) -> str:
    return " ".join(value.replace(",", " ").split()).lower()


def _same(have: str | None, want: str) -> bool:
    """Setting values equal but for commas, spacing and case (``!SSLv2, !SSLv3``)."""
    return have is not None and _norm(have) == _norm(want)
