"""Throwaway Postfix, Dovecot and nginx servers on loopback, for tests and captures.

Each server lives in its own directory (mode 0755) under a lab directory, listens only on
``127.0.0.1`` on free high ports (or ports you give), and knows which *logical* port
(25/465/587, 143/993/110/995, 443) each actual port stands for.

    lab = make_lab_dir()
    cert = make_self_signed_cert(lab / "cert")
    with PostfixServer(lab / "postfix", cert) as pf:
        pf.set_main({"smtpd_tls_exclude_ciphers": "aNULL"})
        pf.restart()
        pf.port(465)  # actual port standing for 465

Trap list (lab-notes.md): ``maillog_file`` + ``postlog`` service because there is no syslog,
chroot ``n`` on every master.cf service, ``data_directory`` owned by ``postfix``,
``inet_interfaces = loopback-only``, ``postfix start`` may exit 1 silently (read the log),
``postfix stop`` returns before the ``smtpd`` children release the listening sockets.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from .common import (
    LOOPBACK,
    LabError,
    binary,
    free_ports,
    listening_pids,
    pid_alive,
    read_pidfile,
    run,
    run_daemon,
    wait_pid_gone,
    wait_ports_closed,
    wait_ports_open,
)
from .tls import Certificate, StartTLS

TLSMode = Literal["opportunistic", "starttls", "implicit"]
Target = Literal["postfix-main", "postfix-master", "dovecot", "nginx-http", "nginx-server"]


@dataclass(frozen=True)
class Listener:
    """One listening port of a lab server."""

    logical_port: int
    """The standard port this one stands for (25, 465, 587, 993, 443 ...)."""
    port: int
    """The actual port on 127.0.0.1."""
    name: str
    """The server's own name for it: master.cf service field, Dovecot inet_listener name."""
    label: str
    """The conventional service name (``smtp``, ``submissions``, ``submission``, ``imaps`` ...)."""
    tls_mode: TLSMode
    starttls: StartTLS | None
    """``openssl s_client -starttls`` protocol, or None for implicit TLS."""
    nmap_service: str
    """Service name nmap's scripts need without ``-sV`` (for ``--servicedb``)."""


class LabServer(ABC):
    """Common life cycle: start, stop, restart, context manager, port mapping."""

    kind: str = "server"

    def __init__(self, root: Path, cert: Certificate, listeners: list[Listener]) -> None:
        self.root = root
        self.cert = cert
        self.listeners: dict[int, Listener] = {lst.logical_port: lst for lst in listeners}
        self.startup_seconds: float | None = None
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)

    # -- ports ---------------------------------------------------------------------------------
    @property
    def ports(self) -> dict[int, int]:
        """Logical port -> actual port."""
        return {logical: lst.port for logical, lst in self.listeners.items()}

    def port(self, logical: int) -> int:
        try:
            return self.listeners[logical].port
        except KeyError:
            raise LabError(f"{self.kind} has no listener for port {logical}") from None

    def listener(self, logical_or_actual: int) -> Listener:
        if logical_or_actual in self.listeners:
            return self.listeners[logical_or_actual]
        for lst in self.listeners.values():
            if lst.port == logical_or_actual:
                return lst
        raise LabError(f"{self.kind} has no listener for port {logical_or_actual}")

    @property
    def actual_ports(self) -> list[int]:
        return sorted(lst.port for lst in self.listeners.values())

    def servicedb(self) -> dict[int, str]:
        """Actual port -> nmap service name, for :func:`tests.lab.nmap.run_nmap`."""
        return {lst.port: lst.nmap_service for lst in self.listeners.values()}

    # -- life cycle ----------------------------------------------------------------------------
    @property
    @abstractmethod
    def config_dir(self) -> Path: ...

    @property
    @abstractmethod
    def pid(self) -> int | None:
        """PID of the master process while running, else None."""

    @abstractmethod
    def _start(self) -> None: ...

    @abstractmethod
    def _stop(self) -> None: ...

    @abstractmethod
    def log_text(self) -> str: ...

    def _stop_again(self, pid: int, attempt: int) -> None:
        """Called every 3 s while the master is still alive after :meth:`_stop`."""
        self._stop()

    def is_running(self) -> bool:
        pid = self.pid
        return pid is not None and pid_alive(pid)

    def start(self) -> Self:
        if self.is_running():
            return self
        wait_ports_closed(self.actual_ports, timeout=30)
        began = time.monotonic()
        self._start()
        try:
            wait_ports_open(self.actual_ports, timeout=20)
        except LabError as exc:
            raise LabError(f"{exc}\n--- {self.kind} log ---\n{self.log_text()[-4000:]}") from exc
        # Dovecot can open its listeners before it writes master.pid.
        deadline = time.monotonic() + 10
        while not self.is_running():
            if time.monotonic() > deadline:
                raise LabError(f"{self.kind}: ports open but no live pid in the pidfile")
            time.sleep(0.02)
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server and wait until its PID is gone and its ports are closed."""
        pid = self.pid
        if pid is not None and pid_alive(pid):
            self._stop()
            # A stop signal that lands while the daemon is still initialising can be lost
            # (seen once with nginx right after start): ask again every few seconds.
            deadline = time.monotonic() + timeout
            attempt = 0
            while pid_alive(pid) and time.monotonic() < deadline:
                try:
                    wait_pid_gone(pid, 3.0)
                except LabError:
                    attempt += 1
                    self._stop_again(pid, attempt)
            wait_pid_gone(pid, 0.5)
        try:
            wait_ports_closed(self.actual_ports, timeout=timeout)
        except LabError:
            self._kill_port_holders()
            wait_ports_closed(self.actual_ports, timeout=10)

    def _kill_port_holders(self) -> None:
        """Last resort: SIGTERM the leftover children of *this* server holding our ports."""
        for pids in listening_pids(self.actual_ports).values():
            for pid in pids:
                if self._owns_process(pid):
                    os.kill(pid, signal.SIGTERM)

    def _owns_process(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
        except OSError:
            return False
        config = str(self.config_dir)
        return config in cmdline or config in environ

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

    @abstractmethod
    def apply(
        self,
        target: Target,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        """Apply a knowledge-base fix's ``settings`` for its ``target``, then restart."""

    @abstractmethod
    def reset(self) -> Self:
        """Back to the configuration the server was created with (restart if it changed)."""


def _check_target(kind: str, target: str, allowed: Iterable[str]) -> None:
    if target not in allowed:
        raise LabError(f"{kind} cannot apply target {target!r} (accepts {sorted(allowed)})")


# ------------------------------------------------------------------------------------------------
# Postfix
# ------------------------------------------------------------------------------------------------

#: Internal services, as in Debian's master.cf, with chroot ``n`` everywhere.
_POSTFIX_INTERNAL = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
        -o syslog_name=postfix/$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
virtual   unix  -       n       n       -       -       virtual
"""

#: logical port -> (label, -o overrides, tls mode, starttls, nmap service), as Ubuntu's master.cf.
_POSTFIX_LISTENERS: dict[int, tuple[str, list[str], TLSMode, StartTLS | None, str]] = {
    25: ("smtp", [], "opportunistic", "smtp", "smtp"),
    465: (
        "submissions",
        ["smtpd_tls_wrappermode=yes"],
        "implicit",
        None,
        "smtps",
    ),
    587: (
        "submission",
        ["smtpd_tls_security_level=encrypt", "smtpd_tls_auth_only=yes"],
        "starttls",
        "smtp",
        # nmap's STARTTLS table knows port 587 and the name "smtp", not "submission".
        "smtp",
    ),
}
_STANDARD_SERVICE_NAME = {25: "smtp", 465: "submissions", 587: "submission"}
#: The domain of the lab mailbox Postfix delivers to (virtual(8)), and the mailbox owner (nobody).
MAILBOX_DOMAIN = "mailbox.example.test"
MAILBOX_UID = 65534


def mail_ports(kind: str, ports: Mapping[int, int] | None) -> list[tuple[int, int]]:
    """(logical, actual) for a mail lab's SMTP ports 25, 465 and 587: ``ports`` maps the
    logical ones wanted to actual ports (0 = a free one); None = all three on free ports."""
    given = dict(ports or {})
    unknown = set(given) - {25, 465, 587}
    if unknown:
        raise LabError(f"{kind} lab knows logical ports 25, 465, 587, not {sorted(unknown)}")
    wanted = [25, 465, 587] if ports is None else sorted(given)
    free = iter(free_ports(len(wanted)))
    return [(logical, given.get(logical) or next(free)) for logical in wanted]


class PostfixServer(LabServer):
    """A Postfix instance run with ``postfix -c DIR``.

    ``ports`` maps logical ports (25, 465, 587) to actual ports; missing ones get free high
    ports. The master.cf service field is ``127.0.0.1:PORT`` (``127.0.0.1:submissions`` and
    so on when the actual port is the standard one).
    """

    kind = "postfix"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        main: Mapping[str, str] | None = None,
        hostname: str = "lab.example.test",
    ) -> None:
        listeners: list[Listener] = []
        for logical, actual in mail_ports("postfix", ports):
            label, _opts, mode, starttls, nmap_service = _POSTFIX_LISTENERS[logical]
            name = (
                f"{LOOPBACK}:{_STANDARD_SERVICE_NAME[logical]}"
                if actual == logical
                else f"{LOOPBACK}:{actual}"
            )
            listeners.append(Listener(logical, actual, name, label, mode, starttls, nmap_service))
        super().__init__(root, cert, listeners)
        self.hostname = hostname
        self._extra_main = dict(main or {})
        self._write_initial_config()
        self._baseline = (self.main_cf.read_text(), self.master_cf.read_text())

    # -- paths ---------------------------------------------------------------------------------
    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    @property
    def main_cf(self) -> Path:
        return self.config_dir / "main.cf"

    @property
    def master_cf(self) -> Path:
        return self.config_dir / "master.cf"

    @property
    def queue_dir(self) -> Path:
        return self.root / "spool"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "postfix.log"

    @property
    def mailbox_address(self) -> str:
        """A mailbox this Postfix delivers itself (virtual(8), maildir :attr:`maildir`)."""
        return f"lab@{MAILBOX_DOMAIN}"

    @property
    def maildir(self) -> Path:
        return self.root / "mailboxes" / "lab"

    @property
    def pid(self) -> int | None:
        return read_pidfile(self.queue_dir / "pid" / "master.pid")

    def service(self, logical_port: int) -> str:
        """master.cf service field for a logical port (``127.0.0.1:40465``)."""
        return self.listeners[logical_port].name

    # -- configuration -------------------------------------------------------------------------
    def _write_initial_config(self) -> None:
        for sub in ("etc", "spool", "data", "log", "mailboxes"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
            (self.root / sub).chmod(0o755)
        postfix_user = pwd.getpwnam("postfix")
        os.chown(self.root / "data", postfix_user.pw_uid, postfix_user.pw_gid)
        if os.geteuid() == 0:
            os.chown(self.root / "mailboxes", MAILBOX_UID, MAILBOX_UID)
        main = {
            "compatibility_level": "3.6",
            "myhostname": self.hostname,
            "mydomain": self.hostname.split(".", 1)[-1],
            "mydestination": "",
            "relayhost": "",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.root / "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "alias_maps": "",
            "alias_database": "",
            "maillog_file": str(self.log_file),
            "maillog_file_prefixes": str(self.root / "log"),
            "smtpd_banner": "$myhostname ESMTP $mail_name",
            "smtpd_tls_cert_file": str(self.cert.cert),
            "smtpd_tls_key_file": str(self.cert.key),
            "smtpd_tls_security_level": "may",
            # the "still serves" check's mailbox (tests/lab/serves.py): lab@MAILBOX_DOMAIN
            "virtual_mailbox_domains": MAILBOX_DOMAIN,
            "virtual_mailbox_base": str(self.root / "mailboxes"),
            "virtual_mailbox_maps": f"inline:{{ {self.mailbox_address}=lab/ }}",
            "virtual_uid_maps": f"static:{MAILBOX_UID}",
            "virtual_gid_maps": f"static:{MAILBOX_UID}",
        }
        main.update(self._extra_main)
        self.main_cf.write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        lines = ["# lab master.cf (chroot n everywhere); listeners as in Ubuntu's template\n"]
        for logical, lst in sorted(self.listeners.items()):
            label, opts, _mode, _st, _nm = _POSTFIX_LISTENERS[logical]
            lines.append(f"{lst.name:<20} inet  n       -       n       -       -       smtpd\n")
            lines.append(f"  -o syslog_name=postfix/{label}\n")
            lines.extend(f"  -o {opt}\n" for opt in opts)
        lines.append(_POSTFIX_INTERNAL)
        self.master_cf.write_text("".join(lines))

    def postconf(self, *args: str, check: bool = True) -> str:
        """Run ``postconf -c DIR ARGS`` and return stdout."""
        return run([binary("postconf"), "-c", str(self.config_dir), *args], check=check).stdout

    def set_main(self, settings: Mapping[str, str]) -> None:
        """``postconf -c DIR -e 'name = value' ...`` (takes effect at the next restart)."""
        if settings:
            self.postconf("-e", *(f"{k} = {v}" for k, v in settings.items()))

    def unset_main(self, names: Iterable[str]) -> None:
        names = list(names)
        if names:
            self.postconf("-X", *names)

    def set_master(self, service: str | int, settings: Mapping[str, str]) -> None:
        """``postconf -c DIR -P 'SERVICE/inet/name=value'`` (``-o`` overrides of one service).

        ``service`` is a master.cf service field or a logical port (465).
        """
        name = self.service(service) if isinstance(service, int) else service
        if settings:
            self.postconf("-P", *(f"{name}/inet/{k}={v}" for k, v in settings.items()))

    def apply(
        self,
        target: Target,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        _check_target(self.kind, target, ("postfix-main", "postfix-master"))
        if target == "postfix-main":
            self.set_main(settings)
        else:
            if service is None:
                raise LabError("postfix-master settings need a service (name or logical port)")
            self.set_master(service, settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        main, master = self._baseline
        changed = self.main_cf.read_text() != main or self.master_cf.read_text() != master
        if changed:
            was_running = self.is_running()
            if was_running:
                self.stop()
            self.main_cf.write_text(main)
            self.master_cf.write_text(master)
        return self.start()

    # -- life cycle ----------------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def _start(self) -> None:
        before = len(self.log_text())
        console = self.root / "log" / "console.log"
        status = run_daemon([binary("postfix"), "-c", str(self.config_dir), "start"], console)
        if status != 0:
            # postfix-script prints errors only to a terminal or to the log.
            raise LabError(
                f"postfix -c {self.config_dir} start: exit {status}\n"
                f"{console.read_text(errors='replace')[-2000:]}\n--- maillog ---\n"
                f"{self.log_text()[before:]}"
            )

    def _stop(self) -> None:
        run([binary("postfix"), "-c", str(self.config_dir), "stop"], check=False)


# ------------------------------------------------------------------------------------------------
# Dovecot
# ------------------------------------------------------------------------------------------------

#: logical port -> (service, inet_listener name, ssl, tls mode, starttls, nmap service)
_DOVECOT_LISTENERS: dict[int, tuple[str, str, bool, TLSMode, StartTLS | None, str]] = {
    143: ("imap-login", "imap", False, "starttls", "imap", "imap"),
    993: ("imap-login", "imaps", True, "implicit", None, "imaps"),
    110: ("pop3-login", "pop3", False, "starttls", "pop3", "pop3"),
    995: ("pop3-login", "pop3s", True, "implicit", None, "pop3s"),
}
DEBIAN_DOVECOT_DH = Path("/usr/share/dovecot/dh.pem")


class DovecotServer(LabServer):
    """A Dovecot 2.3 instance run with ``dovecot -c FILE`` (imap, imaps, pop3, pop3s).

    Settings are top-level ``dovecot.conf`` assignments (``ssl_cipher_list``, ``ssl_dh`` with
    its ``<`` prefix, ``ssl_min_protocol`` ...); :meth:`set` overrides the baseline, which
    follows Debian's ``10-ssl.conf`` (4096-bit ``/usr/share/dovecot/dh.pem``).
    """

    kind = "dovecot"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        given = dict(ports or {})
        unknown = set(given) - set(_DOVECOT_LISTENERS)
        if unknown:
            raise LabError(f"dovecot lab knows ports 143, 993, 110, 995, not {sorted(unknown)}")
        wanted = sorted(_DOVECOT_LISTENERS) if ports is None else sorted(given)
        free = iter(free_ports(len(wanted)))
        listeners = []
        for logical in wanted:
            actual = given.get(logical) or next(free)
            _svc, name, _ssl, mode, starttls, nmap_service = _DOVECOT_LISTENERS[logical]
            listeners.append(Listener(logical, actual, name, name, mode, starttls, nmap_service))
        super().__init__(root, cert, listeners)
        self.baseline: dict[str, str] = {
            "ssl": "yes",
            "ssl_cert": f"<{cert.cert}",
            "ssl_key": f"<{cert.key}",
        }
        if DEBIAN_DOVECOT_DH.is_file():
            self.baseline["ssl_dh"] = f"<{DEBIAN_DOVECOT_DH}"
        self.baseline.update(settings or {})
        self.settings: dict[str, str] = dict(self.baseline)
        for sub in ("run", "state", "log", "mail", "mail/lab"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
            (self.root / sub).chmod(0o755)
        if os.geteuid() == 0:  # the lab user's mailbox (uid 65534), for logins that open it
            os.chown(self.root / "mail" / "lab", MAILBOX_UID, MAILBOX_UID)
        # user:password:uid:gid:gecos:home (tests/lab/serves.py logs in with it)
        (self.root / "passwd").write_text(f"lab:{{PLAIN}}lab:65534:65534::{self.root}/mail/lab\n")
        self._write_config()

    @property
    def config_dir(self) -> Path:
        return self.root

    @property
    def config_file(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "dovecot.log"

    @property
    def pid(self) -> int | None:
        return read_pidfile(self.root / "run" / "master.pid")

    def _write_config(self) -> None:
        root = self.root
        lines = [
            "# lab dovecot.conf: loopback only, passwd-file auth",
            f"base_dir = {root}/run",
            f"state_dir = {root}/state",
            f"log_path = {self.log_file}",
            f"info_log_path = {self.log_file}",
            "protocols = imap pop3",
            f"listen = {LOOPBACK}",
            "default_login_user = dovenull",
            "default_internal_user = dovecot",
            "first_valid_uid = 1",
            f"mail_location = maildir:{root}/mail/%u",
            "auth_mechanisms = plain",
        ]
        lines += [f"{k} = {v}" for k, v in self.settings.items()]
        lines += [
            "passdb {",
            "  driver = passwd-file",
            f"  args = scheme=PLAIN {root}/passwd",
            "}",
            "userdb {",
            "  driver = passwd-file",
            f"  args = {root}/passwd",
            "}",
        ]
        by_service: dict[str, list[str]] = {"imap-login": [], "pop3-login": []}
        for logical, (svc, name, ssl, *_rest) in _DOVECOT_LISTENERS.items():
            lst = self.listeners.get(logical)
            port = lst.port if lst else 0  # port 0 disables Dovecot's default listener
            body = f"    address = {LOOPBACK}\n    port = {port}\n"
            if ssl:
                body += "    ssl = yes\n"
            by_service[svc].append(f"  inet_listener {name} {{\n{body}  }}")
        for svc, blocks in by_service.items():
            lines.append(f"service {svc} {{")
            lines.extend(blocks)
            lines.append("}")
        self.config_file.write_text("\n".join(lines) + "\n")

    def set(self, settings: Mapping[str, str]) -> None:
        """Override top-level settings (takes effect at the next restart)."""
        self.settings.update(settings)
        self._write_config()

    def unset(self, names: Iterable[str]) -> None:
        """Drop settings back to Dovecot's built-in default (or the baseline's value)."""
        for name in names:
            self.settings.pop(name, None)
            if name in self.baseline:
                self.settings[name] = self.baseline[name]
        self._write_config()

    def doveconf(self, *args: str) -> str:
        return run([binary("doveconf"), "-c", str(self.config_file), *args]).stdout

    def apply(
        self,
        target: Target,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        _check_target(self.kind, target, ("dovecot",))
        self.set(settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        if self.settings != self.baseline:
            if self.is_running():
                self.stop()
            self.settings = dict(self.baseline)
            self._write_config()
        return self.start()

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def _start(self) -> None:
        run([binary("doveconf"), "-c", str(self.config_file), "-n"])  # fails loudly on errors
        console = self.root / "log" / "console.log"
        status = run_daemon([binary("dovecot"), "-c", str(self.config_file)], console)
        if status != 0:
            raise LabError(
                f"dovecot -c {self.config_file}: exit {status}\n"
                f"{console.read_text(errors='replace')[-2000:]}\n--- log ---\n"
                f"{self.log_text()[-4000:]}"
            )

    def _stop(self) -> None:
        run([binary("dovecot"), "-c", str(self.config_file), "stop"], check=False)


# ------------------------------------------------------------------------------------------------
# nginx
# ------------------------------------------------------------------------------------------------


class NginxServer(LabServer):
    """nginx run with ``nginx -p DIR -c DIR/nginx.conf``: one TLS server on loopback.

    Directives are ``name -> value`` without the trailing ``;`` (``ssl_ciphers`` ->
    ``"DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=1"``). ``set_server`` changes the ``server`` block,
    ``set_http`` the ``http`` block. A ``None`` value removes a directive.
    """

    kind = "nginx"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        port: int | None = None,
        server: Mapping[str, str] | None = None,
    ) -> None:
        actual = port or free_ports(1)[0]
        super().__init__(
            root, cert, [Listener(443, actual, "server", "https", "implicit", None, "https")]
        )
        self.baseline_server: dict[str, str] = {
            "ssl_certificate": str(cert.cert),
            "ssl_certificate_key": str(cert.key),
        }
        self.baseline_server.update(server or {})
        self.server_directives: dict[str, str] = dict(self.baseline_server)
        self.http_directives: dict[str, str] = {}
        for sub in ("logs", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._write_config()

    @property
    def config_dir(self) -> Path:
        return self.root

    @property
    def config_file(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def pidfile(self) -> Path:
        return self.root / "nginx.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "error.log"

    @property
    def pid(self) -> int | None:
        return read_pidfile(self.pidfile)

    def _write_config(self) -> None:
        root = self.root
        user = "user www-data;\n" if os.geteuid() == 0 else ""
        http = "".join(f"    {k} {v};\n" for k, v in self.http_directives.items())
        server = "".join(f"        {k} {v};\n" for k, v in self.server_directives.items())
        temp = "".join(
            f"    {name}_temp_path {root}/tmp/{name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.config_file.write_text(
            f"# lab nginx.conf: one TLS server on loopback\n"
            f"{user}worker_processes 1;\n"
            f"pid {self.pidfile};\n"
            f"error_log {self.log_file} notice;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n"
            f"    access_log {root}/logs/access.log;\n"
            f"{temp}"
            f"    default_type text/plain;\n"
            f"{http}"
            f"    server {{\n"
            f"        listen {LOOPBACK}:{self.port(443)} ssl;\n"
            f"        server_name {self.cert.hostname};\n"
            f"{server}"
            f'        location / {{ return 200 "lab\\n"; }}\n'
            f"    }}\n"
            f"}}\n"
        )

    @staticmethod
    def _merge(target: dict[str, str], directives: Mapping[str, str | None]) -> None:
        for name, value in directives.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value

    def set_server(self, directives: Mapping[str, str | None]) -> None:
        """Set (or with ``None`` remove) directives of the server block; restart to apply."""
        self._merge(self.server_directives, directives)
        self._write_config()

    def set_http(self, directives: Mapping[str, str | None]) -> None:
        self._merge(self.http_directives, directives)
        self._write_config()

    def nginx(self, *args: str, check: bool = True) -> str:
        """Run ``nginx -p DIR -c DIR/nginx.conf -e LOG ARGS``; stdout + stderr."""
        proc = run(
            [
                binary("nginx"),
                "-p",
                f"{self.root}/",
                "-c",
                str(self.config_file),
                "-e",
                str(self.log_file),
                *args,
            ],
            check=check,
        )
        return proc.stdout + proc.stderr

    def apply(
        self,
        target: Target,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        _check_target(self.kind, target, ("nginx-http", "nginx-server"))
        if target == "nginx-http":
            self.set_http(settings)
        else:
            self.set_server(settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        if self.server_directives != self.baseline_server or self.http_directives:
            if self.is_running():
                self.stop()
            self.server_directives = dict(self.baseline_server)
            self.http_directives = {}
            self._write_config()
        return self.start()

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def _start(self) -> None:
        self.nginx("-t", "-q")  # raises LabError with nginx's message
        console = self.root / "logs" / "console.log"
        status = run_daemon(
            [
                binary("nginx"),
                "-p",
                f"{self.root}/",
                "-c",
                str(self.config_file),
                "-e",
                str(self.log_file),
            ],
            console,
        )
        if status != 0:
            raise LabError(f"nginx start: exit {status}\n{self.log_text()[-4000:]}")

    def _stop(self) -> None:
        pid = self.pid
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)

    def _stop_again(self, pid: int, attempt: int) -> None:
        # QUIT again once; then TERM (fast shutdown: does not wait for open connections)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT if attempt == 1 else signal.SIGTERM)


def copy_fixture(src: Path, directory: Path) -> Path:
    """Copy a fixture file (DH parameters ...) into a server's directory, mode 0644."""
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / src.name
    shutil.copyfile(src, dest)
    dest.chmod(0o644)
    return dest
