"""Run nmap: found on PATH, started with an argument vector (never through a shell), bounded
by a timeout, its XML written to a temporary file beside the target and renamed over it only
when nmap succeeded (a failed or interrupted run leaves no partial file behind)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from advisor.rescan.plan import Command

#: Default limit for one nmap run, in seconds (``--timeout``).
DEFAULT_TIMEOUT = 3600.0


class NmapError(RuntimeError):
    """nmap is missing, failed or ran out of time. The message is one line for users."""


@dataclass(frozen=True)
class NmapRun:
    argv: tuple[str, ...]
    """The command as run, with the final XML path in place of the temporary one."""
    xml: Path
    seconds: float
    warnings: tuple[str, ...]
    """What nmap wrote on stderr (warnings such as a script it could not load)."""


def find_nmap() -> str:
    """The nmap binary on PATH."""
    found = shutil.which("nmap")
    if found is None:
        raise NmapError(
            "nmap not found on PATH: install it (Debian/Ubuntu: apt-get install nmap; "
            "others: https://nmap.org/download) or add its directory to PATH"
        )
    return found


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def run_nmap(
    command: Command, xml: Path, timeout: float | None = DEFAULT_TIMEOUT, nmap: str | None = None
) -> NmapRun:
    """Run ``command`` with ``-oX`` to ``xml``; raise :class:`NmapError` when it fails."""
    binary = nmap or find_nmap()
    directory = xml.parent if str(xml.parent) else Path(".")
    if not directory.is_dir():
        raise NmapError(f"cannot write {xml}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{xml.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    began = time.monotonic()
    try:
        try:
            proc = subprocess.run(
                command.argv(tmp, binary),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise NmapError(
                f"nmap did not finish within {timeout:g} s and was stopped (see --timeout)"
            ) from None
        except OSError as exc:
            raise NmapError(f"cannot run {binary}: {exc.strerror}") from None
        if proc.returncode != 0:
            raise NmapError(
                f"nmap failed (exit code {proc.returncode}): "
                f"{_last_line(proc.stderr or proc.stdout)}"
            )
        if os.path.getsize(tmp) == 0:
            raise NmapError(f"nmap wrote no XML: {_last_line(proc.stderr or proc.stdout)}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, xml)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    warnings = tuple(line for line in proc.stderr.splitlines() if line.strip())
    return NmapRun(tuple(command.argv(str(xml))), xml, time.monotonic() - began, warnings)
