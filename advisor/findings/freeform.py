"""Free-form script output: errors, Exim's CVE-2010-4344 text, and everything else.

A script that returned plain text becomes one :class:`Finding` of kind ``output`` carrying the
raw text; the knowledge base decides (by regex) whether that text is a problem, a clean
result, or unknown. Engine and script error texts become kind ``error``.
"""

from __future__ import annotations

import re

from advisor.findings.model import ERROR_STATE, REPORTED, Finding, Kind, Location
from advisor.model import ScriptResult

#: nmap's script engine (nse_main.lua) writes this for a script that crashed with a Lua error,
#: whatever the script: the one error text that says nothing about the script itself.
ENGINE_ERROR = re.compile(r"^\s*ERROR: Script execution failed", re.M)

ERROR_PATTERNS = (
    ENGINE_ERROR,
    re.compile(r"^\s*No reply from server \(TIMEOUT\)", re.M),
    re.compile(r"^\s*Unsupported protocol version", re.M),
    re.compile(r"^\s*ERROR:", re.M),
)

_EXIM = re.compile(
    r"^\s*Exim \((CVE-\d{4}-\d+)\): (VULNERABLE|LIKELY VULNERABLE|NOT VULNERABLE)", re.M
)
_EXIM_TITLES = {
    "CVE-2010-4344": "Exim heap overflow vulnerability (CVE-2010-4344)",
    "CVE-2010-4345": "Exim privileges escalation vulnerability (CVE-2010-4345)",
}


def error_text(output: str) -> str | None:
    """The error line when ``output`` *is* an error message (its first line), else None.

    Output that reports something and mentions an error further down (irc-botnet-channels
    listing channels, then one ``ERROR:`` line) is a finding, not an error."""
    first = next((ln.strip() for ln in output.splitlines() if ln.strip()), "")
    for pattern in ERROR_PATTERNS:
        if pattern.match(first):
            return first
    return None


def extract_error(script: ScriptResult, where: Location, message: str) -> Finding:
    return Finding(where, script.id, Kind.ERROR, message, ERROR_STATE, output=script.output)


def extract_exim(script: ScriptResult, where: Location) -> list[Finding]:
    out = []
    for m in _EXIM.finditer(script.output):
        cve, state = m.group(1), m.group(2)
        end = script.output.find("\n  Exim (", m.end())
        block = script.output[m.end() : end if end != -1 else None]
        out.append(
            Finding(
                location=where,
                script=script.id,
                kind=Kind.VULNS,
                title=_EXIM_TITLES.get(cve, f"Exim ({cve})"),
                state=state,
                ids=(f"CVE:{cve}",),
                check_results=tuple(line.strip() for line in block.splitlines() if line.strip()),
                output=script.output,
            )
        )
    if not out:
        out.append(extract_output(script, where))
    return out


def extract_output(script: ScriptResult, where: Location) -> Finding:
    lines = tuple(ln.strip() for ln in script.output.splitlines() if ln.strip())
    return Finding(
        location=where,
        script=script.id,
        kind=Kind.OUTPUT,
        title=lines[0][:200] if lines else script.id,
        state=REPORTED,
        check_results=lines[:200],
        output=script.output,
    )
