"""Process name -> software and role, in words a junior admin can act on.

Names come from ``ss`` (the kernel's 15-character ``comm``), ``netstat`` (``nginx: master``
style titles) or ``lsof`` (COMMAND cut to 9 characters by default), so matching tries, in order:
the exact name, the name before ``:`` (process titles), patterns such as ``php-fpm*``, and a
known name that a truncated name is the start of.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.evidence.listeners import ProcessRef
from advisor.messages import Code, Seg, english, text

__all__ = [
    "ProcessInfo",
    "SocketOwners",
    "describe_socket",
    "identify",
]

# Roles: "owner" holds the listening socket and hands connections out (a master process);
# "worker" serves connections on a socket it inherited; "proxy" forwards to something else;
# "activator" opened the socket for a service that is started on demand; "server" does both.


@dataclass(frozen=True, slots=True)
class _Entry:
    names: tuple[str, ...]
    software: str
    kind: str
    role: str
    next_steps: tuple[str, ...] = ()


_TABLE: tuple[_Entry, ...] = (
    # Postfix
    _Entry(
        ("master",),
        "Postfix",
        "owner",
        "the Postfix master daemon: it opens every listening socket named in "
        "/etc/postfix/master.cf and starts a server process (smtpd, postscreen ...) for each "
        "connection. The service line in master.cf decides which settings apply on the port.",
        ("postconf -M", "postconf -n"),
    ),
    _Entry(
        ("smtpd",),
        "Postfix",
        "worker",
        "the Postfix SMTP server: a per-connection process that master forked; it inherited "
        "the listening socket from master. Its TLS settings are main.cf plus the -o overrides "
        "of its service line in master.cf.",
        ("postconf -M", "postconf -n"),
    ),
    _Entry(
        ("postscreen",),
        "Postfix",
        "worker",
        "Postfix postscreen: screens SMTP clients on port 25 before handing them to an smtpd "
        "process (the 'smtpd pass' service in master.cf). With tlsproxy it also does STARTTLS.",
        ("postconf -M",),
    ),
    _Entry(
        ("tlsproxy",),
        "Postfix",
        "worker",
        "Postfix tlsproxy: does TLS on behalf of postscreen (and the SMTP client); it uses the "
        "tlsproxy_* settings, which default to the smtpd_tls_* ones.",
        ("postconf -n | grep tls",),
    ),
    # Dovecot
    _Entry(
        ("dovecot",),
        "Dovecot",
        "owner",
        "the Dovecot master process: it opens the IMAP/POP3/submission listeners configured "
        "in /etc/dovecot (service ... { inet_listener ... }) and passes connections to the "
        "*-login processes.",
        ("doveconf -n",),
    ),
    _Entry(
        ("imap-login",),
        "Dovecot",
        "worker",
        "Dovecot's IMAP login process: it does TLS and authentication for IMAP (143/993) before "
        "handing the session to an imap process.",
        ("doveconf -n",),
    ),
    _Entry(
        ("pop3-login",),
        "Dovecot",
        "worker",
        "Dovecot's POP3 login process: TLS and authentication for POP3 (110/995).",
        ("doveconf -n",),
    ),
    _Entry(
        ("submission-login",),
        "Dovecot",
        "worker",
        "Dovecot's submission login process: Dovecot's own mail submission service (587/465), "
        "which relays to an MTA such as Postfix.",
        ("doveconf -n",),
    ),
    _Entry(
        ("managesieve-login",),
        "Dovecot",
        "worker",
        "Dovecot's ManageSieve login process (port 4190).",
        ("doveconf -n",),
    ),
    # Web servers
    _Entry(
        ("nginx",),
        "nginx",
        "server",
        "nginx: the master process opens the sockets from the listen directives and its worker "
        "processes (same name) serve the connections; settings come from the server block whose "
        "listen matches the port.",
        ("nginx -T",),
    ),
    _Entry(
        ("apache2", "httpd"),
        "Apache httpd",
        "server",
        "Apache httpd: the parent process opens the Listen ports and its children (same name) "
        "serve the connections; TLS settings live in the matching <VirtualHost> (mod_ssl).",
        ("apachectl -S", "apachectl -t -D DUMP_RUN_CFG"),
    ),
    # Other MTAs
    _Entry(
        ("exim4", "exim"),
        "Exim",
        "server",
        "the Exim mail server daemon: it listens on the SMTP ports and forks a process per "
        "connection; TLS settings are tls_* options in the Exim configuration.",
        ("exim -bP", "exim -bV"),
    ),
    _Entry(
        ("sendmail",),
        "Sendmail",
        "server",
        "the Sendmail daemon: it listens on the SMTP ports (DaemonPortOptions) and forks a "
        "process per connection; TLS options are in sendmail.mc / sendmail.cf.",
        ("sendmail -d0.1 -bv root",),
    ),
    # Proxies and TLS terminators
    _Entry(
        ("haproxy",),
        "HAProxy",
        "proxy",
        "HAProxy: a proxy/load balancer. If it terminates TLS (bind ... ssl crt ...), the TLS "
        "settings are HAProxy's; otherwise it passes the connection to a backend server, whose "
        "settings are the ones the scan saw.",
        ("haproxy -c -f /etc/haproxy/haproxy.cfg",),
    ),
    _Entry(
        ("stunnel", "stunnel4"),
        "stunnel",
        "proxy",
        "stunnel: wraps a plain-text service in TLS. The TLS settings the scan saw are "
        "stunnel's (ciphers/options in its .conf), not the service's behind it.",
        ("ls /etc/stunnel/",),
    ),
    _Entry(
        ("docker-proxy",),
        "Docker (published container port)",
        "proxy",
        "docker-proxy: this port is published from a container (docker run -p / compose ports:). "
        "The software that answered the scan runs inside the container, so its configuration is "
        "in the container image or its mounted config, not on the host.",
        (
            "docker ps --format 'table {{.ID}}\\t{{.Image}}\\t{{.Names}}\\t{{.Ports}}'",
            "docker inspect CONTAINER  # the image, mounts and command",
            "docker exec CONTAINER ...  # read the service's own config inside",
        ),
    ),
    _Entry(
        ("systemd",),
        "systemd (socket activation)",
        "activator",
        "systemd holds this socket for socket activation: it starts the real service when a "
        "connection arrives. Find which unit owns the socket before changing anything.",
        ("systemctl list-sockets", "systemctl status UNIT.socket"),
    ),
    # Others commonly found on the same hosts
    _Entry(
        ("sshd",),
        "OpenSSH",
        "server",
        "the OpenSSH server daemon (settings in /etc/ssh/sshd_config).",
        ("sshd -T",),
    ),
    _Entry(
        ("mariadbd", "mysqld", "mariadb", "mysql"),
        "MariaDB/MySQL",
        "server",
        "the MariaDB/MySQL database server (settings under /etc/mysql/).",
        ("mysqld --print-defaults",),
    ),
    _Entry(
        ("php-fpm*",),
        "PHP-FPM",
        "server",
        "PHP-FPM: the FastCGI process manager that runs PHP for the web server; normally not "
        "reachable from outside (it should listen on a Unix socket or 127.0.0.1).",
        ("php-fpm -tt",),
    ),
)

_TRUNCATED_LENGTHS = frozenset({9, 15})
"""lsof's default COMMAND width and the kernel's comm length (16 bytes with the NUL)."""


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """What a process name means."""

    process: str
    """The name as the tool printed it."""
    software: str | None
    """``Postfix``, ``Dovecot`` ...; None when the name is unknown."""
    kind: str
    """``owner``, ``worker``, ``server``, ``proxy``, ``activator`` or ``unknown``."""
    role: str
    """One or two plain sentences about what this process does."""
    next_steps: tuple[str, ...] = ()
    """Commands that show the configuration that applies."""
    matched_by: str = "exact"
    """``exact``, ``title``, ``pattern``, ``truncated`` or ``none``: how the name matched."""


def _match(name: str) -> tuple[_Entry, str] | None:
    for entry in _TABLE:
        if name in entry.names:
            return entry, "exact"
    # netstat shows process titles such as "nginx: master" or "php-fpm: pool www"
    head = name.split(":", 1)[0].strip()
    if head != name:
        for entry in _TABLE:
            if head in entry.names:
                return entry, "title"
    for entry in _TABLE:
        for pat in entry.names:
            if any(ch in pat for ch in "*?[") and (
                fnmatch.fnmatchcase(name, pat) or fnmatch.fnmatchcase(head, pat)
            ):
                return entry, "pattern"
    if len(name) in _TRUNCATED_LENGTHS:
        for entry in _TABLE:
            for known in entry.names:
                plain = known.rstrip("*")
                if len(plain) > len(name) and plain.startswith(name):
                    return entry, "truncated"
    return None


def identify(name: str) -> ProcessInfo:
    """Explain one process name. Unknown names come back as they are, with software None."""
    found = _match(name)
    if found is None:
        return ProcessInfo(name, None, "unknown", "not a process advisor knows", (), "none")
    entry, how = found
    role = entry.role
    if how == "truncated":
        role += f" (the name {name!r} looks cut short by the tool that printed it)"
    return ProcessInfo(name, entry.software, entry.kind, role, entry.next_steps, how)


@dataclass(frozen=True, slots=True)
class SocketOwners:
    """Who holds one socket, explained."""

    software: tuple[str, ...]
    """Distinct software names found; more than one is worth a second look."""
    owner: ProcessRef | None
    """The process that opened the socket (Postfix ``master``, the nginx master ...)."""
    workers: tuple[ProcessRef, ...]
    """Other processes that hold it (per-connection children, nginx workers ...)."""
    infos: tuple[ProcessInfo, ...]
    """One entry per distinct process name, in the order the tool printed them."""
    text: tuple[Seg, ...]
    """One sentence, e.g. ``Postfix: master (pid 2078) owns the listening socket ...``, as
    words and literal values (process names are :class:`~advisor.messages.Code`)."""

    @property
    def summary(self) -> str:
        """:attr:`text` as plain text."""
        return english((text(*self.text),))


def _pid(p: ProcessRef) -> str:
    return f" (pid {p.pid})" if p.pid is not None else ""


def describe_socket(processes: Sequence[ProcessRef]) -> SocketOwners:
    """Explain the processes that ``ss``/``lsof``/``netstat`` list for one socket."""
    if not processes:
        return SocketOwners(
            (),
            None,
            (),
            (),
            ("the tool did not name the process (run it as root, with -p)",),
        )
    by_name: dict[str, ProcessInfo] = {}
    for p in processes:
        if p.name not in by_name:
            by_name[p.name] = identify(p.name)
    software = tuple(dict.fromkeys(i.software for i in by_name.values() if i.software))
    owner: ProcessRef | None = None
    for kind in ("owner", "activator", "server", "proxy"):
        cands = [p for p in processes if by_name[p.name].kind == kind]
        if cands:
            # The parent is the lowest pid among processes of the owning kind.
            owner = min(cands, key=lambda p: p.pid if p.pid is not None else 1 << 62)
            break
    if owner is None:
        owner = processes[0] if len(by_name) == 1 and len(processes) == 1 else None
    workers = tuple(p for p in processes if p is not owner)
    return SocketOwners(
        software,
        owner,
        workers,
        tuple(by_name.values()),
        _summary(software, owner, workers, by_name),
    )


def _summary(
    software: tuple[str, ...],
    owner: ProcessRef | None,
    workers: tuple[ProcessRef, ...],
    infos: dict[str, ProcessInfo],
) -> tuple[Seg, ...]:
    label = " + ".join(software) if software else "unknown software"
    parts: list[tuple[Seg, ...]] = []
    if owner is not None:
        info = infos[owner.name]
        name = Code(owner.name)
        if info.kind == "owner":
            parts.append((name, f"{_pid(owner)} owns the listening socket"))
        elif info.kind == "activator":
            parts.append((name, f"{_pid(owner)} holds the socket for socket activation"))
        elif info.kind == "proxy":
            parts.append((name, f"{_pid(owner)} is a proxy in front of the real service"))
        else:
            parts.append((name, f"{_pid(owner)} holds the socket"))
    same = [w for w in workers if owner is not None and w.name == owner.name]
    other = [w for w in workers if owner is None or w.name != owner.name]
    if same and owner is not None:
        pids = ", ".join(str(w.pid) for w in same if w.pid is not None)
        parts.append((f"{len(same)} more ", Code(owner.name), f" process(es) share it ({pids})"))
    for w in other:
        info = infos[w.name]
        if info.software == "Postfix" and w.name == "smtpd":
            parts.append(
                (Code("smtpd"), f"{_pid(w)} is the per-connection SMTP server that master forked")
            )
        elif info.kind == "worker" and info.software:
            parts.append(
                (Code(w.name), f"{_pid(w)} is a {info.software} worker serving a connection")
            )
        else:
            parts.append((Code(w.name), f"{_pid(w)} also holds it"))
    if len(software) > 1:
        parts.append(("more than one program holds this socket: check which one answers",))
    joined: list[Seg] = []
    for i, part in enumerate(parts):
        joined.extend((("; ",) if i else ()) + part)
    if not software:
        return (*joined, " (a program advisor does not know)")
    return (f"{label}: ", *joined) if parts else (label,)
