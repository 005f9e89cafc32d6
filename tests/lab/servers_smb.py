"""Throwaway Samba and net-snmp servers on loopback, for the SMB / SNMP proofs.

Both run in the foreground as children of the test process (``smbd --foreground
--no-process-group``, ``snmpd -f``), bound to ``127.0.0.1`` on a free high port, with every
file (configuration, state, logs, pid) inside the lab directory. They are stopped by their own
PID; Samba 4.16+ also starts ``samba-dcerpcd`` helpers on demand, which outlive ``smbd``:
:meth:`SambaServer.stop` ends those by PID too, recognised by this lab's configuration path on
their command line.

    lab = make_lab_dir()
    with SambaServer(lab / "samba") as smb:
        smb.apply("samba-global", {"server signing": "mandatory"})
        smb.port(445)        # the actual port standing for 445 (nmap: --script-args smbport=N)
        smb.fetch()          # a file from the [public] share, as the lab user

    with SnmpdServer(lab / "snmp") as snmp:
        snmp.apply("snmpd", {"rocommunity": ""})   # an empty value removes the directive
        snmp.get_v2c("public"), snmp.get_v3(...)

Settings use each program's own names: smb.conf ``[global]`` parameters (``server min
protocol``, ``server signing``, ``restrict anonymous``), snmpd.conf directives (``rocommunity``,
``createUser``, ``rouser``). :meth:`apply` takes the knowledge format's ``target`` of the same
name (``samba-global``, ``snmpd``). Needs root and the Debian packages ``samba``, ``smbclient``,
``snmpd`` and ``snmp``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from .common import LOOPBACK, LabError, binary, free_port, pid_alive, run, wait_pid_gone
from .servers import LabServer, Listener
from .tls import Certificate

__all__ = [
    "SAMBA_BASELINE",
    "SAMBA_FILE_TEXT",
    "SAMBA_PASSWORD",
    "SAMBA_USER",
    "SNMP_BASELINE",
    "SNMP_V3",
    "SambaServer",
    "SnmpdServer",
    "write_udp_datadir",
]

#: The local account that logs in to the lab share (created on first use, no login shell).
SAMBA_USER = "advlabsmb"
SAMBA_PASSWORD = "Lab-Smb-2026"
#: The content of ``hello.txt`` in the ``[public]`` share.
SAMBA_FILE_TEXT = "hello from the advisor lab\n"

#: The vulnerable-by-default starting point: Debian's Samba 4.17 defaults, plus SMBv1 allowed
#: and guest mapping (as many small-office servers and NAS boxes are configured).
SAMBA_BASELINE: dict[str, str] = {
    "server min protocol": "NT1",
    "map to guest": "bad user",
}

#: The SNMPv3 user of :data:`SNMP_BASELINE` and of ADV-5130's fix (user, auth, priv passphrases).
SNMP_V3 = ("advlabsnmp", "Lab-Snmp-Auth-2026", "Lab-Snmp-Priv-2026")

#: Debian bookworm's /etc/snmp/snmpd.conf access lines (``view systemonly`` is written always).
SNMP_BASELINE: dict[str, str] = {
    "rocommunity": "public default -V systemonly",
    "rocommunity6": "public default -V systemonly",
    "sysLocation": "advisor lab",
    "sysContact": "lab@example.test",
}


def _ensure_unix_user(name: str) -> None:
    try:
        run(["id", name])
    except LabError:
        run(["useradd", "-M", "-s", "/usr/sbin/nologin", name])


def _own_processes(marker: str) -> list[int]:
    """PIDs whose command line contains ``marker`` (this lab's config path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        # A zombie has exited already (an empty cmdline, normally): nothing left to stop.
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


class SambaServer(LabServer):
    """``smbd --foreground`` with one guest-readable share ``[public]`` and one lab user."""

    kind = "samba"
    target = "samba-global"

    def __init__(
        self, root: Path, cert: Certificate | None = None, port: int | None = None
    ) -> None:
        actual = port or free_port()
        listener = Listener(445, actual, "smb", "microsoft-ds", "starttls", None, "microsoft-ds")
        super().__init__(root, cert, [listener])  # type: ignore[arg-type]
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for sub in ("lock", "state", "cache", "pid", "private", "ncalrpc", "log", "share"):
            (self.root / sub).mkdir(exist_ok=True)
        (self.root / "share").chmod(0o755)
        (self.root / "share" / "hello.txt").write_text(SAMBA_FILE_TEXT)
        self.baseline = dict(SAMBA_BASELINE)
        self.settings = dict(self.baseline)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._user_ready = False

    @property
    def config_dir(self) -> Path:
        return self.root

    @property
    def conf(self) -> Path:
        return self.root / "smb.conf"

    @property
    def pid(self) -> int | None:
        if self._proc is None or self._proc.poll() is not None:
            return None
        return self._proc.pid

    def write_config(self) -> None:
        r = self.root
        fixed = {
            "netbios name": "ADVLAB",
            "workgroup": "WORKGROUP",
            "server role": "standalone server",
            "interfaces": LOOPBACK,
            "bind interfaces only": "yes",
            "smb ports": str(self.port(445)),
            "disable netbios": "yes",
            "lock directory": str(r / "lock"),
            "state directory": str(r / "state"),
            "cache directory": str(r / "cache"),
            "pid directory": str(r / "pid"),
            "private dir": str(r / "private"),
            "ncalrpc dir": str(r / "ncalrpc"),
            "log file": str(r / "log" / "smbd.log"),
            "passdb backend": f"tdbsam:{r / 'private' / 'passdb.tdb'}",
            "load printers": "no",
            "printing": "bsd",
            "printcap name": "/dev/null",
            "disable spoolss": "yes",
        }
        lines = ["[global]"]
        lines += [f"  {k} = {v}" for k, v in {**fixed, **self.settings}.items()]
        lines += [
            "",
            "[public]",
            f"  path = {r / 'share'}",
            "  read only = yes",
            "  guest ok = yes",
        ]
        self.conf.write_text("\n".join(lines) + "\n")

    def _ensure_user(self) -> None:
        if self._user_ready:
            return
        _ensure_unix_user(SAMBA_USER)
        run(
            [binary("smbpasswd"), "-c", str(self.conf), "-s", "-a", SAMBA_USER],
            input_text=f"{SAMBA_PASSWORD}\n{SAMBA_PASSWORD}\n",
        )
        self._user_ready = True

    def _start(self) -> None:
        self.write_config()
        self._ensure_user()
        self._log = (self.root / "log" / "foreground.log").open("ab")
        self._proc = subprocess.Popen(
            [binary("smbd"), "--foreground", "--no-process-group", "-s", str(self.conf)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            # smbd signals its whole process group when it shuts down: give it its own.
            start_new_session=True,
        )

    def _stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=10)

    def _stop_again(self, pid: int, attempt: int) -> None:
        if self._proc is not None and self._proc.pid == pid and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL if attempt > 2 else signal.SIGTERM)

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        # samba-dcerpcd and its rpcd_* workers, started on demand with our --configfile.
        for pid in _own_processes(str(self.conf)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(LabError):
                wait_pid_gone(pid, 5.0)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        out = []
        for name in ("foreground.log", "smbd.log"):
            with contextlib.suppress(OSError):
                out.append((self.root / "log" / name).read_text(errors="replace"))
        return "\n".join(out) or "(no log)"

    def set(self, settings: Mapping[str, str]) -> None:
        """Override ``[global]`` parameters; an empty value removes one (at restart)."""
        for name, value in settings.items():
            if value == "":
                self.settings.pop(name, None)
            else:
                self.settings[name] = value

    def apply(
        self,
        target: str,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        if target != self.target:
            raise LabError(f"samba cannot apply target {target!r} (accepts {self.target!r})")
        self.set(settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        if self.settings != self.baseline:
            if self.is_running():
                self.stop()
            self.settings = dict(self.baseline)
        return self.start()

    def fetch(self, name: str = "hello.txt") -> str:
        """Download a file of ``[public]`` as the lab user with smbclient; its text."""
        proc = run(
            [
                binary("smbclient"),
                "-s",
                str(self.conf),
                "-p",
                str(self.port(445)),
                f"//{LOOPBACK}/public",
                "-U",
                f"{SAMBA_USER}%{SAMBA_PASSWORD}",
                "-c",
                f"get {name} -",
            ]
        )
        return proc.stdout


def write_udp_datadir(directory: Path, services: Mapping[int, str]) -> Path:
    """An nmap ``--datadir`` whose ``nmap-services`` names lab *UDP* ports (``snmp``)."""
    directory.mkdir(parents=True, exist_ok=True)
    taken = {f"{port}/udp" for port in services}
    system = Path("/usr/share/nmap/nmap-services")
    lines = [
        line
        for line in (
            system.read_text(errors="replace").splitlines(keepends=True) if system.is_file() else []
        )
        if not (len(line.split()) >= 2 and line.split()[1] in taken)
    ]
    lines += [f"{name}\t{port}/udp\t0.500000\t# advisor lab\n" for port, name in services.items()]
    (directory / "nmap-services").write_text("".join(lines))
    return directory


class SnmpdServer:
    """``snmpd -f`` on ``udp:127.0.0.1:PORT`` with Debian's access lines (community public)."""

    kind = "net-snmp"
    target = "snmpd"

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "persist").mkdir(exist_ok=True)
        self.udp_port = port or free_port()
        self.baseline = dict(SNMP_BASELINE)
        self.settings = dict(self.baseline)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def conf(self) -> Path:
        return self.root / "snmpd.conf"

    @property
    def pid(self) -> int | None:
        if self._proc is None or self._proc.poll() is not None:
            return None
        return self._proc.pid

    def write_config(self) -> None:
        lines = [
            "view   systemonly  included   .1.3.6.1.2.1.1",
            "view   systemonly  included   .1.3.6.1.2.1.25.1",
        ]
        lines += [f"{k} {v}" for k, v in self.settings.items()]
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> Self:
        if self.pid is not None:
            return self
        self.write_config()
        # A fresh persistent directory each start: createUser lines are turned into keys there.
        shutil.rmtree(self.root / "persist", ignore_errors=True)
        (self.root / "persist").mkdir()
        self._log = (self.root / "snmpd.out").open("ab")
        env = dict(os.environ, SNMP_PERSISTENT_DIR=str(self.root / "persist"), MIBS="")
        self._proc = subprocess.Popen(
            [
                binary("snmpd"),
                "-f",
                "-Lf",
                str(self.root / "snmpd.log"),
                "-C",
                "-c",
                str(self.conf),
                "-p",
                str(self.root / "snmpd.pid"),
                f"udp:{LOOPBACK}:{self.udp_port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            env=env,
        )
        deadline = time.monotonic() + 20
        while not self._udp_bound():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise LabError(f"snmpd did not start:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)
        return self

    def _udp_bound(self) -> bool:
        """True once a UDP socket is bound to 127.0.0.1:PORT (read from /proc/net/udp)."""
        local = f"0100007F:{self.udp_port:04X}"
        try:
            rows = Path("/proc/net/udp").read_text().splitlines()[1:]
        except OSError:
            return False
        return any(len(row.split()) > 1 and row.split()[1] == local for row in rows)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            pid = self._proc.pid
            self._proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=10)
            if pid_alive(pid):
                self._proc.kill()
                self._proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "snmpd.log").read_text(errors="replace")
        return "(no log)"

    def set(self, settings: Mapping[str, str]) -> None:
        """Override snmpd.conf directives; an empty value removes one (at restart)."""
        for name, value in settings.items():
            if value == "":
                self.settings.pop(name, None)
            else:
                self.settings[name] = value

    def apply(self, target: str, settings: Mapping[str, str], restart: bool = True) -> None:
        if target != self.target:
            raise LabError(f"snmpd cannot apply target {target!r} (accepts {self.target!r})")
        self.set(settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        if self.settings != self.baseline:
            self.stop()
            self.settings = dict(self.baseline)
        return self.start()

    def servicedb(self) -> dict[int, str]:
        return {self.udp_port: "snmp"}

    def get_v2c(self, community: str, oid: str = "1.3.6.1.2.1.1.5.0") -> str | None:
        """``snmpget -v2c``: the value line, or None when the agent does not answer."""
        proc = subprocess.run(
            [binary("snmpget"), "-m", "", "-v2c", "-c", community, "-t", "1", "-r", "0",
             f"{LOOPBACK}:{self.udp_port}", oid],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None

    def get_v3(self, user: str, auth: str, priv: str, oid: str = "1.3.6.1.2.1.1.5.0") -> str | None:
        """``snmpget -v3 -l authPriv`` (SHA-256 / AES): the value line, or None."""
        proc = subprocess.run(
            [binary("snmpget"), "-m", "", "-v3", "-l", "authPriv", "-u", user, "-a", "SHA-256",
             "-A", auth, "-x", "AES", "-X", priv, "-t", "2", "-r", "1",
             f"{LOOPBACK}:{self.udp_port}", oid],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None
