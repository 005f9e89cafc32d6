"""A throwaway OpenSSH server on loopback, for the SSH knowledge entries' proofs and captures.

    lab = make_lab_dir()
    with SshdServer(lab / "sshd") as sshd:
        sshd.set({"Ciphers": "+3des-cbc,aes128-cbc"})
        sshd.restart()
        sshd.login()  # a real key-based login as root runs ``true``

``/usr/sbin/sshd -D -f DIR/sshd_config -E DIR/sshd.log`` runs in the foreground as a child of
the test process (no daemonizing, no syslog), bound to ``127.0.0.1`` on a free high port
(logical port 22). Everything it reads lives in its directory: host keys made with
``ssh-keygen`` (``etc-ssh/ssh_host_ed25519_key`` and a 3072-bit ``ssh_host_rsa_key``, the
names Debian's ``ssh-keygen -A`` gives them), ``PidFile``, and ``AuthorizedKeysFile
DIR/authorized_keys/%u`` holding a client key made for the login check. Nothing under
``/etc/ssh`` is read or changed; the one system path touched is ``/run/sshd``, the
privilege-separation directory sshd insists on (created, mode 0755, when missing).

Settings follow sshd_config(5)'s rule that the first value of a keyword wins: the
configuration file is rewritten from a mapping with one line per keyword, so setting a keyword
replaces it rather than adding a second, ignored line. ``HostKey`` may hold several paths
separated by newlines (one ``HostKey`` line each). Paths under ``/etc/ssh/`` in a value (as
the knowledge entries write them) are mapped to the lab's own ``etc-ssh/`` directory.

Facts relied on (Debian 12, OpenSSH 9.2p1, checked here): ``sshd -t`` validates a file
without starting; ``UsePAM no`` lets root log in with a key when its password field is ``*``;
the default ``PermitRootLogin`` is ``prohibit-password``; ssh-dss and SSH protocol 1: DSA is
still compiled in (``ssh -Q key`` lists ssh-dss), protocol 1 is not (removed from sshd in 7.4).
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from .common import (
    LOOPBACK,
    PACKAGES,
    LabError,
    binary,
    free_port,
    pid_alive,
    run,
    wait_pid_gone,
    wait_ports_closed,
    wait_ports_open,
)

# Debian packages for the skip messages of tests.lab.common.MissingBinary.
for _name, _package in (
    ("sshd", "openssh-server"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("ssh-keyscan", "openssh-client"),
):
    PACKAGES.setdefault(_name, _package)

#: The ``target`` of knowledge-base fixes that this server applies (docs/knowledge-format.md).
TARGET = "sshd"

#: Where the entries' paths point (Debian's host key names) and what the lab maps them to.
SYSTEM_SSH_DIR = "/etc/ssh/"

#: Baseline settings, in file order. The distribution defaults hold for everything not listed.
BASELINE: dict[str, str] = {
    "ListenAddress": LOOPBACK,
    "HostKey": "/etc/ssh/ssh_host_ed25519_key\n/etc/ssh/ssh_host_rsa_key",
    "PermitRootLogin": "prohibit-password",
    "UsePAM": "no",
    "KbdInteractiveAuthentication": "no",
    # The lab directory sits under /tmp (mode 1777), which StrictModes refuses as a parent of
    # AuthorizedKeysFile ("bad ownership or modes for directory /tmp"). No entry touches it.
    "StrictModes": "no",
    "LogLevel": "VERBOSE",
}


class SshdServer:
    """One OpenSSH ``sshd`` on ``127.0.0.1``, configured from a mapping of keywords."""

    kind = "openssh"

    def __init__(
        self, root: Path, port: int | None = None, settings: Mapping[str, str] | None = None
    ) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.actual_port = port if port is not None else free_port()
        self.baseline: dict[str, str] = dict(BASELINE) | dict(settings or {})
        self.settings: dict[str, str] = dict(self.baseline)
        self._proc: subprocess.Popen[bytes] | None = None
        self._make_keys()

    # -- files -----------------------------------------------------------------------------
    @property
    def config_dir(self) -> Path:
        return self.root

    @property
    def config_file(self) -> Path:
        return self.root / "sshd_config"

    @property
    def key_dir(self) -> Path:
        """Stands for ``/etc/ssh``: the host keys."""
        return self.root / "etc-ssh"

    @property
    def log_file(self) -> Path:
        return self.root / "sshd.log"

    @property
    def pidfile(self) -> Path:
        return self.root / "sshd.pid"

    @property
    def client_key(self) -> Path:
        """Private key of the login check (its public half is root's authorized key)."""
        return self.root / "client" / "id_ed25519"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "authorized_keys" / "root"

    @property
    def known_hosts(self) -> Path:
        return self.root / "client" / "known_hosts"

    def host_key(self, name: str) -> Path:
        """A host key file in the lab's ``etc-ssh`` (``ssh_host_rsa1024_key`` ...)."""
        return self.key_dir / name

    def make_host_key(self, name: str, key_type: str, bits: int | None = None) -> Path:
        """Generate ``etc-ssh/NAME`` with ``ssh-keygen -t TYPE [-b BITS]`` unless it exists;
        return its lab path. Use ``"/etc/ssh/" + name`` in settings."""
        path = self.host_key(name)
        if not path.exists():
            cmd = [binary("ssh-keygen"), "-q", "-t", key_type, "-N", "", "-C", name, "-f"]
            if bits is not None:
                cmd[4:4] = ["-b", str(bits)]
            run([*cmd, str(path)])
        return path

    def _make_keys(self) -> None:
        self.key_dir.mkdir(parents=True, exist_ok=True)
        self.key_dir.chmod(0o755)
        self.make_host_key("ssh_host_ed25519_key", "ed25519")
        self.make_host_key("ssh_host_rsa_key", "rsa", 3072)
        client = self.client_key
        client.parent.mkdir(parents=True, exist_ok=True)
        if not client.exists():
            run([binary("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(client)])
        self.authorized_keys.parent.mkdir(parents=True, exist_ok=True)
        self.authorized_keys.parent.chmod(0o755)
        self.set_authorized_keys([])

    def set_authorized_keys(self, extra: Iterable[str]) -> None:
        """root's authorized keys: the login check's key plus ``extra`` lines."""
        own = (self.client_key.with_suffix(".pub")).read_text().strip()
        self.authorized_keys.write_text("\n".join([own, *extra]) + "\n")
        self.authorized_keys.chmod(0o644)

    def lab_path(self, value: str) -> str:
        """``value`` with /etc/ssh/ paths pointing at the lab's own ``etc-ssh/``."""
        return value.replace(SYSTEM_SSH_DIR, str(self.key_dir) + "/")

    def _render(self) -> str:
        lines = [
            "# advisor lab sshd (tests/lab/servers_ssh.py): first value of a keyword wins",
            f"Port {self.actual_port}",
            f"PidFile {self.pidfile}",
            f"AuthorizedKeysFile {self.authorized_keys.parent}/%u",
        ]
        for key, value in self.settings.items():
            for part in value.split("\n"):
                lines.append(f"{key} {self.lab_path(part.strip())}")
        return "\n".join(lines) + "\n"

    def write_config(self) -> None:
        self.config_file.write_text(self._render())
        self.sshd("-t")

    def sshd(self, *args: str, check: bool = True) -> str:
        """``sshd -f CONFIG ARGS``: ``"-t"`` (test), ``"-T"`` (effective configuration)."""
        _privsep_dir()
        proc = run([binary("sshd"), "-f", str(self.config_file), *args], check=check)
        return proc.stdout + proc.stderr

    # -- settings --------------------------------------------------------------------------
    def set(self, settings: Mapping[str, str | None]) -> None:
        """Replace keywords (``None`` or ``""`` removes one: back to sshd's default)."""
        for key, value in settings.items():
            if value is None or value == "":
                self.settings.pop(key, None)
            else:
                self.settings[key] = value
        self.write_config()

    def apply(self, target: str, settings: Mapping[str, str | None], restart: bool = True) -> None:
        """Apply a knowledge-base fix's ``settings`` (``target = "sshd"``), then restart."""
        if target != TARGET:
            raise LabError(f"sshd cannot apply target {target!r} (accepts {TARGET!r})")
        self.set(settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        """Back to the baseline settings and authorized keys (restart if they changed)."""
        changed = self.settings != self.baseline
        self.settings = dict(self.baseline)
        self.set_authorized_keys([])
        if changed or not self.config_file.exists():
            self.write_config()
            if self.is_running():
                self.restart()
        return self

    # -- ports -----------------------------------------------------------------------------
    @property
    def ports(self) -> dict[int, int]:
        return {22: self.actual_port}

    def port(self, logical: int = 22) -> int:
        if logical not in (22, self.actual_port):
            raise LabError(f"sshd has no listener for port {logical}")
        return self.actual_port

    def servicedb(self) -> dict[int, str]:
        """nmap's ssh scripts select ports by service ``ssh`` (shortport.ssh)."""
        return {self.actual_port: "ssh"}

    # -- life cycle ------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def is_running(self) -> bool:
        pid = self.pid
        return pid is not None and pid_alive(pid)

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def start(self) -> Self:
        if self.is_running():
            return self
        if not self.config_file.exists():
            self.write_config()
        _privsep_dir()
        wait_ports_closed([self.actual_port], timeout=30)
        cmd = [binary("sshd"), "-D", "-f", str(self.config_file), "-E", str(self.log_file)]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_ports_open([self.actual_port], timeout=20)
        except LabError as exc:
            self.stop()
            raise LabError(f"{exc}\n--- sshd log ---\n{self.log_text()[-4000:]}") from exc
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the listener (our child), reap it, wait until the port is closed."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            wait_pid_gone(proc.pid, 1.0)
        wait_ports_closed([self.actual_port], timeout=timeout)

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the service still serves ----------------------------------------------------------
    def login(self, command: str = "true", *extra: str) -> subprocess.CompletedProcess[str]:
        """A real SSH login as root with the client key (``ssh -o BatchMode=yes``), running
        ``command``; the host key is learnt with ``ssh-keyscan`` first. Raises on failure."""
        self.known_hosts.write_text(self.keyscan())
        client_config = self.root / "client" / "ssh_config"
        client_config.write_text("# empty: ssh's defaults only\n")
        cmd = [
            binary("ssh"),
            "-F",
            str(client_config),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "ConnectTimeout=10",
            "-i",
            str(self.client_key),
            "-p",
            str(self.actual_port),
            *extra,
            f"root@{LOOPBACK}",
            command,
        ]
        return run(cmd, timeout=60)

    def keyscan(self) -> str:
        """``ssh-keyscan -p PORT 127.0.0.1``: the host keys the server offers by default."""
        out = run([binary("ssh-keyscan"), "-p", str(self.actual_port), LOOPBACK], timeout=30)
        if not out.stdout.strip():
            raise LabError(f"ssh-keyscan got no host key:\n{out.stderr}")
        return out.stdout


def _privsep_dir() -> None:
    """sshd refuses to start without its privilege-separation directory (Debian: /run/sshd,
    normally made by the init script or systemd unit)."""
    path = Path("/run/sshd")
    if not path.is_dir():
        path.mkdir(mode=0o755, parents=True, exist_ok=True)


def installed_version() -> str:
    """``9.2p1`` from ``ssh -V`` (client and server come from the same Debian source)."""
    out = run([binary("ssh"), "-V"], check=False)
    text = (out.stderr or out.stdout).strip()
    # "OpenSSH_9.2p1 Debian-2+deb12u6, OpenSSL 3.0.22 ..."
    return text.split(",", 1)[0].split("_", 1)[-1].split()[0]


__all__ = ["BASELINE", "TARGET", "SshdServer", "installed_version"]
