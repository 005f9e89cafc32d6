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

from advisor.messages import Msg, english, msg
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
    parts: tuple[Msg, ...] = ()
    """The same text as translatable messages (see advisor.messages); empty for free text."""


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
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Identity], tuple[object, ...]]:
        return (Identity, self._fields())  # rebuilt, so hashed by the unpickling process

    @property
    def name(self) -> str:
        return display_name(self.software)


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
                msg("clue_sv", product=code(shown)),
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
                    msg("clue_cpe", cpe=code(cpe_text)),
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
        else [msg("clue_port_named", port=port, name=code(name))]
    )
    if role and name:
        parts.append(msg("clue_nmap_name", name=code(name)))
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
) -> Identity:
    """Combine clues, strongest first. ``strong`` are clues from the server's own evidence.

    Without server evidence the answer depends only on the port, the service and the assumed
    release, so it is cached: large scans repeat the same few combinations."""
    if strong:
        return _identify(port, service, tuple(strong), _frozen(os_default), os_name, os_how)
    return _identify_cached(port, service, _frozen(os_default), os_name, os_how)


def _frozen(d: dict[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    return tuple(sorted(d.items())) if d else None


@lru_cache(maxsize=2048)
def _identify_cached(
    port: int | None,
    service: Service | None,
    os_default: tuple[tuple[str, str], ...] | None,
    os_name: str | None,
    os_how: tuple[str, str] | None,
) -> Identity:
    return _identify(port, service, (), os_default, os_name, os_how)


def _identify(
    port: int | None,
    service: Service | None,
    strong: tuple[Clue, ...],
    frozen_default: tuple[tuple[str, str], ...] | None,
    os_name: str | None,
    os_how: tuple[str, str] | None = None,
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
    return Identity(
        software, version, confidence, tuple(clues), candidates, version_source, disagreement
    )
