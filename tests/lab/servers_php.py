"""PHP behind nginx for the PHP proofs: Debian's php-fpm (8.2) with its own php.ini and pool,
and the lab web site (:class:`~tests.lab.servers_http.WebNginxServer`) passing ``*.php`` to it.

    site = PhpNginxServer(lab / "php", cert)
    site.start()                      # php-fpm -F, then nginx
    site.fetch(443, "/")              # index.php: session_start(), "lab php"
    site.apply("php-ini", {"expose_php": "Off"})   # rewrites php.ini, restarts both

php-fpm runs in the foreground as our child (``php-fpm8.2 -F -y DIR/php-fpm.conf -c
DIR/php.ini``) and listens on a unix socket inside the lab directory: no TCP port to pick.
Its php.ini holds PHP's built-in defaults for what the entries change (``expose_php = On``,
session cookies without HttpOnly, Secure or SameSite), not Debian's production php.ini, which
already sets ``expose_php = Off``. Target ``php-ini``: ``directive = value`` lines of that
php.ini; an empty value removes the line (PHP's built-in default applies again).
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Self

from .common import LabError, which
from .servers_http import WebNginxServer
from .tls import Certificate

INDEX_PHP = '<?php\nsession_start();\n$_SESSION["seen"] = true;\necho "lab php\\n";\n'

#: The lab php.ini: PHP's built-in defaults for the settings the entries change.
PHP_INI_BASELINE: dict[str, str] = {
    "expose_php": "On",
    "display_errors": "Off",
    "session.use_cookies": "1",
    "session.cookie_httponly": "0",
    "session.cookie_secure": "0",
}


def php_fpm_binary() -> str | None:
    """Debian's versioned php-fpm (``php-fpm8.2``), or an unversioned ``php-fpm``."""
    for name in ("php-fpm",):
        found = which(name)
        if found:
            return found
    candidates = sorted(glob.glob("/usr/sbin/php-fpm[0-9]*"))
    return candidates[-1] if candidates else None


class PhpNginxServer(WebNginxServer):
    """nginx (TLS 443, plain 80) with ``index.php`` served by a private php-fpm pool."""

    kind = "nginx"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        php_ini: Mapping[str, str] | None = None,
    ) -> None:
        self.fpm_socket = root / "php-fpm.sock"
        super().__init__(root, cert)
        self.php_baseline: dict[str, str] = dict(PHP_INI_BASELINE)
        self.php_baseline["session.save_path"] = str(root / "sessions")
        self.php_baseline.update(php_ini or {})
        self.php_settings: dict[str, str] = dict(self.php_baseline)
        self._fpm: subprocess.Popen[bytes] | None = None
        self._fpm_log: IO[bytes] | None = None
        (self.docroot / "index.html").unlink()
        (self.docroot / "index.php").write_text(INDEX_PHP)
        sessions = root / "sessions"
        sessions.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(sessions, 33, 33)  # www-data writes the session files
        self._write_config()

    # -- nginx side ----------------------------------------------------------------------------
    def extra_locations(self) -> str:
        return (
            "        index index.php index.html;\n"
            "        location ~ \\.php$ {\n"
            "            fastcgi_pass unix:" + str(self.fpm_socket) + ";\n"
            "            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n"
            "            fastcgi_param REQUEST_METHOD $request_method;\n"
            "            fastcgi_param QUERY_STRING $query_string;\n"
            "            fastcgi_param REQUEST_URI $request_uri;\n"
            "            fastcgi_param SCRIPT_NAME $fastcgi_script_name;\n"
            "            fastcgi_param SERVER_NAME $server_name;\n"
            "            fastcgi_param HTTPS $https if_not_empty;\n"
            "            fastcgi_param HTTP_COOKIE $http_cookie;\n"
            "        }\n"
        )

    # -- php-fpm side --------------------------------------------------------------------------
    @property
    def php_ini(self) -> Path:
        return self.root / "php.ini"

    @property
    def fpm_conf(self) -> Path:
        return self.root / "php-fpm.conf"

    def _write_php(self) -> None:
        self.php_ini.write_text(
            "; lab php.ini (tests/lab/servers_php.py)\n"
            + "".join(f"{k} = {v}\n" for k, v in self.php_settings.items())
        )
        user = "user = www-data\ngroup = www-data\n" if os.geteuid() == 0 else ""
        owner = "listen.owner = www-data\nlisten.group = www-data\n" if os.geteuid() == 0 else ""
        self.fpm_conf.write_text(
            "; lab php-fpm.conf\n"
            "[global]\n"
            f"pid = {self.root / 'php-fpm.pid'}\n"
            f"error_log = {self.root / 'logs' / 'php-fpm.log'}\n"
            "daemonize = no\n"
            "[lab]\n"
            f"{user}"
            f"listen = {self.fpm_socket}\n"
            f"{owner}"
            "listen.mode = 0660\n"
            "pm = static\n"
            "pm.max_children = 2\n"
            "clear_env = yes\n"
        )

    def _start_fpm(self) -> None:
        fpm = php_fpm_binary()
        if fpm is None:
            raise LabError("php-fpm is not installed")
        self._write_php()
        with contextlib.suppress(FileNotFoundError):
            self.fpm_socket.unlink()
        self._fpm_log = (self.root / "logs" / "php-fpm.console").open("ab")
        self._fpm = subprocess.Popen(
            [fpm, "-F", "-y", str(self.fpm_conf), "-c", str(self.php_ini)],
            stdin=subprocess.DEVNULL,
            stdout=self._fpm_log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )
        deadline = time.monotonic() + 20
        while not self.fpm_socket.exists():
            if self._fpm.poll() is not None or time.monotonic() > deadline:
                raise LabError(f"php-fpm did not start:\n{self.fpm_log_text()[-3000:]}")
            time.sleep(0.02)

    def _stop_fpm(self) -> None:
        proc, self._fpm = self._fpm, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: finish the running requests
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._fpm_log is not None:
            self._fpm_log.close()
            self._fpm_log = None

    def fpm_log_text(self) -> str:
        text = ""
        for name in ("php-fpm.console", "php-fpm.log"):
            with contextlib.suppress(OSError):
                text += (self.root / "logs" / name).read_text(errors="replace")
        return text

    def start(self) -> Self:
        if self._fpm is None or self._fpm.poll() is not None:
            self._start_fpm()
        return super().start()

    def stop(self, timeout: float = 30.0) -> None:
        try:
            super().stop(timeout)
        finally:
            self._stop_fpm()

    def apply(
        self,
        target: str,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        if target != "php-ini":
            super().apply(target, settings, service, restart)  # type: ignore[arg-type]
            return
        for name, value in settings.items():
            if value == "":
                self.php_settings.pop(name, None)
            else:
                self.php_settings[name] = value
        if restart:
            self.restart()

    def reset(self) -> Self:
        if self.php_settings != self.php_baseline:
            self.stop()
            self.php_settings = dict(self.php_baseline)
        return super().reset()
