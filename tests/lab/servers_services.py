"""Throwaway FTP, Redis, memcached and MariaDB servers on loopback, for the services proofs.

Same life cycle as :mod:`tests.lab.servers` (``start/stop/restart/reset/apply``, logical ->
actual port mapping), for the Debian packages ``vsftpd``, ``redis-server``, ``memcached`` and
``mariadb-server``. Each server runs in the foreground (``background=NO``, ``--daemonize no``,
no ``-d``) as a child of the test process, so its PID is the child's and it is stopped by that
PID only. Every listener is bound to ``127.0.0.1``.

    lab = make_lab_dir()
    cert = make_self_signed_cert(lab / "cert")
    with VsftpdServer(lab / "ftp", cert) as ftp:
        ftp.apply("vsftpd", {"anonymous_enable": "NO"})
        ftp.port(21)  # actual port standing for 21

Settings use each program's own syntax: ``vsftpd.conf`` ``name=value`` lines, ``redis.conf``
``name value`` lines, memcached command-line options (``{"-U": "0"}``), MariaDB ``[mysqld]``
options. :meth:`apply` takes the knowledge format's ``target`` of the same name (``vsftpd``,
``redis``, ``memcached``, ``mariadb``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Self

from .common import LOOPBACK, LabError, binary, free_ports, run
from .servers import DovecotServer, LabServer, Listener
from .tls import Certificate

__all__ = [
    "FTP_PASSWORD",
    "FTP_USER",
    "DovecotAuthServer",
    "ForegroundServer",
    "MariaDBServer",
    "MemcachedServer",
    "RedisServer",
    "VsftpdServer",
]


class ForegroundServer(LabServer):
    """A server that runs as our child process, in the foreground, with one config file."""

    #: The knowledge format's ``target`` this server applies.
    target: str = ""
    #: Extra environment variables for the server process (None: the test's environment).
    extra_env: Mapping[str, str] | None = None

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        listeners: list[Listener],
        baseline: Mapping[str, str],
        settings: Mapping[str, str] | None = None,
    ) -> None:
        """``baseline``: the server's lab defaults; ``settings`` override them from the start."""
        super().__init__(root, cert, listeners)
        self.baseline: dict[str, str] = {**baseline, **(settings or {})}
        self.settings: dict[str, str] = dict(self.baseline)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        (self.root / "log").mkdir(exist_ok=True)

    @property
    def config_dir(self) -> Path:
        return self.root

    @property
    def log_file(self) -> Path:
        return self.root / "log" / f"{self.kind}.log"

    @property
    def pid(self) -> int | None:
        if self._proc is None or self._proc.poll() is not None:
            return None
        return self._proc.pid

    @abstractmethod
    def command(self) -> list[str]:
        """The foreground command line, after :meth:`write_config`."""

    def write_config(self) -> None:
        """Write the configuration file from :attr:`settings` (if the server has one)."""

    def prepare(self) -> None:
        """One-time setup before the first start (data directories ...)."""

    def _start(self) -> None:
        self.prepare()
        self.write_config()
        self._log = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            env={**os.environ, **self.extra_env} if self.extra_env else None,
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
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def set(self, settings: Mapping[str, str]) -> None:
        """Override settings; an empty value removes the setting (takes effect at restart)."""
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
            raise LabError(f"{self.kind} cannot apply target {target!r} (accepts {self.target!r})")
        self.set(settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        if self.settings != self.baseline:
            if self.is_running():
                self.stop()
            self.settings = dict(self.baseline)
        return self.start()


def _listeners(
    logical: Sequence[int], ports: Mapping[int, int] | None, names: Mapping[int, str]
) -> list[Listener]:
    given = dict(ports or {})
    free = iter(free_ports(len(logical)))
    out = []
    for port in logical:
        actual = given.get(port) or next(free)
        name = names[port]
        out.append(Listener(port, actual, name, name, "starttls", None, name))
    return out


# ------------------------------------------------------------------------------------------------
# vsftpd
# ------------------------------------------------------------------------------------------------

#: The local account the FTP proofs log in with (created on first use, no shell).
FTP_USER = "advlabftp"
FTP_PASSWORD = "advlab-Ftp-2026"
_PAM_SERVICE = "advisor-lab-vsftpd"
_PAM_FILE = Path("/etc/pam.d") / _PAM_SERVICE


def _password_hash(password: str) -> str:
    """A SHA-512 crypt hash from ``openssl passwd -6`` (Python 3.13 dropped ``crypt``)."""
    return run([binary("openssl"), "passwd", "-6", password]).stdout.strip()


def ensure_ftp_user(home: Path) -> None:
    """Create :data:`FTP_USER` (no login shell) and a PAM service that checks /etc/shadow.

    Debian's ``/etc/pam.d/vsftpd`` also requires a shell listed in /etc/shells; the lab's own
    PAM service (pam_unix only) lets the account keep ``/usr/sbin/nologin``.
    """
    if not _PAM_FILE.exists():
        _PAM_FILE.write_text(
            "# advisor lab (tests/lab/servers_services.py): vsftpd local users, pam_unix only\n"
            "auth     required pam_unix.so\n"
            "account  required pam_unix.so\n"
            "session  required pam_unix.so\n"
        )
    try:
        pwd.getpwnam(FTP_USER)
    except KeyError:
        run(
            [
                binary("useradd"),
                "--no-create-home",
                "--home-dir",
                str(home),
                "--shell",
                "/usr/sbin/nologin",
                "--password",
                _password_hash(FTP_PASSWORD),
                FTP_USER,
            ]
        )
    else:
        run([binary("usermod"), "--home", str(home), FTP_USER])
        run([binary("chpasswd"), "-e"], input_text=f"{FTP_USER}:{_password_hash(FTP_PASSWORD)}\n")


class VsftpdServer(ForegroundServer):
    """vsftpd 3.0 run as ``vsftpd DIR/vsftpd.conf`` in the foreground (``background=NO``).

    Baseline: Debian's defaults plus anonymous access to ``DIR/anon`` (a file ``pub/README``)
    and local users (:data:`FTP_USER`, home ``DIR/home`` with ``hello.txt``). Settings are
    ``vsftpd.conf`` options; passive ports are loopback ports (``pasv_address=127.0.0.1``).
    """

    kind = "vsftpd"
    target = "vsftpd"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        listeners = _listeners((21,), ports, {21: "ftp"})
        pasv = free_ports(4)
        baseline = {
            "listen": "YES",
            "listen_ipv6": "NO",
            "listen_address": LOOPBACK,
            "listen_port": str(listeners[0].port),
            "background": "NO",
            "anonymous_enable": "YES",
            "anon_root": str(root / "anon"),
            "no_anon_password": "YES",
            "local_enable": "YES",
            "write_enable": "NO",
            "pam_service_name": _PAM_SERVICE,
            "secure_chroot_dir": str(root / "empty"),
            "seccomp_sandbox": "NO",
            "pasv_enable": "YES",
            "pasv_address": LOOPBACK,
            "pasv_min_port": str(min(pasv)),
            "pasv_max_port": str(max(pasv)),
            "xferlog_enable": "YES",
            "vsftpd_log_file": str(root / "log" / "xfer.log"),
            "dual_log_enable": "YES",
            "log_ftp_protocol": "YES",
        }
        super().__init__(root, cert, listeners, baseline, settings)

    @property
    def config_file(self) -> Path:
        return self.root / "vsftpd.conf"

    def prepare(self) -> None:
        for sub in ("empty", "anon/pub", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        # vsftpd refuses an anonymous root (or a secure_chroot_dir) that the ftp user can write.
        for sub in ("empty", "anon", "anon/pub"):
            (self.root / sub).chmod(0o755)
        (self.root / "anon" / "pub" / "README").write_text("advisor lab anonymous file\n")
        home = self.root / "home"
        ensure_ftp_user(home)
        (home / "hello.txt").write_text("hello from the advisor lab\n")
        entry = pwd.getpwnam(FTP_USER)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        os.chown(home / "hello.txt", entry.pw_uid, entry.pw_gid)

    def write_config(self) -> None:
        lines = ["# lab vsftpd.conf (tests/lab/servers_services.py)"]
        lines += [f"{k}={v}" for k, v in self.settings.items()]
        self.config_file.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [binary("vsftpd"), str(self.config_file)]


# ------------------------------------------------------------------------------------------------
# Redis
# ------------------------------------------------------------------------------------------------


class RedisServer(ForegroundServer):
    """redis-server 7 with ``DIR/redis.conf``: bound to 127.0.0.1, no persistence.

    Baseline: Debian's packaged defaults that matter here (``protected-mode yes``, no
    ``requirepass``), with ``bind 127.0.0.1``. Settings are ``redis.conf`` directives.
    """

    kind = "redis"
    target = "redis"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        listeners = _listeners((6379,), ports, {6379: "redis"})
        baseline = {
            "bind": LOOPBACK,
            "port": str(listeners[0].port),
            "protected-mode": "yes",
            "daemonize": "no",
            "save": '""',
            "appendonly": "no",
            "dir": str(root / "data"),
            "logfile": '""',
        }
        super().__init__(root, cert, listeners, baseline, settings)

    @property
    def config_file(self) -> Path:
        return self.root / "redis.conf"

    def prepare(self) -> None:
        (self.root / "data").mkdir(exist_ok=True)

    def write_config(self) -> None:
        lines = ["# lab redis.conf (tests/lab/servers_services.py)"]
        lines += [f"{k} {v}" for k, v in self.settings.items()]
        self.config_file.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [binary("redis-server"), str(self.config_file)]


# ------------------------------------------------------------------------------------------------
# memcached
# ------------------------------------------------------------------------------------------------


class MemcachedServer(ForegroundServer):
    """memcached 1.6 in the foreground, options as in Debian's ``/etc/memcached.conf``.

    Listens on TCP and (baseline ``-U`` = the TCP port) UDP on 127.0.0.1; settings are
    command-line options (``{"-U": "0"}`` disables UDP). Runs as the ``memcache`` user.
    """

    kind = "memcached"
    target = "memcached"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        listeners = _listeners((11211,), ports, {11211: "memcache"})
        port = str(listeners[0].port)
        baseline = {"-l": LOOPBACK, "-p": port, "-U": port, "-m": "16", "-u": "memcache"}
        super().__init__(root, cert, listeners, baseline, settings)

    def set(self, settings: Mapping[str, str]) -> None:
        # A flag without a value (-S) is kept as "": removing an option is not needed here.
        self.settings.update(settings)

    def command(self) -> list[str]:
        args = [binary("memcached")]
        for name, value in self.settings.items():
            args += [name, value] if value else [name]
        return args


# ------------------------------------------------------------------------------------------------
# MariaDB
# ------------------------------------------------------------------------------------------------


class MariaDBServer(ForegroundServer):
    """mariadbd 10.11 with its own data directory (``mariadb-install-db``), on 127.0.0.1.

    Settings are ``[mysqld]`` options written to ``DIR/my.cnf``. :meth:`sql` runs statements
    as root over the server's own Unix socket (root authenticates with ``unix_socket``).
    """

    kind = "mariadb"
    target = "mariadb"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        listeners = _listeners((3306,), ports, {3306: "mysql"})
        baseline = {
            "datadir": str(root / "data"),
            "socket": str(root / "run" / "mysqld.sock"),
            "pid-file": str(root / "run" / "mysqld.pid"),
            "port": str(listeners[0].port),
            "bind-address": LOOPBACK,
            "user": "mysql",
            "skip-log-bin": "",
            "innodb_buffer_pool_size": "16M",
        }
        super().__init__(root, cert, listeners, baseline, settings)

    @property
    def config_file(self) -> Path:
        return self.root / "my.cnf"

    @property
    def socket(self) -> Path:
        return self.root / "run" / "mysqld.sock"

    def set(self, settings: Mapping[str, str]) -> None:
        # An option without a value (skip-log-bin) is kept as "": only None would remove it.
        self.settings.update(settings)

    def prepare(self) -> None:
        data = self.root / "data"
        run_dir = self.root / "run"
        run_dir.mkdir(exist_ok=True)
        mysql = pwd.getpwnam("mysql")
        os.chown(run_dir, mysql.pw_uid, mysql.pw_gid)
        if not (data / "mysql").is_dir():
            data.mkdir(exist_ok=True)
            os.chown(data, mysql.pw_uid, mysql.pw_gid)
            run(
                [
                    binary("mariadb-install-db"),
                    "--no-defaults",
                    f"--datadir={data}",
                    "--user=mysql",
                    "--skip-test-db",
                    "--auth-root-authentication-method=socket",
                ],
                timeout=180,
            )

    def write_config(self) -> None:
        lines = ["# lab my.cnf (tests/lab/servers_services.py)", "[mysqld]"]
        lines += [f"{k} = {v}" if v else k for k, v in self.settings.items()]
        self.config_file.write_text("\n".join(lines) + "\n")
        self.config_file.chmod(0o644)

    def command(self) -> list[str]:
        return [binary("mariadbd"), f"--defaults-file={self.config_file}"]

    def sql(self, statements: str, user: str = "root", password: str | None = None) -> str:
        """Run SQL with the ``mariadb`` client over the Unix socket; returns its output."""
        args = [binary("mariadb"), "--no-defaults", f"--socket={self.socket}", "-u", user, "-N"]
        if password is not None:
            args.append(f"--password={password}")
        return run([*args, "-e", statements]).stdout

    def tcp_sql(self, statements: str, user: str, password: str) -> str:
        """Run SQL over TCP to 127.0.0.1 (what a remote application does)."""
        args = [
            binary("mariadb"),
            "--no-defaults",
            "--protocol=TCP",
            f"--host={LOOPBACK}",
            f"--port={self.port(3306)}",
            "-u",
            user,
            f"--password={password}",
            "-N",
        ]
        return run([*args, "-e", statements]).stdout


# ------------------------------------------------------------------------------------------------
# Postfix with SASL from Dovecot, for the SMTP AUTH proofs
# ------------------------------------------------------------------------------------------------


class DovecotAuthServer(DovecotServer):
    """The lab Dovecot plus an auth socket for Postfix (``smtpd_sasl_type = dovecot``).

    The socket is ``DIR/run/auth-postfix`` (mode 0666), the path to give Postfix as
    ``smtpd_sasl_path``. Users: the lab's passwd file (``lab`` / ``lab``).
    """

    @property
    def auth_socket(self) -> Path:
        return self.root / "run" / "auth-postfix"

    def _write_config(self) -> None:
        super()._write_config()
        with self.config_file.open("a") as fh:
            fh.write(
                "service auth {\n"
                f"  unix_listener {self.auth_socket.name} {{\n"
                "    mode = 0666\n"
                "  }\n"
                "}\n"
            )
