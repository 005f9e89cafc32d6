"""Shared helpers for the loopback lab: binaries, ports, processes, directories.

Everything here binds to or connects to loopback only (``127.0.0.1``).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"
LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1"})
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"

#: Debian packages that provide each binary the lab uses (for skip messages).
PACKAGES: dict[str, str] = {
    "postfix": "postfix",
    "postconf": "postfix",
    "dovecot": "dovecot-core",
    "doveconf": "dovecot-core",
    "nginx": "nginx",
    "nmap": "nmap",
    "openssl": "openssl",
    "ss": "iproute2",
    "xsltproc": "xsltproc",
}

#: Extra directories searched for binaries: /usr/sbin is not always on a user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


class LabError(RuntimeError):
    """A lab server or tool did not behave as expected."""


class MissingBinary(LabError):
    """A binary the lab needs is not installed."""

    def __init__(self, name: str) -> None:
        package = PACKAGES.get(name, name)
        self.binary = name
        self.package = package
        super().__init__(
            f"{name} not installed: no '{name}' on PATH or in /usr/sbin "
            f"(Debian package '{package}'; run .ci/system-packages.sh)"
        )


def which(name: str) -> str | None:
    """Find a binary on PATH or in the sbin directories."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def binary(name: str) -> str:
    """Absolute path of a binary, or raise :class:`MissingBinary`."""
    found = which(name)
    if found is None:
        raise MissingBinary(name)
    return found


def missing_binaries(names: Iterable[str]) -> list[str]:
    return [name for name in names if which(name) is None]


def require_binaries(*names: str) -> None:
    """Raise :class:`MissingBinary` for the first missing binary."""
    for name in names:
        binary(name)


def skip_unless_available(*names: str, root: bool = False) -> None:
    """``pytest.skip`` with a visible reason when a binary is missing (or root is needed)."""
    import pytest

    for name in names:
        if which(name) is None:
            pytest.skip(str(MissingBinary(name)))
    if root and os.geteuid() != 0:
        pytest.skip(f"{', '.join(names)}: the lab needs root to start these servers")


def run(
    cmd: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture text output; raise :class:`LabError` with it on failure."""
    full_env = dict(os.environ)
    full_env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    for directory in _SBIN_DIRS:
        if directory not in full_env["PATH"].split(os.pathsep):
            full_env["PATH"] += os.pathsep + directory
    if env:
        full_env.update(env)
    proc = subprocess.run(
        list(cmd),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        env=full_env,
        input=input_text,
        cwd=cwd,
        check=False,
    )
    if check and proc.returncode != 0:
        raise LabError(
            f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def run_daemon(cmd: Sequence[str], log: Path, timeout: float = 60.0) -> int:
    """Run a command that daemonizes; its stdio goes to ``log`` (appended), never to a pipe.

    A daemon that inherits a pipe keeps it open, so ``capture_output`` would wait forever.
    Returns the exit status of the foreground command.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + os.pathsep + os.pathsep.join(_SBIN_DIRS)
    with log.open("ab") as out:
        proc = subprocess.run(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=timeout,
            check=False,
        )
    return proc.returncode


def check_loopback(host: str) -> str:
    """Return ``host`` if it is a loopback address; refuse anything else."""
    if host not in LOOPBACK_ADDRESSES:
        raise ValueError(f"lab refuses non-loopback address {host!r}: only 127.0.0.1 or ::1")
    return host


def free_port(host: str = LOOPBACK, exclude: Iterable[int] = ()) -> int:
    """A currently free TCP port on loopback (the kernel picks it, from the high range)."""
    check_loopback(host)
    excluded = set(exclude)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in excluded and port >= 1024:
            return port
    raise LabError("could not find a free port")


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        ports.append(free_port(host, exclude=ports))
    return ports


def port_is_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection on ``host:port``."""
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((host, port))
        except OSError:
            return False
        return True


def port_is_listening(port: int, host: str = LOOPBACK) -> bool:
    """True when a socket listens on ``host:port`` (checked by trying to bind it)."""
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
        return False


def wait_ports_open(ports: Iterable[int], timeout: float = 20.0, host: str = LOOPBACK) -> None:
    """Wait until something listens on every port.

    Checked by binding, not by connecting: a connection would make Postfix fork an ``smtpd``
    that lingers (and shows up in ``ss``) and would add log lines.
    """
    pending = set(ports)
    deadline = time.monotonic() + timeout
    while pending:
        pending = {port for port in pending if not port_is_listening(port, host)}
        if not pending:
            return
        if time.monotonic() > deadline:
            raise LabError(f"ports {sorted(pending)} on {host} did not open within {timeout}s")
        time.sleep(0.05)


def wait_ports_closed(ports: Iterable[int], timeout: float = 30.0, host: str = LOOPBACK) -> None:
    """Wait until nothing listens on the ports (a bind succeeds)."""
    pending = set(ports)
    deadline = time.monotonic() + timeout
    while pending:
        pending = {port for port in pending if port_is_listening(port, host)}
        if not pending:
            return
        if time.monotonic() > deadline:
            raise LabError(f"ports {sorted(pending)} on {host} still listening after {timeout}s")
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # state is the field after the parenthesised command name
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_pid_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            raise LabError(f"process {pid} still running after {timeout}s")
        time.sleep(0.05)


def read_pidfile(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def listening_pids(ports: Iterable[int]) -> dict[int, set[int]]:
    """PIDs that hold a listening socket on each port, from ``ss -lnpt`` (empty if no ss)."""
    wanted = set(ports)
    result: dict[int, set[int]] = {port: set() for port in wanted}
    ss = which("ss")
    if ss is None:
        return result
    out = run([ss, "-H", "-lnpt"], check=False).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        local = fields[3]
        try:
            port = int(local.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            continue
        if port not in wanted:
            continue
        for chunk in line.split("pid=")[1:]:
            digits = chunk.split(",", 1)[0]
            if digits.isdigit():
                result[port].add(int(digits))
    return result


def make_lab_dir(prefix: str = "advisor-lab-", parent: Path | None = None) -> Path:
    """A fresh directory, mode 0755, whose parents are traversable by the daemons' users.

    ``mktemp -d`` and pytest's ``tmp_path`` are 0700, which the daemons (``postfix``,
    ``dovenull``, ``www-data``) cannot enter.
    """
    base = parent if parent is not None else Path(tempfile.gettempdir())
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    path.chmod(0o755)
    return path


def dh_fixture(name: str) -> Path:
    """Path of a committed DH parameter fixture: ``dh1024``, ``dh2048``, ``dh2048-dsa``..."""
    path = FIXTURES_DIR / (name if name.endswith(".pem") else f"{name}.pem")
    if not path.is_file():
        raise LabError(f"no DH fixture {path}")
    return path
