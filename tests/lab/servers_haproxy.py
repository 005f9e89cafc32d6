"""A throwaway HAProxy on loopback: a TLS frontend in front of a tiny local HTTP backend.

``haproxy -db -f DIR/haproxy.cfg`` runs in the foreground as a child of the test process (so
its PID is the child's and it is stopped by that PID only). The frontend binds
``127.0.0.1:PORT ssl crt DIR/site.pem`` (the lab certificate and key in one file, as HAProxy
wants them) and forwards to a backend that is Python's ``http.server`` serving ``DIR/www`` on
another free loopback port, started with the proxy and stopped by its PID with it.

    with HaproxyServer(lab / "haproxy", cert) as proxy:
        proxy.apply("haproxy-global", {"tune.ssl.default-dh-param": "2048"})
        proxy.port(443)  # the TLS frontend

Settings are haproxy.cfg keywords with their arguments, for the section the target names:
``haproxy-global`` (the ``global`` section), ``haproxy-defaults`` (the ``defaults``
section) or ``haproxy-frontend`` (the TLS ``frontend`` section, after its ``bind`` line): ``{"timeout http-request": "10s"}`` is the line ``timeout http-request 10s``. A value
replaces every line of that keyword; newlines separate repeated lines; an empty value deletes
the keyword.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from .common import LOOPBACK, LabError, binary, free_ports, run, wait_ports_closed, wait_ports_open
from .servers import Listener
from .servers_services import ForegroundServer
from .tls import Certificate

__all__ = ["BACKEND_TEXT", "HAPROXY_TARGETS", "HaproxyServer", "HttpBackend"]

#: The knowledge format's targets this server applies, and the section each one edits.
HAPROXY_TARGETS = {
    "haproxy-global": "global",
    "haproxy-defaults": "defaults",
    "haproxy-frontend": "frontend",
}
#: The backend's page, what a client must get through the proxy.
BACKEND_TEXT = "hello from the advisor lab backend\n"


class HaproxyServer(ForegroundServer):
    """HAProxy 2.6 with a TLS frontend (logical port 443) and an ``http.server`` backend.

    Baseline ``global``: nothing beyond what the lab needs (HAProxy's own defaults, as Debian's
    packaged haproxy.cfg leaves the TLS keywords to the administrator). Baseline ``defaults``:
    ``mode http`` and the connect/client/server timeouts of Debian's haproxy.cfg.
    """

    kind = "haproxy"
    target = "haproxy-global"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        global_settings: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> None:
        front, back = free_ports(2)
        given = dict(ports or {})
        listeners = [
            Listener(443, given.get(443, front), "tls", "https", "implicit", None, "https")
        ]
        super().__init__(root, cert, listeners, dict(global_settings or {}))
        self.defaults_baseline = {
            "mode": "http",
            "timeout connect": "5s",
            "timeout client": "50s",
            "timeout server": "50s",
        }
        self.defaults_baseline.update(defaults or {})
        self.defaults: dict[str, str] = dict(self.defaults_baseline)
        self.frontend: dict[str, str] = {}
        self.backend = HttpBackend(self.root / "www", back, self.root / "log" / "backend.log")

    @property
    def config_file(self) -> Path:
        return self.root / "haproxy.cfg"

    @property
    def pem(self) -> Path:
        return self.root / "site.pem"

    # -- configuration -------------------------------------------------------------------------
    def prepare(self) -> None:
        self.pem.write_text(self.cert.cert.read_text() + self.cert.key.read_text())
        self.pem.chmod(0o600)
        self.backend.start()

    @staticmethod
    def _lines(settings: Mapping[str, str]) -> list[str]:
        out = []
        for keyword, value in settings.items():
            out += [f"    {keyword} {v}".rstrip() for v in value.split("\n")]
        return out

    def write_config(self) -> None:
        lines = ["# lab haproxy.cfg (tests/lab/servers_haproxy.py)", "global"]
        lines += self._lines(self.settings)
        lines += ["", "defaults", *self._lines(self.defaults)]
        lines += [
            "",
            "frontend lab_tls",
            f"    bind {LOOPBACK}:{self.port(443)} ssl crt {self.pem}",
            *self._lines(self.frontend),
            "    default_backend lab_web",
            "",
            "backend lab_web",
            f"    server web1 {LOOPBACK}:{self.backend.port}",
        ]
        self.config_file.write_text("\n".join(lines) + "\n")
        run([binary("haproxy"), "-c", "-q", "-f", str(self.config_file)])

    def command(self) -> list[str]:
        return [binary("haproxy"), "-db", "-f", str(self.config_file)]

    def set_section(self, section: str, settings: Mapping[str, str]) -> None:
        values = {"global": self.settings, "defaults": self.defaults}.get(section, self.frontend)
        for name, value in settings.items():
            if value == "":
                values.pop(name, None)
            else:
                values[name] = value

    def apply(
        self,
        target: str,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        section = HAPROXY_TARGETS.get(target)
        if section is None:
            raise LabError(f"haproxy cannot apply target {target!r} (accepts {HAPROXY_TARGETS})")
        self.set_section(section, settings)
        if restart:
            self.restart()

    def reset(self) -> Self:
        changed = self.settings != self.baseline or self.defaults != self.defaults_baseline
        if changed or self.frontend:
            if self.is_running():
                self.stop()
            self.settings = dict(self.baseline)
            self.defaults = dict(self.defaults_baseline)
            self.frontend = {}
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self.backend.stop()


#: http.server with a chosen Server header: argv www, port, header.
_SERVER_HEADER_BACKEND = f"""
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def version_string(self):
        return sys.argv[3]
handler = functools.partial(Handler, directory=sys.argv[1])
http.server.ThreadingHTTPServer(({LOOPBACK!r}, int(sys.argv[2])), handler).serve_forever()
"""


class HttpBackend:
    """Python's ``http.server`` on ``127.0.0.1:port`` serving ``www`` (an ``index.html`` with
    :data:`BACKEND_TEXT`), our child process, stopped by its PID."""

    def __init__(self, www: Path, port: int, log: Path, server: str | None = None) -> None:
        self.www = www
        self.port = port
        self.log = log
        self.server = server
        """The ``Server`` header to send (None: http.server's own)."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.www.mkdir(parents=True, exist_ok=True)
        (self.www / "index.html").write_text(BACKEND_TEXT)
        wait_ports_closed([self.port])
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log.open("ab")
        if self.server is None:
            cmd = [sys.executable, "-m", "http.server", "--bind", LOOPBACK,
                   "--directory", str(self.www), str(self.port)]  # fmt: skip
        else:
            cmd = [sys.executable, "-c", _SERVER_HEADER_BACKEND, str(self.www), str(self.port),
                   self.server]  # fmt: skip
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_ports_open([self.port])

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        with contextlib.suppress(LabError):
            wait_ports_closed([self.port], timeout=10)
