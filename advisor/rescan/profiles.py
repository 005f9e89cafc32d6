"""``advisor scan`` profiles: the nmap command advisor recommends for a kind of server.

Every script named here is in nmap 7.93's ``scripts/script.db`` (a test checks it), is in
the ``safe`` category or is ``ssl-enum-ciphers`` (``discovery, intrusive``: it makes one
handshake per cipher suite, which is what finds weak suites), and has knowledge entries or
shows what advisor reads as evidence. Scripts that send exploits, brute-force logins or relay
mail (``smtp-open-relay``, ``smtp-vuln-*``, ``sslv2-drown``, ``*-brute``) are left out; the
``vuln`` profile is ``nmap --script vuln`` as people run it, and runs what that category holds.

Every profile uses ``-sV``: the advice (which fix, in which syntax) depends on the software
and version on the port, and STARTTLS on a port that is not the standard one needs it.
``-Pn`` because the user names a server they know is up (a firewall that drops ping probes
would otherwise make nmap skip it).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.rescan.plan import Command

_TLS_CHECKS = (
    "ssl-enum-ciphers",
    "ssl-dh-params",
    "ssl-cert",
    "ssl-poodle",
    "ssl-heartbleed",
    "ssl-ccs-injection",
    "sslv2",
)


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    ports: str | None
    """The ``-p`` list; None for nmap's default (the 1,000 most common ports)."""
    scripts: tuple[str, ...]
    """Script names or, for ``vuln``, the category."""


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "mail",
            "SMTP, submission, IMAP and POP3, implicit TLS and STARTTLS",
            "25,465,587,110,143,993,995",
            (*_TLS_CHECKS, "smtp-commands", "imap-capabilities", "pop3-capabilities"),
        ),
        Profile(
            "web",
            "HTTP and HTTPS: TLS and the HTTP security headers",
            "80,443,8443",
            (*_TLS_CHECKS, "http-security-headers", "http-cookie-flags", "http-trace"),
        ),
        Profile(
            "tls",
            "every safe ssl-*/tls-* script and ssl-enum-ciphers on the usual TLS ports",
            "25,110,143,443,465,587,636,993,995,8443",
            (
                *_TLS_CHECKS,
                "ssl-cert-intaddr",
                "ssl-date",
                "ssl-known-key",
                "tls-alpn",
                "tls-nextprotoneg",
                "tls-ticketbleed",
            ),
        ),
        Profile("vuln", "nmap --script vuln, as people run it", None, ("vuln",)),
    )
}

_PORTS = re.compile(r"\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*")
_HOST = re.compile(r"[A-Za-z0-9_.:%\[\]/-]{1,253}")


class ProfileError(ValueError):
    """A host or port list advisor will not hand to nmap. One line for users."""


def check_ports(ports: str) -> str:
    """A TCP port list such as ``25,465,41000-41010`` (validated, returned as given)."""
    if not _PORTS.fullmatch(ports):
        raise ProfileError(f"--ports {ports}: expected port numbers and ranges, e.g. 25,465,587")
    for part in ports.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if not 0 < first <= last <= 65535:
            raise ProfileError(f"--ports {ports}: {part} is not a port range within 1-65535")
    return ports


def check_host(host: str) -> int:
    """Accept a host name, an address or a network (CIDR); return 6 for IPv6, else 4.

    Hosts become separate arguments of nmap, never shell text; one that starts with ``-``
    would be read by nmap as an option and is refused."""
    if host.startswith("-") or not _HOST.fullmatch(host):
        raise ProfileError(f"{host!r} is not a host name, an IP address or a network")
    try:
        return ipaddress.ip_network(host.strip("[]"), strict=False).version
    except ValueError:
        return 6 if ":" in host else 4


def profile_command(
    profile: Profile,
    hosts: Sequence[str],
    ports: str | None = None,
    installed: frozenset[str] | None = None,
) -> tuple[Command, list[str]]:
    """The nmap command for ``profile`` against ``hosts``, and notes (scripts left out)."""
    if not hosts:
        raise ProfileError("name at least one host to scan")
    families = {check_host(h) for h in hosts}
    if len(families) > 1:
        raise ProfileError("IPv4 and IPv6 targets: nmap scans one address family per run")
    notes: list[str] = []
    scripts = list(profile.scripts)
    if installed is not None and profile.name != "vuln":
        missing = [s for s in scripts if s not in installed]
        if missing:
            notes.append(f"this nmap has no {', '.join(missing)} (not in scripts/script.db)")
            scripts = [s for s in scripts if s in installed]
    options = ["-Pn"]
    if families == {6}:
        options.append("-6")
    options += ["-sV", "--script", ",".join(scripts)]
    port_list = check_ports(ports) if ports is not None else profile.ports
    if port_list is not None:
        options += ["-p", port_list]
    return Command(tuple(options), tuple(hosts)), notes
