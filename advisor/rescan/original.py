"""What a rescan starts from: the original scan (nmap XML or normal output) or the JSON
report ``advisor explain -f json`` made from it.

From either we take the findings (where, which script, the service name nmap recorded), the
scan's own command line (``<nmaprun args>`` / the report's ``scan.args``) and the BEFORE side
of the diff. A JSON report is used as it is: its findings are the BEFORE side, built the way
:func:`advisor.diff.read_side` builds one from a scan (same keys: host, port, protocol, entry
or script and title). The XML file the report names in ``scan.source`` is not looked for: it
may have moved or been replaced since, and the report is what the user read.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any, BinaryIO

from advisor.advise.advice import severity_rank
from advisor.api import Options
from advisor.diff import Item, Side, read_side
from advisor.kb import KnowledgeBase
from advisor.model import ScanInfo
from advisor.scan import ScanError, open_scan

#: JSON report schemas a rescan reads (``/3`` changed prose fields only).
REPORT_SCHEMAS = ("advisor-report/2", "advisor-report/3")
#: ``Location.host`` of pre- and post-scan script findings.
SCAN_HOST = "(scan)"


class OriginalError(ValueError):
    """The original cannot be used. The message is one line for users."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One finding of the original: where a rescan has to look again, and with what."""

    host: str
    port: int | None
    protocol: str | None
    script: str
    scope: str
    """``port``, ``host`` (a host script), ``prescript`` or ``postscript``."""
    hostname: str | None = None
    service: str | None = None
    """The service name the original recorded for the port (``smtp``, ``smtps`` ...)."""
    probed: bool = False
    """True when that name came from ``-sV`` (``<service method="probed">``)."""

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is None:
            return host if self.scope == "host" else f"({self.scope})"
        return f"{host}:{self.port}/{self.protocol or 'tcp'}"


@dataclass(frozen=True, slots=True)
class HostSeen:
    """A host of the original scan: its names and the ports it found open."""

    address: str
    hostnames: tuple[str, ...] = ()
    open_ports: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Original:
    source: str
    kind: str
    """``xml``, ``text`` or ``json``."""
    info: ScanInfo
    findings: tuple[Seen, ...]
    hosts: Mapping[str, HostSeen] | None
    """Every host the scan read, by address; None for a JSON report, which lists only the
    hosts that have findings (and not the ports a host found open)."""
    side: Side = field(repr=False)
    """The BEFORE side of the diff."""

    def finding_hosts(self) -> dict[str, tuple[str, ...]]:
        """Address -> host names, for every host with a finding (pre/post-scan excluded)."""
        out: dict[str, set[str]] = {}
        for f in self.findings:
            if f.scope in ("port", "host"):
                names = out.setdefault(f.host, set())
                if f.hostname:
                    names.add(f.hostname)
        if self.hosts is not None:
            for address, names in out.items():
                host = self.hosts.get(address)
                if host is not None:
                    names.update(host.hostnames)
        return {address: tuple(sorted(names)) for address, names in out.items()}


def read_original(path: str, kb: KnowledgeBase) -> Original:
    """Read ``path`` (``-`` for stdin): an advisor JSON report, nmap XML or normal output."""
    if path == "-":
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
            spool.seek(0)
            return _read(spool, "<stdin>", kb)
    try:
        fh = Path(path).open("rb")  # noqa: SIM115  (closed below; errors named first)
    except FileNotFoundError:
        raise OriginalError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise OriginalError(f"{path}: is a directory, expected a scan or a report") from None
    except OSError as exc:
        raise OriginalError(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        return _read(fh, path, kb)


def _read(fh: IO[bytes], name: str, kb: KnowledgeBase) -> Original:
    head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    fh.seek(0)
    if head.startswith(b"{"):
        return _from_report(fh, name, kb)
    return _from_scan(fh, name, kb)


# ------------------------------------------------------------------------------------------ scan
def _from_scan(fh: IO[bytes], name: str, kb: KnowledgeBase) -> Original:
    stream: BinaryIO = fh  # type: ignore[assignment]
    try:
        side = read_side(stream, kb, Options(), name)
        fh.seek(0)
        scan = open_scan(stream)
        hosts: dict[str, HostSeen] = {}
        services: dict[tuple[str, int, str], tuple[str | None, bool]] = {}
        for host in scan:
            address = host.address
            hosts[address] = HostSeen(
                address,
                host.hostnames,
                tuple((p.portid, p.protocol) for p in host.ports if p.state.startswith("open")),
            )
            for p in host.ports:
                svc = p.service
                services[(address, p.portid, p.protocol)] = (
                    (svc.name or None, svc.probed) if svc is not None else (None, False)
                )
    except ScanError as exc:
        raise OriginalError(f"{name}: {exc}") from None
    hostnames = {a: h.hostnames[0] if h.hostnames else None for a, h in hosts.items()}
    findings = []
    for item in side.items.values():
        service, probed = (None, False)
        if item.port is not None:
            service, probed = services.get(
                (item.host, item.port, item.protocol or "tcp"), (None, False)
            )
        findings.append(
            Seen(
                item.host,
                item.port,
                item.protocol,
                item.script,
                _scope(item.host, item.port),
                hostnames.get(item.host),
                service,
                probed,
            )
        )
    return Original(name, side.info.source_format, side.info, tuple(findings), hosts, side)


def _scope(host: str, port: int | None) -> str:
    if port is not None:
        return "port"
    return "prescript" if host == SCAN_HOST else "host"


# ---------------------------------------------------------------------------------------- report
def _from_report(fh: IO[bytes], name: str, kb: KnowledgeBase) -> Original:
    try:
        doc = json.load(fh)
    except UnicodeDecodeError:
        raise OriginalError(f"{name}: not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise OriginalError(f"{name}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(doc, dict) or doc.get("schema") not in REPORT_SCHEMAS:
        schema = doc.get("schema") if isinstance(doc, dict) else None
        got = f"schema {schema!r}" if isinstance(schema, str) else "no advisor schema"
        raise OriginalError(
            f"{name}: not an advisor JSON report ({got}; rescan reads "
            f"{' and '.join(REPORT_SCHEMAS)}, or nmap output)"
        )
    scan = _object(doc.get("scan"), name, "scan")
    advice = _object(doc.get("advice", {}), name, "advice")
    records = doc.get("findings")
    if not isinstance(records, list):
        raise OriginalError(f"{name}: 'findings' is not a list")
    info = ScanInfo(
        scanner=_text(scan.get("scanner")) or "nmap",
        version=_text(scan.get("version")),
        args=_text(scan.get("args")),
        start=scan.get("start") if isinstance(scan.get("start"), int) else None,
        complete=scan.get("complete") is True,
        problem=_text(scan.get("problem")) or None,
        source_format=_text(scan.get("format")) or "xml",
    )
    side = Side(info=info)
    findings: list[Seen] = []
    for number, record in enumerate(records, 1):
        seen, key, item = _record(record, advice, kb, f"{name}: finding {number}")
        findings.append(seen)
        old = side.items.get(key)
        if old is None or severity_rank(item.severity) > severity_rank(old.severity):
            side.items[key] = item
        side.endpoints.update({(seen.host, None), (seen.host, seen.port)})
    return Original(name, "json", info, tuple(findings), None, side)


def _object(value: object, name: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OriginalError(f"{name}: '{what}' is not an object")
    return value


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


_ITEM_FIELDS = frozenset(f.name for f in fields(Item))


def _record(
    record: object, advice: Mapping[str, Any], kb: KnowledgeBase, where: str
) -> tuple[Seen, tuple[str, int | None, str | None, str], Item]:
    """One finding of the report: where to look again, its diff key and its diff item
    (the same fields :func:`advisor.diff.read_side` takes from the advice)."""
    if not isinstance(record, dict):
        raise OriginalError(f"{where}: not an object")
    host, script, title = record.get("host"), record.get("script"), record.get("title")
    port, protocol = record.get("port"), record.get("protocol")
    if not isinstance(host, str) or not host:
        raise OriginalError(f"{where}: no 'host'")
    if not isinstance(script, str) or not script:
        raise OriginalError(f"{where}: no 'script'")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool)):
        raise OriginalError(f"{where}: 'port' is not a number")
    if protocol is not None and not isinstance(protocol, str):
        raise OriginalError(f"{where}: 'protocol' is not a string")
    kb_id = record.get("kb_id") if isinstance(record.get("kb_id"), str) else None
    title_text = _text(title)
    shared = _dict(advice.get(_text(record.get("advice"))))
    software = _dict(shared.get("software"))
    clues = software.get("evidence")
    first_clue = _dict(clues[0]) if isinstance(clues, list) and clues else {}
    entry = kb.get(kb_id) if kb_id else None
    # advisor-report/3 has the Markdown text as severity_reason_md (severity_reason is plain)
    reason = _text(shared.get("severity_reason_md")) or _text(shared.get("severity_reason"))
    values: dict[str, Any] = {
        "host": host,
        "port": port,
        "protocol": protocol,
        "kb_id": kb_id,
        "title": (_text(shared.get("kb_title")) or title_text) if kb_id else title_text,
        "script": script,
        "severity": _text(record.get("severity")) or "info",
        "severity_reason": reason,
        "contextual": entry is not None and bool(reason) and reason != entry.severity.reason,
        "software": _text(software.get("name")) or None,
        "version": _text(software.get("version")) or None,
        "confidence": _text(software.get("confidence")) or "low",
        "identified_by": _text(first_clue.get("source")) or None,
    }
    item = Item(**{k: v for k, v in values.items() if k in _ITEM_FIELDS})
    key = (host, port, protocol, kb_id if kb_id else f"{script}|{title_text}")
    hostname = record.get("hostname") if isinstance(record.get("hostname"), str) else None
    service = record.get("service") if isinstance(record.get("service"), str) else None
    scope = _text(record.get("scope")) or _scope(host, port)
    return Seen(host, port, protocol, script, scope, hostname, service), key, item


def open_ports(path: Path) -> set[tuple[str, int, str]]:
    """``(host, port, protocol)`` of every open port in the scan at ``path``."""
    found: set[tuple[str, int, str]] = set()
    try:
        with path.open("rb") as fh:
            for host in open_scan(fh):
                found.update(
                    (host.address, p.portid, p.protocol) for p in host.ports if p.state == "open"
                )
    except (OSError, ScanError) as exc:
        raise OriginalError(f"{path}: {exc}") from None
    return found
