"""An nginx web site for the HTTP proofs: static files on TLS (logical 443) and plain HTTP
(logical 80), and a proxied application stand-in that sets a session cookie.

:class:`~tests.lab.servers.NginxServer` answers every request with ``return 200``, which makes
every method look supported to ``http-methods``; a web-site check needs real static files:

    site = WebNginxServer(lab / "web", cert)
    site.set_server({"dav_methods": "PUT DELETE"})
    site.restart()
    site.fetch(443, "/")  # (200, headers, body)

``set_server`` / ``set_http`` / ``apply`` work as in ``NginxServer`` (the site's ``server`` block
and the ``http`` block). ``/app/`` is proxied to a second ``server`` block on a free port that
plays the application: it sets ``PHPSESSID`` without any flag, as PHP does by default.
When Debian's ``libnginx-mod-http-dav-ext`` is installed its module is loaded, so
``dav_ext_methods`` (PROPFIND, OPTIONS) can be used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .common import LOOPBACK, free_ports
from .servers import Listener, NginxServer
from .serves import http_fetch
from .tls import Certificate

#: Debian's libnginx-mod-http-dav-ext installs the module here.
DAV_EXT_MODULE = Path("/usr/lib/nginx/modules/ngx_http_dav_ext_module.so")

INDEX_HTML = (
    "<!DOCTYPE html>\n<html><head><title>Lab site</title></head>\n"
    '<body><p>lab site</p><a href="/app/">app</a></body></html>\n'
)

#: The cookie the application stand-in sets (flag-less, like PHP's session defaults).
APP_COOKIE = "PHPSESSID=4f1c2d9a7e; Path=/"


def dav_ext_available() -> bool:
    return DAV_EXT_MODULE.is_file()


class WebNginxServer(NginxServer):
    """nginx with a static document root on 443 (TLS) and 80 (plain), and ``/app/`` proxied."""

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        port: int | None = None,
        server: Mapping[str, str] | None = None,
    ) -> None:
        http_port, self.backend_port = free_ports(2)
        self.docroot = root / "www"
        super().__init__(root, cert, port, server)
        # Plain HTTP: no TLS mode (Listener's TLSMode has no "none"; only the 443 listener is TLS).
        self.listeners[80] = Listener(80, http_port, "plain", "http", None, None, "http")  # type: ignore[arg-type]
        self.docroot.mkdir(parents=True, exist_ok=True)
        (self.docroot / "index.html").write_text(INDEX_HTML)
        self.docroot.chmod(0o755)
        if os.geteuid() == 0:
            # WebDAV methods write as the worker user.
            os.chown(self.docroot, 33, 33)  # www-data on Debian
            os.chown(self.docroot / "index.html", 33, 33)
        self._write_config()

    def _write_config(self) -> None:
        if 80 not in self.listeners:  # called once by NginxServer.__init__, before 80 exists
            return
        root = self.root
        user = "user www-data;\n" if os.geteuid() == 0 else ""
        module = f"load_module {DAV_EXT_MODULE};\n" if dav_ext_available() else ""
        http = "".join(f"    {k} {v};\n" for k, v in self.http_directives.items())
        server = "".join(f"        {k} {v};\n" for k, v in self.server_directives.items())
        temp = "".join(
            f"    {name}_temp_path {root}/tmp/{name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.config_file.write_text(
            f"# lab nginx.conf: a static site on TLS and plain HTTP, /app/ proxied\n"
            f"{module}{user}worker_processes 1;\n"
            f"pid {self.pidfile};\n"
            f"error_log {self.log_file} notice;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n"
            f"    access_log {root}/logs/access.log;\n"
            f"{temp}"
            f"    types {{ text/html html; text/plain txt; }}\n"
            f"    default_type text/plain;\n"
            f"{http}"
            f"    server {{\n"
            f"        # the application stand-in\n"
            f"        listen {LOOPBACK}:{self.backend_port};\n"
            f"        location / {{\n"
            f'            add_header Set-Cookie "{APP_COOKIE}";\n'
            f'            return 200 "app\\n";\n'
            f"        }}\n"
            f"    }}\n"
            f"    server {{\n"
            f"        listen {LOOPBACK}:{self.port(443)} ssl;\n"
            f"        listen {LOOPBACK}:{self.port(80)};\n"
            f"        server_name {self.cert.hostname};\n"
            f"        root {self.docroot};\n"
            f"{server}"
            f"        location /app/ {{ proxy_pass http://{LOOPBACK}:{self.backend_port}/; }}\n"
            f"{self.extra_locations()}"
            f"    }}\n"
            f"}}\n"
        )

    def extra_locations(self) -> str:
        """More ``location`` blocks for the site's ``server`` (subclasses: PHP ...)."""
        return ""

    def fetch(
        self, logical: int, path: str = "/", method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        """One request to the site (TLS on 443 without certificate checks, plain on 80):
        status, headers (lower-case names; repeated ones joined with ``\\n``), body."""
        return http_fetch(
            self.port(logical),
            tls=logical == 443,
            path=path,
            method=method,
            host_header=self.cert.hostname,
        )
