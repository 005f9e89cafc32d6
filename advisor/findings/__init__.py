"""Stage 2 of the pipeline: turn NSE script results into :class:`Finding` objects.

One extractor per output shape (``vulns`` tables, ``ssl-enum-ciphers``, ``vulners``,
``ssl-cert``, Exim's text, errors, free-form text). A crashing extractor does not end the run:
its failure becomes an ``error`` finding that names the script (as sslyze does).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from advisor.findings import freeform, ssl_cert, ssl_enum_ciphers, vulners, vulns
from advisor.findings.model import ERROR_STATE, Finding, Kind, Location
from advisor.model import Host, ScriptResult

__all__ = [
    "Finding",
    "Kind",
    "Location",
    "extract_script",
    "host_findings",
    "host_scripts",
    "run_findings",
]


def extract_script(script: ScriptResult, where: Location, scan_time: datetime) -> list[Finding]:
    """All findings in one script result. Never raises."""
    try:
        return _extract(script, where, scan_time)
    except Exception as exc:  # an odd output must not kill the run
        return [
            Finding(
                location=where,
                script=script.id,
                kind=Kind.ERROR,
                title="advisor could not read this script's output",
                state=ERROR_STATE,
                output=script.output,
                problems=(f"{type(exc).__name__}: {exc}",),
            )
        ]


def _extract(script: ScriptResult, where: Location, scan_time: datetime) -> list[Finding]:
    if not script.structured:
        message = freeform.error_text(script.output)
        if message:
            return [freeform.extract_error(script, where, message)]
    sid = script.id
    if sid == "ssl-enum-ciphers":
        return ssl_enum_ciphers.extract(script, where)
    if sid == "vulners":
        return vulners.extract(script, where)
    if sid == "ssl-cert":
        return ssl_cert.extract(script, where, scan_time)
    if sid == "smtp-vuln-cve2010-4344":
        return freeform.extract_exim(script, where)
    found = vulns.extract(script, where)
    if found:
        return found
    if script.output.strip() or script.structured:
        return [freeform.extract_output(script, where)]
    return []


def host_scripts(host: Host) -> Iterator[tuple[Location, tuple[ScriptResult, ...]]]:
    """Where each of a host's scripts ran: its ports' scripts, then its host scripts."""
    name = host.hostname
    for port in host.ports:
        if port.scripts:
            where = Location(host.address, name, port.portid, port.protocol, port.service, "port")
            yield where, port.scripts
    if host.hostscripts:
        yield Location(host.address, name, None, None, None, "host"), host.hostscripts


def host_findings(host: Host, scan_time: datetime) -> Iterator[Finding]:
    """Findings of one host: its port scripts, then its host scripts."""
    for where, scripts in host_scripts(host):
        for script in scripts:
            yield from extract_script(script, where, scan_time)


def run_findings(
    scripts: tuple[ScriptResult, ...], scope: str, scan_time: datetime
) -> Iterator[Finding]:
    """Findings of pre-scan or post-scan scripts (not tied to one host)."""
    where = Location("(scan)", None, None, None, None, scope)
    for script in scripts:
        yield from extract_script(script, where, scan_time)
