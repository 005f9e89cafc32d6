"""A throwaway Exim 4 (Debian's exim4-daemon-heavy, GnuTLS) on loopback, for the mail proofs.

Debian's exim4 packages conflict with postfix (both are the system MTA), so the lab does not
install them: .ci/system-packages.sh unpacks them into ``/opt/exim4`` (``ADVISOR_EXIM_ROOT``
to use another directory) and creates the ``Debian-exim`` user compiled into the binary.

The daemon runs in the foreground (``exim -bdf``) as a child of the test process, from its own
configuration (``-C DIR/exim.conf``), with spool, logs and mailboxes under its directory and
listeners on ``127.0.0.1`` only: 25 (STARTTLS), 465 (``tls_on_connect_ports``), 587
(STARTTLS). The baseline follows Exim's default configuration: ``relay_from_hosts =
localhost``, the default RCPT ACL, no VRFY/EXPN ACL, a PLAIN/LOGIN authenticator for the lab
user (``lab`` / ``lab``) advertised only after TLS, and a maildir mailbox
``lab@mailbox.example.test`` (:attr:`EximServer.maildir`).

Settings (target ``exim`` in the knowledge format) are main-section lines: the key is what
stands left of ``=`` (an option such as ``tls_require_ciphers``, or ``hostlist NAME``), the
value replaces that line; an empty value deletes the line (Exim's built-in default again).
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from .common import LOOPBACK, LabError, run
from .servers import MAILBOX_DOMAIN, Listener, mail_ports
from .servers_services import ForegroundServer
from .tls import Certificate

EXIM_ROOT = Path(os.environ.get("ADVISOR_EXIM_ROOT", "/opt/exim4"))
EXIM_USER = "Debian-exim"

#: logical port -> (label, tls mode, s_client -starttls, nmap service)
_EXIM_LISTENERS = {
    25: ("smtp", "opportunistic", "smtp", "smtp"),
    465: ("submissions", "implicit", None, "smtps"),
    587: ("submission", "starttls", "smtp", "smtp"),
}

#: Advertise the authenticators only on TLS connections (Debian's example authenticators).
_TLS_ONLY = "${if eq{$tls_in_cipher}{}{no}{yes}}"
_LAB_LOGIN = "${if and {{eq{$auth2}{lab}}{eq{$auth3}{lab}}}}"
_LAB_LOGIN_LOGIN = "${if and {{eq{$auth1}{lab}}{eq{$auth2}{lab}}}}"


def exim_binary() -> Path | None:
    """The unpacked ``exim4`` binary, or None when .ci/system-packages.sh has not run."""
    path = EXIM_ROOT / "usr" / "sbin" / "exim4"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def exim_missing() -> str | None:
    """Why the Exim lab cannot run here, or None."""
    if exim_binary() is None:
        return f"exim not unpacked in {EXIM_ROOT} (run .ci/system-packages.sh)"
    try:
        pwd.getpwnam(EXIM_USER)
    except KeyError:
        return f"no {EXIM_USER} user (run .ci/system-packages.sh)"
    if os.geteuid() != 0:
        return "the Exim lab runs as root (exim -C keeps its privileges only for root)"
    return None


def exim_version() -> str:
    exim = exim_binary()
    if exim is None:
        raise LabError(exim_missing() or "no exim")
    out = run([str(exim), "-C", "/dev/null", "-bV"], check=False).stdout
    for line in out.splitlines():
        if line.startswith("Exim version"):
            return line.split()[2]
    raise LabError(f"cannot read exim's version from:\n{out}")


class EximServer(ForegroundServer):
    """Exim 4 from /opt/exim4 in the foreground: ``exim4 -bdf -C DIR/exim.conf``."""

    kind = "exim"
    target = "exim"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
        hostname: str = "lab.example.test",
    ) -> None:
        listeners = []
        for logical, actual in mail_ports("exim", ports):
            label, mode, starttls, nmap_service = _EXIM_LISTENERS[logical]
            listeners.append(
                Listener(logical, actual, label, label, mode, starttls, nmap_service)  # type: ignore[arg-type]
            )
        exim = exim_binary()
        if exim is None:
            raise LabError(exim_missing() or "no exim")
        self.exim = exim
        self.hostname = hostname
        implicit = [str(lst.port) for lst in listeners if lst.tls_mode == "implicit"]
        baseline = {
            "primary_hostname": hostname,
            "exim_path": str(exim),
            "exim_user": EXIM_USER,
            "exim_group": EXIM_USER,
            "keep_environment": "",
            "spool_directory": str(root / "spool"),
            "log_file_path": str(root / "log" / "%slog"),
            "pid_file_path": str(root / "exim.pid"),
            "local_interfaces": f"<; {LOOPBACK}",
            "daemon_smtp_ports": " : ".join(str(lst.port) for lst in listeners),
            "host_lookup": "",
            # nmap's TLS scripts open many connections at once, and a child that has closed
            # still counts until the daemon reaps it: with the default (20) or even 200,
            # ssl-enum-ciphers' STARTTLS probes met "421 too many connections" and whole
            # protocol versions went missing from the scan. 0 = no limit.
            "smtp_accept_max": "0",
            "smtp_connect_backlog": "256",
            "rfc1413_hosts": "",
            "domainlist local_domains": MAILBOX_DOMAIN,
            "domainlist relay_to_domains": "",
            "hostlist relay_from_hosts": "localhost",
            "acl_smtp_rcpt": "acl_check_rcpt",
            "acl_smtp_data": "acl_check_data",
            "tls_advertise_hosts": "*",
            # copies readable by Debian-exim, which the daemon becomes for a connection
            "tls_certificate": str(root / "tls" / "cert.pem"),
            "tls_privatekey": str(root / "tls" / "key.pem"),
            "never_users": "root",
            "qualify_domain": hostname,
        }
        if implicit:
            baseline["tls_on_connect_ports"] = " : ".join(implicit)
        super().__init__(root, cert, listeners, baseline, settings)
        self.auth_tls_only = True
        """The authenticators carry ``server_advertise_condition`` (AUTH only after TLS), as
        Debian's examples do; a test sets it False for the "AUTH before TLS" state (not a
        main-section setting), :meth:`reset` puts it back."""

    # -- paths ---------------------------------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.root / "exim.conf"

    @property
    def mailbox_address(self) -> str:
        return f"lab@{MAILBOX_DOMAIN}"

    @property
    def maildir(self) -> Path:
        return self.root / "mailboxes" / "lab"

    def log_text(self) -> str:
        parts = []
        for name in ("mainlog", "paniclog", "rejectlog", "exim.log"):
            path = self.root / "log" / name
            if path.is_file():
                parts.append(f"--- {name} ---\n{path.read_text(errors='replace')}")
        return "\n".join(parts) or "(no log)"

    # -- configuration -------------------------------------------------------------------------
    def prepare(self) -> None:
        user = pwd.getpwnam(EXIM_USER)
        for sub in ("spool", "log", "mailboxes", "tls"):
            path = self.root / sub
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o750 if sub != "mailboxes" else 0o755)
            os.chown(path, user.pw_uid, user.pw_gid)
        for src, name in ((self.cert.cert, "cert.pem"), (self.cert.key, "key.pem")):
            dest = self.root / "tls" / name
            shutil.copyfile(src, dest)
            dest.chmod(0o640)
            os.chown(dest, 0, user.pw_gid)

    def write_config(self) -> None:
        mailboxes = self.root / "mailboxes"
        advertise = [f"  server_advertise_condition = {_TLS_ONLY}"] if self.auth_tls_only else []
        lines = ["# lab exim.conf (tests/lab/servers_exim.py); main section"]
        lines += [f"{k} = {v}" for k, v in self.settings.items()]
        lines += [
            "",
            "begin acl",
            "",
            "acl_check_rcpt:",
            "  accept  hosts = :",
            "  deny    local_parts = ^[.] : ^.*[@%!/|]",
            "  accept  local_parts = postmaster",
            "          domains = +local_domains",
            "  accept  hosts = +relay_from_hosts",
            "          control = submission",
            "  accept  authenticated = *",
            "          control = submission",
            "  require message = relay not permitted",
            "          domains = +local_domains : +relay_to_domains",
            "  require verify = recipient",
            "  accept",
            "",
            "acl_check_data:",
            "  accept",
            "",
            "begin routers",
            "",
            "lab_mailbox:",
            "  driver = accept",
            "  domains = +local_domains",
            "  local_parts = lab : postmaster",
            "  transport = lab_maildir",
            "",
            # Relayed mail is accepted, then deferred: nothing ever leaves loopback.
            "nowhere:",
            "  driver = redirect",
            "  domains = ! +local_domains",
            "  data = :defer: the lab delivers nothing off the host",
            "",
            "begin transports",
            "",
            "lab_maildir:",
            "  driver = appendfile",
            f"  directory = {mailboxes}/lab",
            "  maildir_format",
            "  create_directory",
            f"  user = {EXIM_USER}",
            "  mode = 0640",
            "",
            "begin retry",
            "*  *  F,1h,15m",
            "",
            "begin authenticators",
            "",
            "lab_plain:",
            "  driver = plaintext",
            "  public_name = PLAIN",
            *advertise,
            "  server_prompts = :",
            f"  server_condition = {_LAB_LOGIN}",
            "  server_set_id = $auth2",
            "",
            "lab_login:",
            "  driver = plaintext",
            "  public_name = LOGIN",
            *advertise,
            "  server_prompts = <| Username: | Password:",
            f"  server_condition = {_LAB_LOGIN_LOGIN}",
            "  server_set_id = $auth1",
        ]
        self.config_file.write_text("\n".join(lines) + "\n")
        self.config_file.chmod(0o644)

    def reset(self) -> Self:
        if not self.auth_tls_only:
            if self.is_running():
                self.stop()
            self.auth_tls_only = True
        return super().reset()

    def command(self) -> list[str]:
        return [str(self.exim), "-bdf", "-C", str(self.config_file)]

    def check_config(self) -> str:
        """``exim -bV -C FILE``: raises with Exim's complaint if the configuration is wrong."""
        return run([str(self.exim), "-bV", "-C", str(self.config_file)]).stdout

    def _start(self) -> None:
        self.prepare()
        self.write_config()
        self.check_config()
        super()._start()
