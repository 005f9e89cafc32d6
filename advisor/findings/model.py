"""What stage 2 (findings) produces: one :class:`Finding` per thing nmap reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from advisor.model import Service


class Kind(StrEnum):
    """Where a finding came from inside the script output."""

    VULNS = "vulns"
    """A ``vulns`` library table (title, state, ids, ...)."""
    WARNING = "warning"
    """An ``ssl-enum-ciphers`` warning."""
    GRADE = "grade"
    """``ssl-enum-ciphers`` ``least strength``."""
    PROTOCOL = "protocol"
    """A TLS/SSL protocol version offered (from ``ssl-enum-ciphers``)."""
    VULNERS = "vulners"
    """Version-based CVE rows for one CPE (``vulners``)."""
    CERT = "cert"
    """A certificate problem read from ``ssl-cert``."""
    OUTPUT = "output"
    """Free-form script text."""
    ERROR = "error"
    """The script failed or could not test."""


#: vulns-library states, as nmap writes them (nselib/vulns.lua STATE_MSG).
VULNERABLE = "VULNERABLE"
LIKELY_VULNERABLE = "LIKELY VULNERABLE"
NOT_VULNERABLE = "NOT VULNERABLE"
UNKNOWN_STATE = "UNKNOWN (unable to test)"
EXPLOITABLE = "VULNERABLE (Exploitable)"
DOS = "VULNERABLE (DoS)"
#: States advisor uses for findings that are not vulns tables.
REPORTED = "REPORTED"
ERROR_STATE = "ERROR"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding was seen. ``port`` is None for host scripts and pre/postscripts."""

    host: str
    """The host's address (``"(scan)"`` for pre/postscripts)."""
    hostname: str | None = None
    port: int | None = None
    protocol: str | None = None
    service: Service | None = None
    scope: str = "port"
    """``port``, ``host``, ``prescript`` or ``postscript``."""

    @property
    def endpoint(self) -> str:
        """``host:port/proto`` (IPv6 in brackets), or just the host."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is None:
            return host if self.scope != "prescript" else "(pre-scan)"
        return f"{host}:{self.port}/{self.protocol or 'tcp'}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a script reported, before any knowledge is applied."""

    location: Location
    script: str
    kind: Kind
    title: str
    state: str
    ids: tuple[str, ...] = ()
    description: str = ""
    check_results: tuple[str, ...] = ()
    exploit_results: tuple[str, ...] = ()
    extra_info: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    disclosure: str | None = None
    scores: tuple[tuple[str, str], ...] = ()
    table_key: str | None = None
    """The vulns table key (``NMAP-3``, ``CVE-...``). Unstable: shown, never matched on."""
    details: tuple[tuple[str, str], ...] = ()
    """Extractor-specific facts, e.g. ``("protocol", "TLSv1.0")`` or ``("cvss", "7.5")``."""
    output: str = ""
    """The script's raw text output (for free-form and unknown scripts)."""
    problems: tuple[str, ...] = field(default=())
    """Things the extractor could not read (the run goes on; see :mod:`advisor.findings`)."""

    def detail(self, key: str) -> str | None:
        for k, v in self.details:
            if k == key:
                return v
        return None

    @property
    def is_clean(self) -> bool:
        """Checked and not vulnerable (``vulns.showall``)."""
        return self.state == NOT_VULNERABLE

    def with_table_key(self, key: str | None) -> Finding:
        """The same finding reported under another table key (a run-numbered ``NMAP-n``)."""
        return self._copy(self.location, key)

    def at(self, location: Location) -> Finding:
        """The same finding seen somewhere else (the memo of repeated script results)."""
        return self._copy(location, self.table_key)

    def _copy(self, location: Location, table_key: str | None) -> Finding:
        # positional construction: dataclasses.replace() is slow on the memo's hot path
        return Finding(
            location,
            self.script,
            self.kind,
            self.title,
            self.state,
            self.ids,
            self.description,
            self.check_results,
            self.exploit_results,
            self.extra_info,
            self.references,
            self.disclosure,
            self.scores,
            table_key,
            self.details,
            self.output,
            self.problems,
        )


#: The location of a memoised finding before it is placed (see advisor.findings.memo).
NOWHERE = Location("")
