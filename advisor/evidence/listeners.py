"""Read listening sockets from ``ss``, ``netstat`` or ``lsof`` output, whichever was pasted.

Supported, detected line by line (so a paste that mixes tools still reads):

* ``ss -lnpt`` / ``ss -tlnp`` / ``ss -lntup`` / ``ss -H ...`` (iproute2): with or without the
  header, with or without the ``Netid`` column, with ``users:((...),(...))`` or without it (run
  without root), old ``users:(("sshd",1234,3))`` form, ``%iface`` suffixes, ``-e`` extras.
* ``netstat -tlnp`` / ``-tulnp`` (net-tools): ``1234/master``, ``1234/nginx: master``, ``-``.
* ``lsof -nP -iTCP -sTCP:LISTEN`` (and ``-iUDP``): one line per process holding the socket;
  lines for the same socket are merged.

Address semantics (what :meth:`ListenerTable.lookup` relies on):

* ``0.0.0.0`` is the IPv4 wildcard; ``[::]`` / ``::`` the IPv6 wildcard.
* iproute2 ``ss`` prints an IPv6 wildcard socket that also accepts IPv4 (``IPV6_V6ONLY`` off)
  as ``*`` and one that does not as ``[::]`` (``inet_addr_print`` in iproute2's ``misc/ss.c``).
  So from modern ``ss`` the dual-stack question is answered by the evidence itself.
  ``netstat`` and ``lsof`` do not say; there an IPv6 wildcard is taken to accept IPv4 too (the
  Linux default, ``net.ipv6.bindv6only = 0``) unless the same table shows an IPv4 socket on the
  same port, which could not coexist with a dual-stack one.
* Old ``ss`` (iproute2 before brackets, IPv6 printed as ``:::22``) used ``*`` for IPv4 any.
  Either way ``*`` accepts IPv4.
* IPv4-mapped IPv6 addresses (``[::ffff:1.2.3.4]``) are folded to IPv4.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace

__all__ = [
    "Listener",
    "ListenerTable",
    "ProcessRef",
    "normalise_address",
    "parse_listeners",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SS_STATES = frozenset(
    {
        "LISTEN",
        "UNCONN",
        "ESTAB",
        "SYN-SENT",
        "SYN-RECV",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "TIME-WAIT",
        "CLOSE-WAIT",
        "LAST-ACK",
        "CLOSING",
        "CLOSED",
        "UNKNOWN",
    }
)
_KEEP_STATES = frozenset({"LISTEN", "UNCONN"})
_NETIDS = frozenset({"tcp", "udp", "tcp6", "udp6", "raw", "sctp", "mptcp", "dccp"})
_HEADER_WORDS = (
    "State ",
    "Netid ",
    "Proto ",
    "Active Internet",
    "COMMAND ",
    "(Not all",
    "(No info",
    "will not be shown",
)

# ("name",pid=1,fd=2) (current iproute2) or ("name",1,2) (old iproute2). Names are quoted and
# may hold spaces, commas or parentheses; ss does not escape quotes, so stop at '",'.
_SS_PROC = re.compile(r'\("(?P<name>.*?)",(?:pid=)?(?P<pid>\d+),(?:fd=)?(?P<fd>\d+)\)')


@dataclass(frozen=True, slots=True)
class ProcessRef:
    """A process that holds a socket, as the tool printed it."""

    name: str
    pid: int | None = None
    fd: int | None = None
    user: str | None = None
    """Only ``lsof`` prints the user."""


@dataclass(frozen=True, slots=True)
class Listener:
    """One listening (TCP) or bound (UDP) socket."""

    protocol: str
    """``tcp`` or ``udp``."""
    address: str
    """Normalised: ``0.0.0.0``, ``::``, ``127.0.0.1``, ``::1`` (no brackets, no zone)."""
    family: str
    """``ipv4`` or ``ipv6`` (after folding IPv4-mapped addresses)."""
    port: int
    wildcard: bool
    dual_stack: bool | None = None
    """IPv6 wildcard only: True accepts IPv4 too, False is IPv6-only, None the tool did not say."""
    interface: str | None = None
    """The ``%iface`` suffix (socket bound to a device), if any."""
    processes: tuple[ProcessRef, ...] = ()
    state: str = ""
    source: str = ""
    """``ss``, ``netstat`` or ``lsof``."""
    line: str = ""
    """The input line, verbatim, to quote as evidence."""
    lineno: int = 0

    @property
    def endpoint(self) -> str:
        """``0.0.0.0:465`` / ``[::1]:587``, as a person would write it."""
        host = f"[{self.address}]" if self.family == "ipv6" else self.address
        if self.interface:
            host += f"%{self.interface}"
        return f"{host}:{self.port}"

    @property
    def process_names(self) -> tuple[str, ...]:
        """Distinct process names, in the order the tool printed them."""
        seen: dict[str, None] = {}
        for p in self.processes:
            seen.setdefault(p.name, None)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class ListenerTable:
    """Everything read from one host's listener evidence."""

    listeners: tuple[Listener, ...] = ()
    formats: tuple[str, ...] = ()
    """Tools recognised in the input, in order of first appearance."""
    warnings: tuple[str, ...] = field(default=())

    @property
    def format(self) -> str:
        """The tool behind the input: ``ss``, ``netstat``, ``lsof``, ``mixed`` or ``unknown``."""
        if not self.formats:
            return "unknown"
        return self.formats[0] if len(self.formats) == 1 else "mixed"

    @property
    def has_process_info(self) -> bool:
        """False when no socket names a process (ss/netstat run without root, or without -p)."""
        return any(lst.processes for lst in self.listeners)

    def on_port(self, port: int, protocol: str = "tcp") -> list[Listener]:
        """Every socket on this port, whatever its address."""
        proto = protocol.lower()
        return [x for x in self.listeners if x.port == port and x.protocol == proto]

    def lookup(self, address: str, port: int, protocol: str = "tcp") -> list[Listener]:
        """Sockets that would receive a connection to ``address:port``.

        Exact address, or a wildcard of the right family; an IPv6 wildcard also serves IPv4 when
        the evidence says it is dual-stack (``ss`` ``*``), or when the tool could not say and no
        IPv4 socket shares the port. Never a socket bound to another specific address. An
        unparsable ``address`` matches nothing.
        """
        target = normalise_address(address)
        if target is None:
            return []
        ip, _zone = target
        proto = protocol.lower()
        candidates = self.on_port(port, proto)
        ipv4_on_port = any(c.family == "ipv4" for c in candidates)
        out: list[Listener] = []
        for c in candidates:
            if not c.wildcard:
                if ipaddress.ip_address(c.address) == ip:
                    out.append(c)
                continue
            if c.interface == "lo" and not ip.is_loopback:
                continue
            if c.family == "ipv4":
                if ip.version == 4:
                    out.append(c)
            elif _v6_wildcard_serves(c, ip, ipv4_on_port):
                out.append(c)
        return out


def _v6_wildcard_serves(c: Listener, ip: IPAddress, ipv4_on_port: bool) -> bool:
    """Whether an IPv6 wildcard socket receives a connection to ``ip``."""
    if ip.version == 6 or c.dual_stack:
        return True
    # The tool did not say: Linux's default is dual-stack, impossible beside an IPv4 socket.
    return c.dual_stack is None and not ipv4_on_port


def normalise_address(text: str) -> tuple[IPAddress, str | None] | None:
    """Parse ``1.2.3.4``, ``[::1]``, ``fe80::1%eth0``, ``::ffff:1.2.3.4`` -> (address, zone).

    IPv4-mapped IPv6 addresses come back as IPv4. None when it is not an IP address.
    """
    s = text.strip()
    zone: str | None = None
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            return None
        rest = s[end + 1 :]
        s = s[1:end]
        if rest.startswith("%"):
            zone = rest[1:] or None
        elif rest:
            return None
    if "%" in s:
        s, _, z = s.partition("%")
        zone = zone or z or None
    try:
        ip: IPAddress = ipaddress.ip_address(s)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip, zone


@dataclass(slots=True)
class _Builder:
    listeners: list[Listener] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_states: dict[str, int] = field(default_factory=dict)

    def saw(self, fmt: str) -> None:
        if fmt not in self.formats:
            self.formats.append(fmt)


def _split_endpoint(token: str) -> tuple[str, str] | None:
    """``0.0.0.0:465`` -> (``0.0.0.0``, ``465``); handles ``[::]:22``, ``:::22``, ``*%lo:53``."""
    if ":" not in token:
        return None
    host, _, port = token.rpartition(":")
    if not host:
        return None
    return host, port


@dataclass(frozen=True, slots=True)
class _Addr:
    address: str
    family: str
    wildcard: bool
    dual_stack: bool | None
    interface: str | None


def _parse_host(host: str, tool: str, old_ss: bool, family_hint: str | None) -> _Addr | None:
    interface: str | None = None
    h = host
    if h.startswith("[") and "]" in h:
        end = h.index("]")
        rest = h[end + 1 :]
        if rest.startswith("%"):
            interface = rest[1:] or None
        h = h[1:end]
        bracketed = True
    else:
        bracketed = False
        if "%" in h:
            h, _, iface = h.partition("%")
            interface = iface or None
    if h == "*":
        if tool == "ss" and not old_ss:
            return _Addr("::", "ipv6", True, True, interface)
        if tool == "lsof" and family_hint == "ipv6":
            return _Addr("::", "ipv6", True, None, interface)
        return _Addr("0.0.0.0", "ipv4", True, None, interface)
    try:
        ip: IPAddress = ipaddress.ip_address(h)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped
        if mapped is not None:
            return _Addr(str(mapped), "ipv4", mapped.is_unspecified, None, interface)
        if ip.is_unspecified:
            dual: bool | None = None
            if tool == "ss" and bracketed and not old_ss:
                dual = False  # modern ss prints a dual-stack wildcard as "*"
            return _Addr("::", "ipv6", True, dual, interface)
        return _Addr(str(ip), "ipv6", False, None, interface)
    return _Addr(str(ip), "ipv4", ip.is_unspecified, None, interface)


def _port(text: str) -> int | None:
    if text.isdigit():
        n = int(text)
        if 0 <= n <= 65535:
            return n
    return None


def _ss_processes(text: str) -> tuple[ProcessRef, ...]:
    idx = text.find("users:(")
    if idx < 0:
        return ()
    return tuple(
        ProcessRef(m.group("name"), int(m.group("pid")), int(m.group("fd")))
        for m in _SS_PROC.finditer(text, idx)
    )


def _looks_old_ss(lines: list[str]) -> bool:
    """True when IPv6 addresses appear unbracketed (``:::22``) in ss-shaped lines."""
    for line in lines:
        toks = line.split()
        if len(toks) >= 5 and (toks[0] in _SS_STATES or toks[0] in _NETIDS):
            for t in toks[3:6]:
                if t.startswith(":::") or t.startswith("::1:"):
                    return True
                if "[" in t:
                    return False
    return False


def _add(
    b: _Builder,
    tool: str,
    protocol: str,
    state: str,
    endpoint: str,
    procs: tuple[ProcessRef, ...],
    line: str,
    lineno: int,
    old_ss: bool,
    family_hint: str | None = None,
) -> None:
    split = _split_endpoint(endpoint)
    if split is None:
        b.warnings.append(f"line {lineno}: cannot read the local address {endpoint!r}")
        return
    host, port_text = split
    port = _port(port_text)
    if port is None:
        b.warnings.append(f"line {lineno}: port {port_text!r} is not numeric (run with -n)")
        return
    addr = _parse_host(host, tool, old_ss, family_hint)
    if addr is None:
        b.warnings.append(f"line {lineno}: address {host!r} is not numeric (run with -n)")
        return
    b.listeners.append(
        Listener(
            protocol=protocol,
            address=addr.address,
            family=addr.family,
            port=port,
            wildcard=addr.wildcard,
            dual_stack=addr.dual_stack,
            interface=addr.interface,
            processes=procs,
            state=state,
            source=tool,
            line=line.rstrip("\n"),
            lineno=lineno,
        )
    )
    b.saw(tool)


def _parse_ss(b: _Builder, toks: list[str], line: str, lineno: int, old_ss: bool) -> bool:
    if toks[0] in _NETIDS and len(toks) >= 6 and toks[1] in _SS_STATES:
        netid, state, rest = toks[0], toks[1], toks[2:]
    elif toks[0] in _SS_STATES and len(toks) >= 5:
        netid, state, rest = "tcp", toks[0], toks[1:]
    else:
        return False
    if not (rest[0].isdigit() and rest[1].isdigit()):
        return False
    protocol = "udp" if netid.startswith("udp") else "tcp"
    if netid not in ("tcp", "tcp6", "udp", "udp6"):
        b.saw("ss")
        return True
    if state not in _KEEP_STATES:
        b.skipped_states[state] = b.skipped_states.get(state, 0) + 1
        b.saw("ss")
        return True
    _add(b, "ss", protocol, state, rest[2], _ss_processes(line), line, lineno, old_ss)
    return True


def _parse_netstat(b: _Builder, toks: list[str], line: str, lineno: int) -> bool:
    if toks[0] not in ("tcp", "tcp6", "udp", "udp6") or len(toks) < 5:
        return False
    if not (toks[1].isdigit() and toks[2].isdigit()):
        return False
    protocol = "udp" if toks[0].startswith("udp") else "tcp"
    rest = toks[5:]
    state = ""
    if rest and (rest[0].isupper() and "/" not in rest[0] and rest[0] != "-"):
        state = rest[0]
        rest = rest[1:]
    if (protocol == "tcp" and state != "LISTEN") or (protocol == "udp" and state):
        b.skipped_states[state or "?"] = b.skipped_states.get(state or "?", 0) + 1
        b.saw("netstat")
        return True
    procs: tuple[ProcessRef, ...] = ()
    if rest and rest[0] != "-":
        # "1234/master" or "1234/nginx: master" (the name may hold spaces): rest of the line.
        prog = " ".join(rest)
        pid_text, _, name = prog.partition("/")
        if pid_text.isdigit() and name:
            procs = (ProcessRef(name.strip(), int(pid_text), None),)
    family_hint = "ipv6" if toks[0].endswith("6") else "ipv4"
    _add(
        b,
        "netstat",
        protocol,
        state or "UNCONN",
        toks[3],
        procs,
        line,
        lineno,
        False,
        family_hint,
    )
    return True


def _lsof_unescape(name: str) -> str:
    """lsof prints unprintable bytes in COMMAND as ``\\xNN``."""

    def repl(m: re.Match[str]) -> str:
        return chr(int(m.group(1), 16))

    return re.sub(r"\\x([0-9a-fA-F]{2})", repl, name)


def _parse_lsof(b: _Builder, toks: list[str], line: str, lineno: int) -> bool:
    fam_idx = next((i for i, t in enumerate(toks) if t in ("IPv4", "IPv6")), -1)
    if fam_idx < 2 or not toks[1].isdigit():
        return False
    proto_idx = next((i for i in range(fam_idx + 1, len(toks)) if toks[i] in ("TCP", "UDP")), -1)
    if proto_idx < 0 or proto_idx + 1 >= len(toks):
        return False
    protocol = toks[proto_idx].lower()
    name = toks[proto_idx + 1]
    state = ""
    tail = " ".join(toks[proto_idx + 2 :])
    m = re.search(r"\(([A-Z_]+)\)", tail)
    if m:
        state = m.group(1)
    if "->" in name or (protocol == "tcp" and state and state != "LISTEN"):
        b.skipped_states[state or "connected"] = b.skipped_states.get(state or "connected", 0) + 1
        b.saw("lsof")
        return True
    fd_text = toks[fam_idx - 1] if fam_idx >= 1 else ""
    fd_digits = re.match(r"\d+", fd_text)
    user = toks[2] if fam_idx >= 4 else None
    proc = ProcessRef(
        _lsof_unescape(toks[0]),
        int(toks[1]),
        int(fd_digits.group(0)) if fd_digits else None,
        user,
    )
    family_hint = "ipv6" if toks[fam_idx] == "IPv6" else "ipv4"
    _add(b, "lsof", protocol, state or "UNCONN", name, (proc,), line, lineno, False, family_hint)
    return True


def _merge_lsof(listeners: list[Listener]) -> list[Listener]:
    """lsof prints one line per process holding a socket: merge them into one socket."""
    out: list[Listener] = []
    index: dict[tuple[str, str, int, str | None, str], int] = {}
    for lst in listeners:
        if lst.source != "lsof":
            out.append(lst)
            continue
        key = (lst.protocol, lst.address, lst.port, lst.interface, lst.family)
        if key in index:
            prev = out[index[key]]
            merged = prev.processes + tuple(p for p in lst.processes if p not in prev.processes)
            out[index[key]] = replace(prev, processes=merged, line=prev.line + "\n" + lst.line)
        else:
            index[key] = len(out)
            out.append(lst)
    return out


def parse_listeners(text: str) -> ListenerTable:
    """Read ``ss``/``netstat``/``lsof`` listener output. Never raises on any ``str``.

    Lines that belong to none of the formats are skipped with a warning (headers and known
    notices silently). Non-listening TCP sockets (``ESTAB`` ...) are skipped and counted.
    """
    b = _Builder()
    try:
        lines = text.splitlines()
        old_ss = _looks_old_ss(lines)
        unknown = 0
        for lineno, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith(_HEADER_WORDS) or stripped.startswith("#"):
                continue
            if stripped.startswith("users:(") and b.listeners:
                # A paste from a narrow terminal broke the process column onto its own line.
                prev = b.listeners[-1]
                if prev.source == "ss" and not prev.processes:
                    b.listeners[-1] = _with_processes(prev, _ss_processes(stripped), line)
                    continue
            toks = stripped.split()
            if (
                _parse_ss(b, toks, line, lineno, old_ss)
                or _parse_netstat(b, toks, line, lineno)
                or _parse_lsof(b, toks, line, lineno)
            ):
                continue
            unknown += 1
            if unknown <= 5:
                b.warnings.append(f"line {lineno}: not ss, netstat or lsof output: {line[:80]!r}")
        if unknown > 5:
            b.warnings.append(f"{unknown - 5} more unrecognised lines")
        listeners = _merge_lsof(b.listeners)
    except Exception as exc:  # pragma: no cover - defensive: untrusted input must not crash us
        b.warnings.append(f"listener evidence reader stopped early: {exc!r}")
        listeners = b.listeners
    if b.skipped_states:
        summary = ", ".join(f"{n} {s}" for s, n in sorted(b.skipped_states.items()))
        b.warnings.append(f"skipped non-listening sockets: {summary}")
    anonymous = sum(1 for x in listeners if not x.processes)
    if anonymous and anonymous == len(listeners):
        b.warnings.append("no socket names its process: run the command as root (sudo) and with -p")
    elif anonymous:
        b.warnings.append(
            f"{anonymous} of {len(listeners)} sockets name no process: if the command ran "
            "without root, run it with sudo (other users' processes are hidden); a socket that "
            "belongs to another network namespace has none even for root"
        )
    return ListenerTable(tuple(listeners), tuple(b.formats), tuple(b.warnings))


def _with_processes(prev: Listener, procs: tuple[ProcessRef, ...], line: str) -> Listener:
    return replace(prev, processes=procs, line=prev.line + "\n" + line.rstrip("\n"))
