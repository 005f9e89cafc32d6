"""What is known about the endpoint of a finding: TLS mode and the software behind the port.

Evidence is combined from the strongest source to the weakest: the server's own listener table
(``ss``), its configuration, nmap ``-sV`` (product, version, CPE), and last the port convention.
Each step is recorded so the advisory can show the chain and a confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from libnmap.objects.cpe import CPE

from advisor.advise.identification import HostProfile, Indicator, service_appliance
from advisor.messages import Code, Msg, english, msg
from advisor.model import Service

#: Ports where TLS starts at once (implicit / wrapper mode).
IMPLICIT_TLS_PORTS = frozenset({443, 465, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 8443})
#: Ports where TLS starts with STARTTLS and the clients are users who authenticate.
STARTTLS_PORTS = frozenset({21, 110, 119, 143, 389, 587, 4190, 5222, 5269, 5432, 3306})
#: Port 25: server-to-server mail, TLS only if both sides want it, no certificate checks.
OPPORTUNISTIC_PORTS = frozenset({25})
_IMPLICIT_SERVICES = frozenset(
    {"https", "smtps", "submissions", "imaps", "pop3s", "ldaps", "ftps", "https-alt"}
)

#: What usually listens on a port, used only when nothing better is known.
PORT_CONVENTION: dict[int, tuple[str, ...]] = {
    25: ("postfix", "exim", "sendmail"),
    465: ("postfix", "exim"),
    587: ("postfix", "exim", "sendmail"),
    110: ("dovecot",),
    143: ("dovecot",),
    993: ("dovecot",),
    995: ("dovecot",),
    80: ("nginx", "apache"),
    443: ("nginx", "apache", "haproxy"),
    8443: ("nginx", "apache"),
    22: ("openssh",),
    3306: ("mariadb",),
}

#: Mail ports, where a note says that Dovecot is not the one answering (wording: en.toml).
MAIL_PORTS = frozenset({25, 465, 587})
#: Ports whose role is explained (wording: ``role_<port>`` in advisor/locales/en.toml).
PORT_ROLES = frozenset({25, 465, 587, 110, 143, 993, 995, 80, 443, 8443})

SOFTWARE_NAMES: dict[str, str] = {
    "postfix": "Postfix",
    "exim": "Exim",
    "sendmail": "Sendmail",
    "dovecot": "Dovecot",
    "nginx": "nginx",
    "apache": "Apache httpd",
    "haproxy": "HAProxy",
    "openssh": "OpenSSH",
    "mariadb": "MariaDB/MySQL",
    "stunnel": "stunnel",
    "windows": "Microsoft Windows",
    "samba": "Samba",
    "vsftpd": "vsftpd",
    "proftpd": "ProFTPD",
    "pure-ftpd": "Pure-FTPd",
    "redis": "Redis",
    "memcached": "memcached",
    "bind": "ISC BIND",
    "unbound": "Unbound",
    "dnsmasq": "dnsmasq",
    "x11vnc": "x11vnc",
    "tigervnc": "TigerVNC",
    "cyrus": "Cyrus IMAP",
}

_PRODUCT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), name)
    for p, name in (
        (r"\bpostfix\b", "postfix"),
        (r"\bexim\b", "exim"),
        (r"\bsendmail\b", "sendmail"),
        (r"\bdovecot\b", "dovecot"),
        (r"\bnginx\b", "nginx"),
        (r"\bapache\b.*\bhttpd\b|^apache httpd|^apache$", "apache"),
        (r"\bhaproxy\b", "haproxy"),
        (r"\bopenssh\b", "openssh"),
        (r"\bmariadb\b|\bmysql\b", "mariadb"),
        (r"\bstunnel\b", "stunnel"),
        (r"\bsamba\b", "samba"),
        (r"\bvsftpd\b", "vsftpd"),
        (r"\bproftpd\b", "proftpd"),
        (r"\bpure-?ftpd\b", "pure-ftpd"),
        (r"\bredis\b", "redis"),
        (r"\bmemcached\b", "memcached"),
        (r"\bisc bind\b|^bind$", "bind"),
        (r"\bunbound\b", "unbound"),
        (r"\bdnsmasq\b", "dnsmasq"),
        (r"\bx11vnc\b", "x11vnc"),
        (r"\btigervnc\b", "tigervnc"),
        (r"\bcyrus\b", "cyrus"),
        (r"microsoft|windows", "windows"),
    )
)


@lru_cache(maxsize=4096)
def software_from_product(text: str) -> str | None:
    """Our software key for an nmap ``-sV`` product string or CPE product."""
    for pattern, name in _PRODUCT_PATTERNS:
        if pattern.search(text):
            return name
    return None


def display_name(software: str | None) -> str:
    if not software:
        return "unknown software"
    return SOFTWARE_NAMES.get(software, software)


def tls_mode(port: int | None, service: Service | None) -> str | None:
    """``implicit``, ``starttls``, ``opportunistic`` or None (not TLS / unknown)."""
    if port is None:
        return None
    if port in OPPORTUNISTIC_PORTS:
        return "opportunistic"
    if port in IMPLICIT_TLS_PORTS:
        return "implicit"
    if port in STARTTLS_PORTS:
        return "starttls"
    if service is not None:
        if service.tunnel == "ssl" or service.name in _IMPLICIT_SERVICES:
            return "implicit"
        if service.name in ("smtp",):
            return "opportunistic"
        if service.name in ("submission", "imap", "pop3", "ftp", "ldap", "xmpp-client"):
            return "starttls"
        if service.name in ("xmpp-server", "postgresql", "mysql", "nntp", "sieve"):
            return "starttls"
    return None


#: nmap service names and ports -> the protocol whose own command or message starts TLS on a
#: ``starttls`` port (the text advisor shows names it: PostgreSQL's SSLRequest is no STARTTLS).
_UPGRADE_SERVICES = {
    "smtp": "smtp", "submission": "smtp", "imap": "imap", "pop3": "pop3", "ftp": "ftp",
    "ldap": "ldap", "xmpp-client": "xmpp", "xmpp-server": "xmpp", "jabber": "xmpp",
    "postgresql": "postgresql", "mysql": "mysql", "nntp": "nntp", "sieve": "sieve",
}  # fmt: skip
_UPGRADE_PORTS = {
    25: "smtp", 587: "smtp", 143: "imap", 110: "pop3", 21: "ftp", 389: "ldap", 5222: "xmpp",
    5269: "xmpp", 5432: "postgresql", 3306: "mysql", 119: "nntp", 4190: "sieve",
}  # fmt: skip


def tls_upgrade(port: int | None, service: Service | None) -> str | None:
    """The protocol that upgrades the connection to TLS on a ``starttls`` or
    ``opportunistic`` port (``postgresql``, ``ldap``, ``imap``...), from nmap's service name,
    else the port; None when not known."""
    if service is not None and service.name in _UPGRADE_SERVICES:
        return _UPGRADE_SERVICES[service.name]
    return _UPGRADE_PORTS.get(port) if port is not None else None


@dataclass(frozen=True, slots=True)
class Clue:
    """One piece of evidence about the software on a port."""

    source: str
    """``ss``, ``config``, ``nmap -sV``, ``cpe``, ``port``, ``--os``."""
    text: str
    """What it says, in English plain text (a renderer that wants Markdown formats
    :attr:`parts`, see :mod:`advisor.messages`)."""
    software: str | None = None
    version: str | None = None
    version_of: str | None = None
    """A version clue that does not say what runs on the port: the version of this software,
    should it be the one (``postconf mail_version`` says nothing about port 443)."""
    parts: tuple[Msg, ...] = ()
    """The same text as messages (see advisor.messages); empty for free text (plain)."""


def clue(
    source: str,
    *parts: Msg,
    software: str | None = None,
    version: str | None = None,
    version_of: str | None = None,
) -> Clue:
    """A clue whose text is made of messages (English now, translated when rendered)."""
    return Clue(source, english(parts), software, version, version_of, parts)


@dataclass(frozen=True, slots=True)
class Identity:
    """The conclusion drawn from the clues."""

    software: str | None
    version: str | None
    confidence: str
    """``high`` (the server's own evidence), ``medium`` (nmap -sV), ``low`` (port only)."""
    clues: tuple[Clue, ...] = ()
    candidates: tuple[str, ...] = ()
    """When only the port is known: the software that usually listens there."""
    version_source: str | None = None
    disagreement: str | None = None
    product: str | None = None
    """nmap -sV's product when it names no software advisor knows (``Sagem router
    telnetd``): then fixes for the servers advisor knows do not apply here either."""
    appliance: Indicator | None = None
    """Why this endpoint looks like an appliance's (its TLS comes with the firmware): the
    service's own device type or product, else the host's (see
    :mod:`advisor.advise.identification`)."""
    honeypot: tuple[Indicator, ...] = ()
    """Why the host looks like a honeypot, strongest first; empty for most hosts."""
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Identities key the advice caches; hashing the nested clues once saves the most.
        object.__setattr__(self, "_hash", hash(self._fields()))

    def _fields(self) -> tuple[object, ...]:
        return (
            self.software,
            self.version,
            self.confidence,
            self.clues,
            self.candidates,
            self.version_source,
            self.disagreement,
            self.product,
            self.appliance,
            self.honeypot,
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Identity], tuple[object, ...]]:
        return (Identity, self._fields())  # rebuilt, so hashed by the unpickling process

    @property
    def name(self) -> str:
        return display_name(self.software)

    @property
    def strong_honeypot(self) -> bool:
        """Whether the service itself says the host is a honeypot (not only a hostname)."""
        return any(i.strong for i in self.honeypot)


@lru_cache(maxsize=2048)
def _service_clues(service: Service) -> tuple[Clue, ...]:
    return tuple(_compute_service_clues(service))


def service_clues(service: Service | None) -> list[Clue]:
    """Clues from nmap's ``<service>`` element (cached: scans repeat the same services)."""
    return list(_service_clues(service)) if service is not None else []


def _compute_service_clues(service: Service | None) -> list[Clue]:
    """Clues from nmap's ``<service>`` element (``-sV`` product, version and CPE)."""
    if service is None:
        return []
    clues: list[Clue] = []
    if service.product:
        sw = software_from_product(service.product)
        shown = " ".join(
            x
            for x in (
                service.product,
                service.version,
                service.extrainfo and f"({service.extrainfo})",
            )
            if x
        )
        clues.append(
            clue(
                "nmap -sV",
                msg("clue_sv", product=Code(shown)),
                software=sw,
                version=service.version or None,
            )
        )
    for cpe_text in service.cpes:
        try:
            cpe = CPE(cpe_text)
        except Exception:  # libnmap rejects malformed CPE strings
            continue
        product = cpe.get_product() or ""
        sw = software_from_product(product) or software_from_product(cpe.get_vendor() or "")
        if sw and cpe.is_application():
            clues.append(
                clue(
                    "cpe",
                    msg("clue_cpe", cpe=Code(cpe_text)),
                    software=sw,
                    version=cpe.get_version() or None,
                )
            )
    return clues


@lru_cache(maxsize=2048)
def port_clue(port: int | None, service: Service | None) -> Clue | None:
    if port is None:
        return None
    role = port in PORT_ROLES
    name = service.name if service is not None and service.name else None
    if role is None and name is None:
        return None
    parts = (
        [msg("clue_port_is", port=port), msg(f"role_{port}"), msg("clue_port_is_end")]
        if role
        else [msg("clue_port_named", port=port, name=Code(name or ""))]
    )
    if role and name:
        parts.append(msg("clue_nmap_name", name=Code(name)))
    if port in MAIL_PORTS:
        parts.append(msg("note_mail_port"))
    return clue("port", *parts)


def identify(
    port: int | None,
    service: Service | None,
    strong: list[Clue] | None = None,
    os_default: dict[str, str] | None = None,
    os_name: str | None = None,
    os_how: tuple[str, str] | None = None,
    host: HostProfile | None = None,
) -> Identity:
    """Combine clues, strongest first. ``strong`` are clues from the server's own evidence;
    ``host`` is what nmap's identification says about the whole host (appliance, honeypot).

    Without server evidence the answer depends only on the port, the service, the assumed
    release and the host's profile, so it is cached: large scans repeat the same few
    combinations."""
    if strong:
        return _identify(port, service, tuple(strong), _frozen(os_default), os_name, os_how, host)
    return _identify_cached(port, service, _frozen(os_default), os_name, os_how, host)


def _frozen(d: dict[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    return tuple(sorted(d.items())) if d else None


@lru_cache(maxsize=2048)
def _identify_cached(
    port: int | None,
    service: Service | None,
    os_default: tuple[tuple[str, str], ...] | None,
    os_name: str | None,
    os_how: tuple[str, str] | None,
    host: HostProfile | None,
) -> Identity:
    return _identify(port, service, (), os_default, os_name, os_how, host)


def _identify(
    port: int | None,
    service: Service | None,
    strong: tuple[Clue, ...],
    frozen_default: tuple[tuple[str, str], ...] | None,
    os_name: str | None,
    os_how: tuple[str, str] | None = None,
    host: HostProfile | None = None,
) -> Identity:
    os_default = dict(frozen_default) if frozen_default else None
    clues: list[Clue] = list(strong)
    clues.extend(service_clues(service))
    pc = port_clue(port, service)
    if pc is not None:
        clues.append(pc)
    software: str | None = None
    confidence = "low"
    disagreement = None
    for c in clues:
        if c.software is None:
            continue
        if software is None:
            software = c.software
            confidence = "high" if c.source in ("ss", "config") else "medium"
        elif c.software != software and disagreement is None:
            disagreement = (
                f"{c.source} suggests {display_name(c.software)}, but the stronger evidence "
                f"says {display_name(software)}"
            )
    version = None
    version_source = None
    for c in clues:
        if c.version and software is not None and software in (c.software, c.version_of):
            version, version_source = c.version, c.source
            break
    candidates: tuple[str, ...] = ()
    if software is None and port is not None:
        candidates = PORT_CONVENTION.get(port, ())
    if version is None and os_default:
        key = software or (candidates[0] if candidates else None)
        if key and key in os_default:
            version = os_default[key]
            version_source = "os"
            clues.append(
                clue(
                    "assumed",
                    msg(
                        "clue_assumed",
                        software=display_name(key),
                        version=version,
                        release=os_name or "?",
                    ),
                    *((msg(os_how[0], detail=os_how[1]),) if os_how else ()),
                    software=key,
                    version=version,
                )
            )
    product = None
    if software is None and service is not None and service.product:
        product = service.product
    appliance = service_appliance(service) if service is not None else None
    if appliance is not None:
        clues.append(clue("nmap -sV", *_appliance_parts(appliance, port=True)))
    elif host is not None and host.appliance is not None:
        appliance = host.appliance
        clues.append(
            clue(
                "nmap -O" if appliance.kind == "osclass" else "nmap -sV",
                *_appliance_parts(appliance),
            )
        )
    return Identity(
        software,
        version,
        confidence,
        tuple(clues),
        candidates,
        version_source,
        disagreement,
        product,
        appliance,
        host.honeypot if host is not None else (),
    )


def _appliance_parts(seen: Indicator, port: bool = False) -> tuple[Msg, ...]:
    """Why the endpoint looks like an appliance's, for the "who answers" list."""
    if seen.kind == "osclass":
        head = msg("clue_device_os", match=Code(seen.value), type=Code(seen.name))
    elif port and seen.kind == "devicetype":
        head = msg("clue_device_here", type=Code(seen.name))
    elif port:
        head = msg("clue_device_product_here", product=Code(seen.value))
    elif seen.kind == "devicetype":
        head = msg(
            "clue_device_there",
            type=Code(seen.name),
            where=Code(seen.where),
            product=Code(seen.value),
        )
    else:
        head = msg("clue_device_product_there", where=Code(seen.where), product=Code(seen.value))
    return head, msg("clue_device_end")
