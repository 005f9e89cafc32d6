"""Plan a rescan: the nmap command that looks again at exactly what had findings.

Targets, ports and scripts come only from the original's findings: the hosts that had one
(``--host`` narrows them down and must name one of the original's hosts), the ports those
findings were on, and the scripts that reported them. The original's script arguments and the
options that decide how those scripts see a port are carried over as they were
(``--script-args``, ``--script-args-file``, ``--datadir``, ``-sV`` and its ``--version-*``
options, ``-sS``/``-sT``, ``-T``, ``--script-timeout``, ``-n``/``-R``,
``--privileged``/``--unprivileged``); everything else about the original run (its targets,
``-iL``, output options, ``-O``, other scripts) is not. ``-Pn`` is always added: the hosts were up.

``-sV`` is added only when the advice needs it: the original used ``-sV`` or ``-A``; the
original identified the service with ``-sV``; a finding is version based (``vulners``); a TLS
script's finding sits on a port nmap's TLS scripts would not recognise without it (see
:mod:`advisor.rescan.nmapdata`); or the service name this nmap's ``nmap-services`` gives a
port differs from the one the original recorded (scripts choose ports by that name).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from advisor.advise.advice import severity_rank
from advisor.diff import Diff, Item
from advisor.rescan.nmapdata import (
    VERSION_SCRIPTS,
    data_dirs,
    is_tls_script,
    quote_command,
    script_names,
    services_table,
    split_args,
    tls_port_known,
    valid_script_id,
)
from advisor.rescan.original import HostSeen, Original, Seen


class PlanRefused(ValueError):
    """The rescan asked for would go beyond the original scan (exit code 2)."""


class NothingToRecheck(ValueError):
    """No finding the rescan could look at again (not an error: exit code 0)."""

    def __init__(self, message: str, not_rechecked: Sequence[NotRechecked] = ()) -> None:
        super().__init__(message)
        self.not_rechecked = tuple(not_rechecked)


@dataclass(frozen=True, slots=True)
class Command:
    """An nmap command line, without the binary and the ``-oX`` file."""

    options: tuple[str, ...]
    targets: tuple[str, ...]

    def argv(self, xml: str, nmap: str = "nmap") -> list[str]:
        """The argument vector (never a shell string): ``nmap OPTIONS -oX XML TARGETS``."""
        return [nmap, *self.options, "-oX", xml, *self.targets]

    def line(self, xml: str, nmap: str = "nmap") -> str:
        """The command as one shell-quoted line."""
        return quote_command(self.argv(xml, nmap))


@dataclass(frozen=True, slots=True)
class NotRechecked:
    """A finding of the original that the rescan does not look at again, and why."""

    endpoint: str
    script: str
    why: str


@dataclass(frozen=True)
class Plan:
    command: Command
    hosts: tuple[str, ...]
    ports: tuple[tuple[int, str], ...]
    scripts: tuple[str, ...]
    version_detection: bool
    host_scripts: frozenset[str] = frozenset()
    """Hosts whose host-script findings are looked at again (their open ports are scanned)."""
    notes: tuple[str, ...] = ()
    """What was carried over from the original, what was not, and why ``-sV`` is there."""
    not_rechecked: tuple[NotRechecked, ...] = ()

    def covers(self, host: str, port: int | None, protocol: str | None, script: str) -> bool:
        """Whether the rescan looks at this finding again (same host, port and script)."""
        if script not in self.scripts or host not in self.hosts:
            return False
        if port is None:
            return host in self.host_scripts
        return (port, protocol or "tcp") in self.ports


# ------------------------------------------------------------------------------ carried options
#: nmap options that take their value in the next word (when not written ``--opt=value``).
_VALUE_OPTIONS = frozenset(
    {
        "script", "script-args", "script-args-file", "script-timeout", "script-help",
        "datadir", "servicedb", "versiondb", "version-intensity", "exclude", "excludefile",
        "exclude-ports", "top-ports", "port-ratio", "min-hostgroup", "max-hostgroup",
        "min-parallelism", "max-parallelism", "min-rtt-timeout", "max-rtt-timeout",
        "initial-rtt-timeout", "max-retries", "host-timeout", "scan-delay", "max-scan-delay",
        "min-rate", "max-rate", "mtu", "data", "data-string", "data-length", "ip-options",
        "ttl", "spoof-mac", "source-port", "dns-servers", "proxies", "proxy", "stylesheet",
        "stats-every", "resume", "scanflags", "max-os-tries", "nsock-engine", "release-memory",
    }
)  # fmt: skip
_SHORT_VALUE = frozenset(
    {"-p", "-e", "-S", "-D", "-g", "-iL", "-iR", "-oN", "-oX", "-oS", "-oG", "-oA", "-oM"}
    | {"-b", "-sI", "-T", "-M"}
)
_SCAN_TYPES = re.compile(r"-s([STAWMUNFXYZOIVCLnPR]+)")
_TIMING = re.compile(r"-T([0-5]|paranoid|sneaky|polite|normal|aggressive|insane)")
_NEWTARGETS = re.compile(r"\bnewtargets\b")


@dataclass(frozen=True)
class Carried:
    """Options of the original command line that a rescan keeps."""

    version: str | None = None
    """``-sV`` or ``-A`` when the original asked for version detection."""
    version_options: tuple[str, ...] = ()
    script_args: tuple[str, ...] = ()
    script_args_file: str | None = None
    script_timeout: str | None = None
    timing: str | None = None
    datadir: str | None = None
    dns: str | None = None
    privilege: str | None = None
    tcp_scan: str | None = None
    notes: tuple[str, ...] = field(default=())


def carried_options(args: str) -> Carried:
    """Read the options a rescan keeps from the original's ``<nmaprun args>``."""
    words = split_args(args)
    if words and not words[0].startswith("-"):
        words = words[1:]  # the nmap binary
    version: str | None = None
    version_options: list[str] = []
    script_args: list[str] = []
    values: dict[str, str] = {}
    flags: dict[str, str] = {}
    tcp_scan: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("-") or word == "-":
            continue
        scan_types = _SCAN_TYPES.fullmatch(word)
        if scan_types:
            letters = scan_types.group(1)
            if "V" in letters:
                version = version or "-sV"
            for letter in "ST":
                if letter in letters:
                    tcp_scan = f"-s{letter}"
            if "I" in letters and word == "-sI":
                i += 1  # idle scan zombie
            continue
        if word == "-A":
            version = "-A"
            continue
        if _TIMING.fullmatch(word):
            flags["timing"] = word
            continue
        if word in ("-n", "-R"):
            flags["dns"] = word
            continue
        if word in _SHORT_VALUE:
            if word == "-T" and i < len(words) and _TIMING.fullmatch("-T" + words[i]):
                flags["timing"] = "-T" + words[i]
            i += 1
            continue
        if len(word) <= 2 or (word[1] != "-" and word[:2] in _SHORT_VALUE):
            continue
        name, eq, value = word.lstrip("-").partition("=")
        if not eq and name in _VALUE_OPTIONS:
            if i >= len(words):
                continue
            value = words[i]
            i += 1
        if name == "script-args":
            script_args.append(value)
        elif name in ("script-args-file", "script-timeout", "datadir"):
            values[name] = value
        elif name == "version-intensity":
            version_options[:] = ["--version-intensity", value]
        elif name in ("version-light", "version-all") and not eq:
            version_options[:] = [f"--{name}"]
        elif name in ("privileged", "unprivileged") and not eq:
            flags["privilege"] = f"--{name}"
    return Carried(
        version=version,
        version_options=tuple(version_options),
        script_args=tuple(script_args),
        script_args_file=values.get("script-args-file"),
        script_timeout=values.get("script-timeout"),
        timing=flags.get("timing"),
        datadir=values.get("datadir"),
        dns=flags.get("dns"),
        privilege=flags.get("privilege"),
        tcp_scan=tcp_scan,
    )


def _checked_files(carried: Carried) -> tuple[Carried, list[str]]:
    """Drop a ``--datadir`` or ``--script-args-file`` that is not there any more."""
    notes: list[str] = []
    datadir, args_file = carried.datadir, carried.script_args_file
    if datadir is not None and not Path(datadir).is_dir():
        notes.append(f"--datadir {datadir} of the original is not carried: no such directory")
        datadir = None
    if args_file is not None and not Path(args_file).is_file():
        notes.append(f"--script-args-file {args_file} of the original is not carried: no such file")
        args_file = None
    texts = list(carried.script_args)
    if args_file is not None:
        try:
            texts.append(Path(args_file).read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise PlanRefused(
                f"cannot read --script-args-file {args_file}: {exc.strerror}"
            ) from None
    if any(_NEWTARGETS.search(t) for t in texts):
        raise PlanRefused(
            "the original's script arguments set newtargets, which lets scripts add hosts "
            "that were not in the original scan: rescan scans only the original's hosts"
        )
    kept = Carried(
        carried.version,
        carried.version_options,
        carried.script_args,
        args_file,
        carried.script_timeout,
        carried.timing,
        datadir,
        carried.dns,
        carried.privilege,
        carried.tcp_scan,
    )
    return kept, notes


# ----------------------------------------------------------------------------------------- hosts
def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


def _known_names(names: Iterable[str]) -> set[str]:
    return {n.lower().rstrip(".") for n in names}


def _is_host(address: str | None, name: str, addr: str, names: Iterable[str]) -> bool:
    """Whether ``--host`` (as an address, or as a name) names the host ``addr``."""
    if address is not None:
        return _address(addr) == address
    return name in _known_names(names)


def _choose_hosts(
    original: Original, known: Mapping[str, tuple[str, ...]], wanted: Sequence[str]
) -> tuple[set[str], list[str]]:
    """The hosts to rescan (addresses as the original wrote them) and notes."""
    if not wanted:
        return set(known), []
    chosen: set[str] = set()
    notes: list[str] = []
    all_hosts: Mapping[str, HostSeen] = original.hosts or {}
    for text in wanted:
        address = _address(text)
        name = text.lower().rstrip(".")
        hit = [a for a, names in known.items() if _is_host(address, name, a, names)]
        if hit:
            chosen.update(hit)
            continue
        if any(_is_host(address, name, a, h.hostnames) for a, h in all_hosts.items()):
            notes.append(f"nothing to recheck on {text}: it had no findings in {original.source}")
            continue
        if original.hosts is None:
            listed = ", ".join(sorted(known)[:5]) or "none"
            raise PlanRefused(
                f"--host {text}: not a host with findings in the report {original.source} "
                f"(hosts with findings: {listed})"
            )
        listed = ", ".join(sorted(all_hosts)[:5]) + (", ..." if len(all_hosts) > 5 else "")
        raise PlanRefused(
            f"--host {text}: not a host of the original scan {original.source} "
            f"(its hosts: {listed or 'none'})"
        )
    return chosen, notes


# ------------------------------------------------------------------------------------------ plan
def _why_not(seen: Seen, installed: frozenset[str] | None, original: Original) -> str | None:
    """Why this finding cannot be looked at again by a targeted nmap run, or None."""
    if not valid_script_id(seen.script):
        return "not a plain nmap script name, so it cannot be run by name"
    if installed is not None and seen.script not in installed:
        return "this nmap has no script of that name (not in its scripts/script.db)"
    if _address(seen.host) is None:
        return "the host is not named by an IP address in the original"
    if seen.scope == "port" and (seen.protocol or "tcp") not in ("tcp", "udp"):
        return f"{seen.protocol} ports are not rescanned"
    if seen.scope == "host":
        if original.hosts is None:
            return (
                "a host script: its rule looks at the ports the scan found open, which a JSON "
                "report does not list; rescan the original XML to recheck it"
            )
        host = original.hosts.get(seen.host)
        if host is None or not host.open_ports:
            return "a host script, and the original found no open port on this host"
    return None


def _version_reasons(
    findings: Sequence[Seen],
    carried: Carried,
    services: Mapping[tuple[int, str], str],
    services_path: Path | None,
) -> list[str]:
    if carried.version is not None:
        return [f"-sV: the original scan used {carried.version}"]
    reasons: list[str] = []
    table = str(services_path) if services_path else "nmap-services"
    for f in findings:
        if f.port is None:
            continue
        proto = f.protocol or "tcp"
        name = services.get((f.port, proto))
        where = f"{f.script} on {f.endpoint}"
        if f.probed:
            reasons.append(f"-sV: the original identified the service of {f.endpoint} with -sV")
        elif f.script in VERSION_SCRIPTS:
            reasons.append(
                f"-sV: {where}: {f.script} looks vulnerabilities up by the product and "
                "version that -sV finds"
            )
        elif is_tls_script(f.script) and not tls_port_known(f.port, name):
            reasons.append(
                f"-sV: {where}: nmap's TLS scripts pick TLS or STARTTLS by port number or "
                f"service name, and {f.port}/{proto} is no standard TLS port and is "
                f"{repr(name) if name else 'not named'} in {table}"
            )
        elif f.service and f.service != name:
            reasons.append(
                f"-sV: the original called {f.endpoint} {f.service!r}, {table} calls it "
                f"{repr(name) if name else 'nothing'}, and scripts choose ports by that name"
            )
    return list(dict.fromkeys(reasons))


def _port_spec(ports: Iterable[tuple[int, str]]) -> str:
    tcp = sorted({p for p, proto in ports if proto == "tcp"})
    udp = sorted({p for p, proto in ports if proto == "udp"})
    if not udp:
        return ",".join(map(str, tcp))
    parts = ([f"T:{','.join(map(str, tcp))}"] if tcp else []) + [f"U:{','.join(map(str, udp))}"]
    return ",".join(parts)


def build_plan(original: Original, select: Sequence[str] = (), nmap: str | None = None) -> Plan:
    """The rescan of ``original`` (only the hosts in ``select``, when given).

    Raises :class:`PlanRefused` when ``select`` names a host the original did not scan, and
    :class:`NothingToRecheck` when no finding can be looked at again."""
    carried, notes = _checked_files(carried_options(original.info.args))
    known = original.finding_hosts()
    chosen, host_notes = _choose_hosts(original, known, select)
    notes += host_notes
    dirs = data_dirs(carried.datadir, nmap)
    installed = script_names(dirs)
    skipped: list[NotRechecked] = []
    keep: list[Seen] = []
    for seen in original.findings:
        if seen.scope in ("prescript", "postscript"):
            if not select:
                skipped.append(
                    NotRechecked(
                        seen.endpoint,
                        seen.script,
                        "a pre- or post-scan script: it does not run against one host",
                    )
                )
            continue
        if seen.host not in chosen:
            continue
        why = _why_not(seen, installed, original)
        if why is not None:
            skipped.append(NotRechecked(seen.endpoint, seen.script, why))
        else:
            keep.append(seen)
    if not keep:
        if not original.findings:
            raise NothingToRecheck(f"nothing to recheck: {original.source} has no findings")
        if host_notes and not chosen:
            raise NothingToRecheck("; ".join(host_notes), skipped)
        what = "on the chosen host(s) " if select else ""
        raise NothingToRecheck(
            f"nothing to recheck: no finding {what}in {original.source} can be rescanned",
            skipped,
        )
    addresses = {seen.host: _address(seen.host) or seen.host for seen in keep}
    families = {ipaddress.ip_address(a).version for a in addresses.values()}
    if len(families) > 1:
        raise PlanRefused(
            "findings on IPv4 and IPv6 hosts: nmap scans one address family per run; "
            "choose the hosts with --host"
        )
    ports: set[tuple[int, str]] = set()
    host_scripts: set[str] = set()
    for seen in keep:
        if seen.port is not None:
            ports.add((seen.port, seen.protocol or "tcp"))
        elif original.hosts is not None:
            host_scripts.add(seen.host)
            ports.update(original.hosts[seen.host].open_ports)
    if host_scripts:
        notes.append(
            "host scripts decide from the ports a scan found open (445 for smb-*): the open "
            f"ports the original found on {', '.join(sorted(host_scripts))} are scanned again"
        )
    ports = {(p, proto) for p, proto in ports if proto in ("tcp", "udp")}
    services, services_path = services_table(dirs)
    reasons = _version_reasons(keep, carried, services, services_path)
    scripts = tuple(sorted({seen.script for seen in keep}))

    options: list[str] = ["-Pn"]
    if carried.dns:
        options.append(carried.dns)
    if families == {6}:
        options.append("-6")
    if any(proto == "tcp" for _, proto in ports) and carried.tcp_scan:
        options.append(carried.tcp_scan)
    if any(proto == "udp" for _, proto in ports):
        options.append("-sU")
    if reasons:
        options += ["-sV", *carried.version_options]
    if carried.timing:
        options.append(carried.timing)
    if carried.privilege:
        options.append(carried.privilege)
    options += ["--script", ",".join(scripts)]
    for value in carried.script_args:
        options += ["--script-args", value]
    if carried.script_args_file:
        options += ["--script-args-file", carried.script_args_file]
    if carried.script_timeout:
        options += ["--script-timeout", carried.script_timeout]
    if carried.datadir:
        options += ["--datadir", carried.datadir]
        notes.append(
            f"--datadir {carried.datadir} is carried from the original: nmap reads its data "
            "files (nmap-services, scripts) from there first"
        )
    options += ["-p", _port_spec(ports)] if ports else ["-sn"]
    targets = tuple(
        sorted({addresses[s.host] for s in keep}, key=lambda a: ipaddress.ip_address(a))
    )
    return Plan(
        command=Command(tuple(options), targets),
        hosts=tuple(sorted({s.host for s in keep})),
        ports=tuple(sorted(ports)),
        scripts=scripts,
        version_detection=bool(reasons),
        host_scripts=frozenset(host_scripts),
        notes=tuple(notes + reasons),
        not_rechecked=tuple(skipped),
    )


def mark_not_rechecked(
    diff: Diff, plan: Plan, open_after: set[tuple[str, int, str]] | None = None
) -> list[tuple[Item, str]]:
    """Move findings the rescan did not really look at again from *fixed* to *not rechecked*.

    :func:`advisor.diff.compare` calls a finding fixed when the AFTER scan listed its host and
    port. A rescan runs only the plan's scripts, and a script runs only on an open port: a
    finding whose script was not run there (one this nmap lacks, a host script without its
    ports), or whose port is no longer open (``open_after``: the open ``(host, port,
    protocol)`` of the AFTER scan), is not fixed, only not rechecked: a closed port or a
    stopped server is not a fix. Returns the moved items and why, and the findings that
    :func:`~advisor.diff.compare` already kept out of *fixed* because their port was closed."""
    moved: list[tuple[Item, str]] = []
    if open_after is not None:
        # compare() already left these out of *fixed* (their port is no longer open); say why.
        closed = [
            i
            for i in diff.not_rechecked
            if i.port is not None
            and plan.covers(i.host, i.port, i.protocol, i.script)
            and (i.host, i.port, i.protocol or "tcp") not in open_after
        ]
        notes = [
            (i, "the port is not open in the rescan, so no script could check it") for i in closed
        ]
    else:
        notes = []
    for item in diff.fixed:
        proto = item.protocol or "tcp"
        if not plan.covers(item.host, item.port, item.protocol, item.script):
            moved.append((item, f"the rescan did not run {item.script} there"))
        elif (
            open_after is not None
            and item.port is not None
            and (item.host, item.port, proto) not in open_after
        ):
            moved.append((item, "the port is not open in the rescan, so no script could check it"))
    if not moved:
        return notes
    ids = {id(i) for i, _ in moved}
    diff.fixed = [i for i in diff.fixed if id(i) not in ids]
    diff.not_rechecked = diff.not_rechecked + [i for i, _ in moved]
    diff.not_rechecked.sort(
        key=lambda i: (-severity_rank(i.severity), i.kb_id or "", i.host, i.port or 0)
    )
    return notes + moved
