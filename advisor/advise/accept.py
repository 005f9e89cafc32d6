"""Accepted risks: a TOML file kept next to the scans, documented in docs/accepted-risks.md.

```toml
[[accept]]
id = "ADV-1001"                 # knowledge entry (required)
hosts = ["192.0.2.*", "mx1.example.com"]   # address or hostname globs (default: every host)
ports = [25]                    # default: every port
reason = "Port 25 is our public MX; opportunistic TLS, see the entry's note."
accepted_by = "Alice Admin"
expires = 2027-03-31            # a TOML date; after it the finding counts again
```

Matching uses only stable fields (entry id, host, port), never output text or times.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from advisor.findings.model import Finding

_KEYS = {"id", "hosts", "ports", "reason", "accepted_by", "expires"}


class AcceptError(ValueError):
    """A malformed accepted-risk file; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class Acceptance:
    entry_id: str
    reason: str
    accepted_by: str
    expires: date | None
    hosts: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()

    def covers(self, entry_id: str, finding: Finding) -> bool:
        if entry_id != self.entry_id:
            return False
        loc = finding.location
        if self.ports and loc.port not in self.ports:
            return False
        if self.hosts:
            names = [loc.host] + ([loc.hostname] if loc.hostname else [])
            return any(fnmatch.fnmatchcase(n.lower(), p.lower()) for n in names for p in self.hosts)
        return True

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def describe(self) -> str:
        until = f" until {self.expires.isoformat()}" if self.expires else ""
        return f"accepted by {self.accepted_by}{until}: {self.reason}"


def load_acceptances(path: Path) -> list[Acceptance]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise AcceptError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise AcceptError(f"{path}: not valid TOML: {exc}") from None
    rules = data.get("accept", [])
    extra = set(data) - {"accept"}
    if extra or not isinstance(rules, list):
        raise AcceptError(
            f"{path}: expected only [[accept]] tables (found: {', '.join(sorted(extra))})"
        )
    return [_rule(path, i, r) for i, r in enumerate(rules)]


def _rule(path: Path, i: int, rule: Any) -> Acceptance:
    where = f"{path}: accept[{i}]"
    if not isinstance(rule, dict):
        raise AcceptError(f"{where}: must be a table")
    unknown = set(rule) - _KEYS
    if unknown:
        raise AcceptError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_KEYS))})"
        )
    for key in ("id", "reason", "accepted_by"):
        if not isinstance(rule.get(key), str) or not rule[key].strip():
            raise AcceptError(f"{where}: {key} is required (a non-empty string)")
    expires = rule.get("expires")
    if expires is not None and not isinstance(expires, date):
        raise AcceptError(f"{where}: expires must be a TOML date such as 2027-03-31")
    hosts = rule.get("hosts", [])
    ports = rule.get("ports", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise AcceptError(f"{where}: hosts must be a list of strings")
    if not isinstance(ports, list) or not all(isinstance(p, int) for p in ports):
        raise AcceptError(f"{where}: ports must be a list of port numbers")
    return Acceptance(
        entry_id=rule["id"].strip().upper(),
        reason=rule["reason"].strip(),
        accepted_by=rule["accepted_by"].strip(),
        expires=expires,
        hosts=tuple(hosts),
        ports=tuple(ports),
    )


def find_acceptance(rules: list[Acceptance], entry_id: str, finding: Finding) -> Acceptance | None:
    """The first rule covering this finding (expired or not)."""
    for rule in rules:
        if rule.covers(entry_id, finding):
            return rule
    return None
