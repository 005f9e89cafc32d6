"""What is known about the endpoint of a finding: TLS mode and the software behind the port.

Evidence is combined from the strongest source to the weakest: the server's own listener table
(``ss``), its configuration, nmap ``-sV`` (product, version, CPE), and last the port convention.
Each step is recorded so the advisory can show the chain and a confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from libnmap.objects.cpe import CPE

from advisor.model import Service
from advisor.render.escape import code

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

#: What a junior admin tends to get wrong about a port.
PORT_NOTE: dict[int, str] = {
    port: (
        "SMTP is the mail server's job (Postfix, Exim...): Dovecot is not involved on this port; "
        "it serves IMAP/POP3 (143/993/110/995) and at most answers the SMTP server's "
        "authentication (SASL) questions over a local socket"
    )
    for port in (25, 465, 587)
}

PORT_ROLE: dict[int, str] = {
    25: "SMTP (mail from other servers, MX)",
    465: "SMTP submission over implicit TLS (smtps/submissions)",
    587: "SMTP submission with STARTTLS",
    110: "POP3",
    143: "IMAP",
    993: "IMAP over TLS",
    995: "POP3 over TLS",
    80: "HTTP",
    443: "HTTPS",
    8443: "HTTPS (alternative port)",
}

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
    return None


@dataclass(frozen=True, slots=True)
class Clue:
    """One piece of evidence about the software on a port."""

    source: str
    """``ss``, ``config``, ``nmap -sV``, ``cpe``, ``port``, ``--os``."""
    text: str
    """What it says, for the advisory (plain words)."""
    software: str | None = None
    version: str | None = None
    version_of: str | None = None
    """A version clue that does not say what runs on the port: the version of this software,
    should it be the one (``postconf mail_version`` says nothing about port 443)."""


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

    @property
    def name(self) -> str:
        return display_name(self.software)


@lru_cache(maxsize=8192)
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
            Clue("nmap -sV", f"nmap -sV identified {code(shown)}", sw, service.version or None)
        )
    for cpe_text in service.cpes:
        try:
            cpe = CPE(cpe_text)
        except Exception:  # libnmap rejects malformed CPE strings
            continue
        product = cpe.get_product() or ""
        sw = software_from_product(product) or software_from_product(cpe.get_vendor() or "")
        if sw and cpe.is_application():
            clues.append(Clue("cpe", f"CPE {code(cpe_text)}", sw, cpe.get_version() or None))
    return clues


@lru_cache(maxsize=8192)
def port_clue(port: int | None, service: Service | None) -> Clue | None:
    if port is None:
        return None
    role = PORT_ROLE.get(port)
    name = service.name if service is not None and service.name else None
    if role is None and name is None:
        return None
    text = f"port {port} is {role}" if role else f"nmap's port table calls port {port} {code(name)}"
    if role and name:
        text += f" (nmap: {code(name)})"
    if port in PORT_NOTE:
        text += f". {PORT_NOTE[port]}"
    return Clue("port", text)


def identify(
    port: int | None,
    service: Service | None,
    strong: list[Clue] | None = None,
    os_default: dict[str, str] | None = None,
    os_name: str | None = None,
) -> Identity:
    """Combine clues, strongest first. ``strong`` are clues from the server's own evidence.

    Without server evidence the answer depends only on the port, the service and the assumed
    release, so it is cached: large scans repeat the same few combinations."""
    if strong:
        return _identify(port, service, tuple(strong), _frozen(os_default), os_name)
    return _identify_cached(port, service, _frozen(os_default), os_name)


def _frozen(d: dict[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    return tuple(sorted(d.items())) if d else None


@lru_cache(maxsize=8192)
def _identify_cached(
    port: int | None,
    service: Service | None,
    os_default: tuple[tuple[str, str], ...] | None,
    os_name: str | None,
) -> Identity:
    return _identify(port, service, (), os_default, os_name)


def _identify(
    port: int | None,
    service: Service | None,
    strong: tuple[Clue, ...],
    frozen_default: tuple[tuple[str, str], ...] | None,
    os_name: str | None,
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
    for clue in clues:
        if clue.software is None:
            continue
        if software is None:
            software = clue.software
            confidence = "high" if clue.source in ("ss", "config") else "medium"
        elif clue.software != software and disagreement is None:
            disagreement = (
                f"{clue.source} suggests {display_name(clue.software)}, but the stronger evidence "
                f"says {display_name(software)}"
            )
    version = None
    version_source = None
    for clue in clues:
        if clue.version and software is not None and software in (clue.software, clue.version_of):
            version, version_source = clue.version, clue.source
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
                Clue(
                    "assumed",
                    f"assumed {display_name(key)} {version}: the version in "
                    f"{os_name or 'the given release'}",
                    key,
                    version,
                )
            )
    return Identity(
        software, version, confidence, tuple(clues), candidates, version_source, disagreement
    )
