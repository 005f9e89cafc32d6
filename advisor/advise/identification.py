"""What nmap's identification says about a whole host: an appliance, or a honeypot.

nmap tells more than the software on one port: OS detection classifies the device
(``<osclass type="WAP">``), version detection gives a device type per service
(``<service devicetype="router">``) and product names ("Sagem router telnetd",
"Dionaea honeypot smbd"), and the host's names and certificates can name the software that
made them ("Nepenthes Development Team", Dionaea's default certificate). The advise stage uses
this to order fixes (firmware first on an appliance) and to mark findings on a honeypot as
likely false positives for that host.

The vocabulary is data: ``advisor/data/identification.toml``, with the source of each name.
A host is read once, through fields the reader already built (the services are shared objects
and their verdicts cached), so a large scan pays a few dictionary lookups per host.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from advisor.model import Host, NseTable, Port, Service

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "identification.toml"

#: Certificate fields compared with the honeypot data (the distinguished-name fields a
#: default certificate fills in).
CERT_FIELDS = ("commonName", "organizationName", "organizationalUnitName")
#: Where a honeypot indicator is strong enough to lower the severity: the service itself
#: says it (-sV product, banner, certificate). A hostname is only what someone named it.
STRONG_KINDS = frozenset({"product", "extrainfo", "banner", "cert-subject", "cert-issuer"})
#: Indicators kept per host (the note names them all).
MAX_INDICATORS = 3


@dataclass(frozen=True, slots=True)
class Honeypot:
    """One honeypot of the data file."""

    name: str
    names: re.Pattern[str] | None
    """The honeypot's name, searched in hostnames, -sV fields, banners and certificates."""
    certificate: tuple[re.Pattern[str], ...] = ()
    """Field values of the certificate it makes by default."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """``advisor/data/identification.toml``, compiled."""

    servers: frozenset[str]
    libraries: frozenset[str]
    device_types: frozenset[str]
    """nmap device types of appliances, lower case."""
    products: re.Pattern[str] | None
    honeypots: tuple[Honeypot, ...]
    honeypot_products: re.Pattern[str] | None
    any_name: re.Pattern[str] | None
    """Every honeypot name in one pattern: a quick test before the one-by-one search."""


class VocabularyError(Exception):
    """The data file does not have the expected shape."""


def _strings(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VocabularyError(f"{DATA_FILE.name}: {where}{key} must be a list of strings")
    return value


def _joined(patterns: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    parts = [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts), flags) if parts else None


@cache
def vocabulary() -> Vocabulary:
    """The data file, read once."""
    with DATA_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    software = data.get("software", {})
    appliance = data.get("appliance", {})
    honeypots = []
    names = []
    for i, item in enumerate(data.get("honeypot", [])):
        where = f"honeypot[{i}]."
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise VocabularyError(f"{DATA_FILE.name}: {where}name must be a non-empty string")
        own = _strings(item, "names", where)
        names.extend(own)
        honeypots.append(
            Honeypot(
                name,
                _joined(own, re.I),
                tuple(re.compile(p, re.I) for p in _strings(item, "certificate", where)),
            )
        )
    return Vocabulary(
        servers=frozenset(_strings(software, "servers", "software.")),
        libraries=frozenset(_strings(software, "libraries", "software.")),
        device_types=frozenset(
            t.lower() for t in _strings(appliance, "device_types", "appliance.")
        ),
        products=_joined(_strings(appliance, "products", "appliance.")),
        honeypots=tuple(honeypots),
        honeypot_products=_joined(
            _strings(data.get("honeypot_products", {}), "patterns", "honeypot_products."), re.I
        ),
        any_name=_joined(names, re.I),
    )


@dataclass(frozen=True, slots=True)
class Indicator:
    """One thing nmap reported that says what kind of host this is."""

    kind: str
    """Where nmap said it: ``devicetype`` and ``product`` (-sV), ``osclass`` (-O), and for
    honeypots also ``extrainfo``, ``banner``, ``hostname``, ``cert-subject``, ``cert-issuer``."""
    value: str
    """What it said: a product, an OS match, a hostname, a certificate field (scan text:
    untrusted)."""
    name: str = ""
    """The device type (appliances) or the honeypot's name from the data file; empty when
    nmap's own product name says "honeypot" without one advisor knows."""
    where: str = ""
    """The endpoint it was seen on (``23/tcp``); empty for the host's OS match and names."""
    default: bool = False
    """A certificate field that is the honeypot's default value (not only a mention)."""

    @property
    def strong(self) -> bool:
        """Whether the service itself said it (then a honeypot's findings are lowered)."""
        return self.kind in STRONG_KINDS


@dataclass(frozen=True, slots=True)
class HostProfile:
    """The host-wide conclusions: equal for every port of a host, and for equal hosts."""

    appliance: Indicator | None = None
    """Why the whole host looks like an appliance: its best OS match, or (without OS
    detection) a service's device type or product."""
    honeypot: tuple[Indicator, ...] = ()
    """Why it looks like a honeypot, strongest first."""

    @property
    def strong_honeypot(self) -> bool:
        return any(i.strong for i in self.honeypot)


def _known_server(product: str) -> bool:
    from advisor.advise.context import software_from_product  # context imports this module

    return software_from_product(product) is not None


@lru_cache(maxsize=2048)
def service_appliance(service: Service) -> Indicator | None:
    """The service is a device's own (router, printer, NAS...), from -sV's device type or
    product. Not when the product is server software advisor knows (HAProxy is typed "load
    balancer", Asterisk "PBX": they run on ordinary servers)."""
    product = service.product
    if product and _known_server(product):
        return None
    vocab = vocabulary()
    devicetype = service.devicetype
    if devicetype and devicetype.lower() in vocab.device_types:
        return Indicator("devicetype", product or service.name, devicetype)
    if product and vocab.products is not None and vocab.products.search(product):
        return Indicator("product", product)
    return None


@lru_cache(maxsize=2048)
def service_honeypot(service: Service) -> Indicator | None:
    """The -sV product or extrainfo names a honeypot."""
    vocab = vocabulary()
    for kind, text in (("product", service.product), ("extrainfo", service.extrainfo)):
        if not text:
            continue
        name = _honeypot_name(text)
        if name is not None:
            return Indicator(kind, text, name)
        products = vocab.honeypot_products
        if kind == "product" and products is not None and products.search(text):
            return Indicator(kind, text)
    return None


def _honeypot_name(text: str) -> str | None:
    vocab = vocabulary()
    if vocab.any_name is None or vocab.any_name.search(text) is None:
        return None
    for pot in vocab.honeypots:
        if pot.names is not None and pot.names.search(text):
            return pot.name
    return None


def _cert_indicators(table: NseTable, where: str) -> list[Indicator]:
    out = []
    for side in ("subject", "issuer"):
        dn = table.table(side)
        if dn is None:
            continue
        fields = dn.fields()
        for key in CERT_FIELDS:
            value = fields.get(key)
            if not value:
                continue
            hit = _cert_match(value)
            if hit is not None:
                name, default = hit
                out.append(Indicator(f"cert-{side}", value, name, where, default))
                break
    return out


@lru_cache(maxsize=1024)
def _cert_match(value: str) -> tuple[str, bool] | None:
    for pot in vocabulary().honeypots:
        if any(p.search(value) for p in pot.certificate):
            return pot.name, True
    name = _honeypot_name(value)
    return (name, False) if name is not None else None


def _os_appliance(host: Host) -> Indicator | bool | None:
    """The best OS match's verdict: an appliance indicator, False for a general-purpose
    match (or a mixed one), None without OS detection."""
    classes = host.os_classes
    if not classes:
        return None
    types = vocabulary().device_types
    if all(c.type.lower() in types for c in classes):
        return Indicator("osclass", host.os_matches[0] if host.os_matches else "", classes[0].type)
    return False


def host_profile(host: Host) -> HostProfile | None:
    """What the host's identification says as a whole, or None when it says nothing (most
    hosts: then nothing about the advice changes)."""
    os_verdict = _os_appliance(host)
    appliance = os_verdict if isinstance(os_verdict, Indicator) else None
    # Without OS detection a service's device type speaks for the host, unless another
    # service is server software advisor knows: scanme.nmap.org's OpenSSH and Apache with a
    # "Fortinet FortiGuard block page" on 8008 (a filter on the scanner's path) is no appliance.
    from_services = os_verdict is None
    device: Indicator | None = None
    general = False
    found: list[Indicator] = []
    for port in host.ports:
        service = port.service
        if service is not None:
            if from_services and not general:
                if service.product and _known_server(service.product):
                    general = True
                elif device is None:
                    seen = service_appliance(service)
                    if seen is not None:
                        device = Indicator(seen.kind, seen.value, seen.name, _endpoint(port))
            pot = service_honeypot(service)
            if pot is not None:
                found.append(Indicator(pot.kind, pot.value, pot.name, _endpoint(port)))
        for script in port.scripts:
            sid = script.id
            if sid == "ssl-cert":
                found.extend(_cert_indicators(script.as_table(), _endpoint(port)))
            elif sid == "banner" and script.output:
                name = _honeypot_name(script.output)
                if name is not None:
                    banner = " ".join(script.output.split())[:120]
                    found.append(Indicator("banner", banner, name, _endpoint(port)))
    for hostname in host.hostnames:
        name = _honeypot_name(hostname)
        if name is not None:
            found.append(Indicator("hostname", hostname, name))
            break
    honeypot = _strongest(found)
    if appliance is None and not general:
        appliance = device
    if appliance is None and not honeypot:
        return None
    return HostProfile(appliance, honeypot)


def _endpoint(port: Port) -> str:
    return f"{port.portid}/{port.protocol}"


def _strongest(found: list[Indicator]) -> tuple[Indicator, ...]:
    """Distinct indicators, strongest first: a default certificate, -sV, a banner, a name."""
    rank = {"cert-issuer": 0, "cert-subject": 1, "product": 2, "extrainfo": 2, "banner": 3}
    seen: set[tuple[str, str]] = set()
    out = []
    for ind in sorted(found, key=lambda i: (not i.default, rank.get(i.kind, 4))):
        if (ind.name, ind.value) in seen:
            continue
        seen.add((ind.name, ind.value))
        out.append(ind)
    return tuple(out[:MAX_INDICATORS])
