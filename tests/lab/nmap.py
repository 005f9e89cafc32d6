"""Run real nmap against loopback only, and read the findings back.

The target is always ``127.0.0.1`` (or ``::1``); any other target is refused in code, and so
is any extra argument that could name one (a bare word, ``-iL``, ``-iR`` ...).
"""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .common import LOOPBACK, LabError, binary, check_loopback, run

#: Options that take a value in the next argument, allowed in ``extra_args``.
_OPTIONS_WITH_VALUE = frozenset(
    {
        "--script-args",
        "--script-timeout",
        "--version-intensity",
        "--max-retries",
        "--host-timeout",
        "--max-rtt-timeout",
        "--min-rate",
        "--max-rate",
        "--datadir",
    }
)
_FORBIDDEN_OPTIONS = (
    "-iL",
    "-iR",
    "--resume",
    "--exclude",
    "--excludefile",
    "-S",
    "-e",
    "-D",
    "--proxies",
    "-b",
    "--script-args-file",
    "-oA",
    "-oX",
    "-oN",
    "-oG",
    "-oS",
    "-p",
    "--servicedb",
)


@dataclass(frozen=True)
class NmapRun:
    """One nmap run: its output files, exact command and duration."""

    command: list[str]
    xml: Path
    normal: Path | None
    grepable: Path | None
    seconds: float
    stdout: str

    @property
    def command_line(self) -> str:
        return " ".join(_quote(arg) for arg in self.command)


def _quote(arg: str) -> str:
    safe = all(c.isalnum() or c in "-_./:,=@+" for c in arg)
    return arg if safe and arg else "'" + arg.replace("'", "'\\''") + "'"


def _check_extra_args(extra: Sequence[str]) -> None:
    expect_value = False
    for arg in extra:
        if expect_value:
            expect_value = False
            continue
        if not arg.startswith("-"):
            raise ValueError(f"refusing extra nmap argument {arg!r}: it could be a target")
        name = arg.split("=", 1)[0]
        if name in _FORBIDDEN_OPTIONS or any(
            name.startswith(opt) and len(opt) == 2 for opt in ("-p", "-o", "-i")
        ):
            raise ValueError(f"refusing nmap option {arg!r} in extra_args")
        if name in _OPTIONS_WITH_VALUE and "=" not in arg:
            expect_value = True
    if expect_value:
        raise ValueError("missing value for the last nmap option")


SYSTEM_SERVICES = Path("/usr/share/nmap/nmap-services")


def write_datadir(directory: Path, services: Mapping[int, str]) -> Path:
    """An nmap ``--datadir`` whose ``nmap-services`` names our non-standard ports.

    nmap's TLS scripts pick ports by number (465, 587 ...) or by service name; on a lab port
    without ``-sV`` they need the name (``smtp``, ``smtps``, ``imaps`` ...). The file is the
    system one with those ports' lines replaced; every other data file still comes from the
    system directory. (``--servicedb`` would do, but it implies ``-F``, which refuses ``-p``.)
    """
    directory.mkdir(parents=True, exist_ok=True)
    taken = {f"{port}/tcp" for port in services}
    lines: list[str] = []
    if SYSTEM_SERVICES.is_file():
        for line in SYSTEM_SERVICES.read_text(errors="replace").splitlines(keepends=True):
            fields = line.split()
            if len(fields) >= 2 and fields[1] in taken:
                continue
            lines.append(line)
    lines += [f"{name}\t{port}/tcp\t0.500000\t# advisor lab\n" for port, name in services.items()]
    (directory / "nmap-services").write_text("".join(lines))
    return directory


def run_nmap(
    ports: int | Iterable[int],
    scripts: str | Sequence[str],
    out: Path,
    *,
    target: str = LOOPBACK,
    version_detection: bool = False,
    all_formats: bool = False,
    servicedb: Mapping[int, str] | None = None,
    extra_args: Sequence[str] = (),
    no_dns: bool = True,
    cwd: Path | None = None,
    timeout: float = 600.0,
) -> NmapRun:
    """``nmap -Pn -n [-sV] --script S -p PORTS 127.0.0.1 -oX OUT.xml`` (or ``-oA OUT``).

    ``out`` is the XML path (``-oX``), or with ``all_formats`` the ``-oA`` base name (a
    trailing ``.xml`` is dropped): ``.xml``, ``.nmap`` and ``.gnmap`` are written. Returns the
    paths. ``servicedb`` (actual port -> service name) writes a ``--datadir`` next to the
    output so nmap's scripts treat lab ports like the standard ones without ``-sV``.
    """
    check_loopback(target)
    _check_extra_args(extra_args)
    port_list = [ports] if isinstance(ports, int) else list(ports)
    if not port_list or not all(isinstance(p, int) and 0 < p < 65536 for p in port_list):
        raise ValueError(f"bad port list {port_list!r}")
    script = scripts if isinstance(scripts, str) else ",".join(scripts)
    (cwd / out if cwd else out).parent.mkdir(parents=True, exist_ok=True)

    nmap = binary("nmap")
    cmd = ["nmap" if shutil.which("nmap") == nmap else nmap, "-Pn"]
    if no_dns:
        cmd.append("-n")
    if target == "::1":
        cmd.append("-6")
    if version_detection:
        cmd.append("-sV")
    cmd += ["--script", script, "-p", ",".join(str(p) for p in port_list)]
    if servicedb:
        base = out.with_suffix("") if out.suffix == ".xml" else out
        datadir = write_datadir(
            (cwd / base if cwd else base).parent / f"{base.name}.nmapdata", servicedb
        )
        cmd += ["--datadir", str(datadir)]
    cmd += list(extra_args)
    cmd.append(target)

    if all_formats:
        base = out.with_suffix("") if out.suffix == ".xml" else out
        cmd += ["-oA", str(base)]
        xml, normal, grepable = (
            base.with_name(base.name + ".xml"),
            base.with_name(base.name + ".nmap"),
            base.with_name(base.name + ".gnmap"),
        )
    else:
        cmd += ["-oX", str(out)]
        xml, normal, grepable = out, None, None

    began = time.monotonic()
    proc = run(cmd, timeout=timeout, cwd=cwd)
    seconds = time.monotonic() - began
    if cwd is not None:
        xml = cwd / xml
        normal = cwd / normal if normal else None
        grepable = cwd / grepable if grepable else None
    if not xml.is_file():
        raise LabError(f"nmap wrote no XML: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return NmapRun(cmd, xml, normal, grepable, seconds, proc.stdout)


# ------------------------------------------------------------------------------------------------
# Reading results back (small, independent of the advisor package on purpose)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VulnFinding:
    """One vulns-library table of an NSE script."""

    port: int
    script: str
    title: str
    state: str
    check_results: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ScriptResult:
    port: int
    script: str
    output: str


def _flatten(elem: ET.Element) -> list[str]:
    lines: list[str] = []
    for child in elem:
        if child.tag == "elem" and child.text:
            key = child.get("key")
            lines.append(f"{key}: {child.text}" if key else child.text)
        elif child.tag == "table":
            lines.extend(_flatten(child))
    return lines


def script_results(xml: Path) -> list[ScriptResult]:
    """Every ``<script>`` under a ``<port>`` (port, script id, output text)."""
    root = ET.parse(xml).getroot()
    results = []
    for port in root.iter("port"):
        number = int(port.get("portid", "0"))
        for script in port.iter("script"):
            results.append(ScriptResult(number, script.get("id", ""), script.get("output", "")))
    return results


def vuln_findings(xml: Path, include_not_vulnerable: bool = False) -> list[VulnFinding]:
    """Vulns-library findings (``title``/``state`` tables), matched by title, never NMAP-n key."""
    root = ET.parse(xml).getroot()
    found: list[VulnFinding] = []
    for port in root.iter("port"):
        number = int(port.get("portid", "0"))
        for script in port.iter("script"):
            for table in script.findall("table"):
                title = table.find("elem[@key='title']")
                state = table.find("elem[@key='state']")
                if title is None or state is None:
                    continue
                state_text = state.text or ""
                if state_text == "NOT VULNERABLE" and not include_not_vulnerable:
                    continue
                checks = table.find("table[@key='check_results']")
                found.append(
                    VulnFinding(
                        number,
                        script.get("id", ""),
                        title.text or "",
                        state_text,
                        tuple(_flatten(checks)) if checks is not None else (),
                    )
                )
    return found


def titles(xml: Path, port: int | None = None) -> set[str]:
    """Set of vulnerable finding titles (optionally for one port)."""
    return {f.title for f in vuln_findings(xml) if port is None or f.port == port}


def enum_ciphers(xml: Path, port: int) -> dict[str, list[str]]:
    """``ssl-enum-ciphers``: protocol -> cipher names, plus ``"least strength"`` and warnings."""
    root = ET.parse(xml).getroot()
    result: dict[str, list[str]] = {}
    for port_elem in root.iter("port"):
        if int(port_elem.get("portid", "0")) != port:
            continue
        for script in port_elem.iter("script"):
            if script.get("id") != "ssl-enum-ciphers":
                continue
            for table in script.findall("table"):
                proto = table.get("key", "")
                names = [
                    e.text or ""
                    for e in table.iterfind("table[@key='ciphers']/table/elem[@key='name']")
                ]
                result[proto] = names
                warnings = [e.text or "" for e in table.iterfind("table[@key='warnings']/elem")]
                if warnings:
                    result[f"{proto} warnings"] = warnings
            least = script.find("elem[@key='least strength']")
            if least is not None and least.text:
                result["least strength"] = [least.text]
    return result
