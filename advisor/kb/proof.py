"""Which knowledge-entry fixes have been proven against real software.

``knowledge/proof-matrix.json`` is written by the proof suite (``tests/proof/``): for each
entry, software and version, whether the advised change removed the finding in a real nmap
scan while the service still served a normal client (tests/lab/serves.py). The file is
data, committed with the entries.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from advisor.kb import KnowledgeBase
from advisor.kb.schema import Fix
from advisor.kb.versions import parse_version

MATRIX_NAME = "proof-matrix.json"


@cache
def _read(path: Path) -> dict[str, list[dict[str, str]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, list[dict[str, str]]] = {}
    for row in data.get("results", []):
        if (
            isinstance(row, dict)
            and row.get("status") == "proven"
            and isinstance(row.get("entry"), str)
        ):
            out.setdefault(row["entry"], []).append(
                {
                    "software": str(row.get("software", "")),
                    "version": str(row.get("version", "")),
                    "fix": str(row.get("fix", "")),
                    "ports": str(row.get("ports", "")),
                }
            )
    return out


@cache
def _doc(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def proof_matrix(kb: KnowledgeBase) -> dict[str, object]:
    """The whole committed matrix (results, not-provable rows, lab versions), or {}."""
    return _doc(kb.root / MATRIX_NAME) if kb.root is not None else {}


def proof_status(kb: KnowledgeBase) -> dict[str, list[dict[str, str]]]:
    """Entry id -> the software/version/fix combinations proven (empty when none)."""
    if kb.root is None:
        return {}
    return _read(kb.root / MATRIX_NAME)


#: Software the knowledge base names that Debian 12 ships, and the package whose version
#: decides whether a fix's version range applies there. Anything else is "not Debian software".
DEBIAN_PACKAGES: dict[str, str] = {
    "apache": "apache2",
    "bash": "bash",
    "bind": "bind9",
    "cyrus": "cyrus-imapd",
    "django": "python3-django",
    "dnsmasq": "dnsmasq-base",
    "dovecot": "dovecot-core",
    "exim": "exim4-daemon-heavy",
    "haproxy": "haproxy",
    "lighttpd": "lighttpd",
    "mariadb": "mariadb-server",
    "memcached": "memcached",
    "net-snmp": "snmpd",
    "nginx": "nginx",
    "openssh": "openssh-server",
    "openssl": "openssl",
    "php": "php8.2-fpm",
    "phpmyadmin": "phpmyadmin",
    "postfix": "postfix",
    "proftpd": "proftpd-core",
    "pure-ftpd": "pure-ftpd",
    "rails": "ruby-rails",
    "redis": "redis-server",
    "samba": "samba",
    "sendmail": "sendmail-bin",
    "squid": "squid",
    "stunnel": "stunnel4",
    "tigervnc": "tigervnc-standalone-server",
    "tomcat": "tomcat10",
    "unbound": "unbound",
    "vsftpd": "vsftpd",
    "wordpress": "wordpress",
    "x11vnc": "x11vnc",
    "xrdp": "xrdp",
    # "generic" is not a product: its fixes are procedures unless they carry settings.
    "generic": "",
}


def unproven_reason(fix: Fix, debian_version: str | None) -> tuple[str, str]:
    """Why ``fix`` is not proven: a key of :data:`UNPROVEN_REASONS` and a detail line, or
    ``("", why)`` when nothing excuses it (a proof case is missing: ``kb lint`` says so).

    ``debian_version`` is the version Debian 12 (the lab) has of the fix's software, if known.
    """
    if fix.unproven:
        return fix.unproven, ""
    if fix.software not in DEBIAN_PACKAGES:
        return "not-debian", f"{fix.software} is not packaged in Debian 12"
    if fix.software == "openssl":
        return "old-build", "a library upgrade: the vulnerable state needs an older OpenSSL build"
    parsed = parse_version(debian_version) if debian_version else None
    if parsed and not fix.versions.contains(parsed):
        return (
            "other-release",
            f"for {fix.software} {fix.versions.describe()}; Debian 12 has {debian_version}",
        )
    if not fix.settings or fix.target == "none":
        return "procedure", "no machine-applicable settings (certificate, upgrade, code, ...)"
    return "", "no proof case for this entry and software yet"
