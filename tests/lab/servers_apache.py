"""A throwaway Apache httpd 2.4 web site for the Apache proofs: Debian's ``/usr/sbin/apache2``
run from its own directory with its own configuration file, on 127.0.0.1 free ports.

    site = ApacheServer(lab / "apache", cert)
    with site:
        site.add_lines("server", ["TraceEnable On"])   # the vulnerable state
        site.restart()
        site.apply("apache", {"TraceEnable": "Off"})   # an entry fix's settings
        site.fetch(443, "/")                           # (200, headers, body)

Listeners: logical 443 (TLS, the lab certificate) and 80 (plain), both name-less
``<VirtualHost 127.0.0.1:PORT>`` blocks serving the same static document root: ``index.html``,
``files/`` (no index: a listing with Debian's ``Options Indexes``), ``images/`` (with an index:
``/images`` redirects to ``/images/``). A third virtual host on an internal port plays the
application behind a reverse proxy (``backend_port``): it serves ``backend/index.html``
with ``X-Powered-By: PHP/8.2.26`` and a flag-less ``PHPSESSID`` cookie, as PHP does by default.

The baseline is Debian 12's default configuration, reduced to what a lab needs: the modules of
Debian's default install (mpm_event, authz_*, authn_*, auth_basic, dir, mime, autoindex,
negotiation, alias, reqtimeout) plus headers and ssl, ``<Directory DOCROOT>`` with ``Options
Indexes FollowSymLinks`` (Debian's ``/var/www/``), and conf-available/security.conf's
``ServerTokens OS``, ``ServerSignature On``, ``TraceEnable Off``. Extra modules (userdir, proxy,
proxy_http, dav, dav_fs with ``DAVLockDB``) are loaded too, so a case can use them without
another start-up path. ``htpasswd`` (user ``lab``, password ``lab``) is there for Basic
authentication. The document root also holds a ``.git`` folder (a site deployed with git).

``apply("apache", settings)`` is how the proofs apply an entry fix: each ``Directive = "value"``
becomes the line ``Directive value`` (a value with newlines is one line per value, for repeated
directives such as ``Header``), **appended** where an administrator adds it, after whatever the
case put there before (in Apache the last of a single-value directive wins, ``Options +/-``
merges with the line above, ``Header`` lines run in order):

- server-config-only directives (``ServerTokens``, ...) at the end of the main server config;
- directory directives (``Options``, ``AllowOverride``, ``Dav``) at the end of the document
  root's ``<Directory>``;
- everything else at the end of each ``<VirtualHost>`` (``SSL*`` directives only in the TLS one).

``service`` (a logical port, 443 or 80) limits the virtual-host lines to that one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import signal
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal, Self

from .common import LOOPBACK, LabError, binary, free_ports, read_pidfile, run, run_daemon
from .servers import LabServer, Listener, _check_target
from .serves import http_fetch
from .tls import Certificate

APACHE_MODULES = Path("/usr/lib/apache2/modules")

#: Modules loaded in this order (LoadModule name, file); Debian's default set plus the extras.
MODULES: tuple[tuple[str, str], ...] = (
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authz_host_module", "mod_authz_host.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("authn_file_module", "mod_authn_file.so"),
    ("auth_basic_module", "mod_auth_basic.so"),
    ("alias_module", "mod_alias.so"),
    ("dir_module", "mod_dir.so"),
    ("mime_module", "mod_mime.so"),
    ("autoindex_module", "mod_autoindex.so"),
    ("negotiation_module", "mod_negotiation.so"),
    ("reqtimeout_module", "mod_reqtimeout.so"),
    ("headers_module", "mod_headers.so"),
    ("socache_shmcb_module", "mod_socache_shmcb.so"),
    ("ssl_module", "mod_ssl.so"),
    ("userdir_module", "mod_userdir.so"),
    ("proxy_module", "mod_proxy.so"),
    ("proxy_http_module", "mod_proxy_http.so"),
    ("dav_module", "mod_dav.so"),
    ("dav_fs_module", "mod_dav_fs.so"),
)

#: Directives whose only context is the server config (Apache's module docs, "Context").
SERVER_ONLY = frozenset({"ServerTokens", "Timeout", "KeepAlive", "MaxRequestWorkers"})
#: Directives that live in the document root's ``<Directory>`` (Debian: ``<Directory /var/www/>``).
DIRECTORY = frozenset({"Options", "AllowOverride", "Dav", "DirectoryIndex"})

Context = Literal["server", "directory", "vhost", "vhost443", "vhost80"]

INDEX_HTML = (
    "<!DOCTYPE html>\n<html><head><title>Lab site</title></head>\n"
    '<body><p>lab site</p><a href="/files/">files</a></body></html>\n'
)
BACKEND_HTML = "<!DOCTYPE html>\n<html><body><p>lab backend app</p></body></html>\n"
#: The headers the application stand-in sets (PHP's defaults: version header, flag-less cookie).
BACKEND_POWERED_BY = "PHP/8.2.26"
BACKEND_COOKIE = "PHPSESSID=4f1c2d9a7e; path=/"
GIT_CONFIG = (
    "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
    '[remote "origin"]\n\turl = https://git.example.test/lab/site.git\n'
    "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
)
#: A user directory the lab serves under ``/~webadmin/`` when ``UserDir`` points at ``homes``
#: (``webadmin`` is in nmap's nselib/data/usernames.lst).
USERDIR_USER = "webadmin"


def apache_available() -> bool:
    return (APACHE_MODULES / "mod_ssl.so").is_file()


class ApacheServer(LabServer):
    """Debian's apache2 with ``-d ROOT -f ROOT/apache2.conf``; TLS 443, plain 80, a backend."""

    kind = "apache"

    def __init__(self, root: Path, cert: Certificate) -> None:
        tls_port, http_port, self.backend_port = free_ports(3)
        super().__init__(
            root,
            cert,
            [
                Listener(443, tls_port, "ssl", "https", "implicit", None, "https"),
                # Plain HTTP: Listener's TLSMode has no "none".
                Listener(80, http_port, "plain", "http", None, None, "http"),  # type: ignore[arg-type]
            ],
        )
        self.docroot = root / "www"
        self.backend_root = root / "backend"
        self.homes = root / "homes"
        self.htpasswd = root / "htpasswd"
        self.lines: dict[str, list[str]] = {"server": [], "directory": [], "443": [], "80": []}
        self.certificate_file: Path = cert.cert
        for sub in ("logs", "run"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self._write_site()
        self._write_config()

    # -- files ---------------------------------------------------------------------------------
    def _write_site(self) -> None:
        files: dict[Path, str] = {
            self.docroot / "index.html": INDEX_HTML,
            self.docroot / "files" / "notes.txt": "lab file\n",
            self.docroot / "files" / "report.txt": "lab report\n",
            self.docroot / "images" / "index.html": "<html><body>images</body></html>\n",
            self.backend_root / "index.html": BACKEND_HTML,
            self.homes / USERDIR_USER / "public_html" / "index.html": "<html>~webadmin</html>\n",
            # a site deployed with git, its repository left in the document root
            self.docroot / ".git" / "HEAD": "ref: refs/heads/main\n",
            self.docroot / ".git" / "config": GIT_CONFIG,
            self.docroot / ".git" / "description": "lab site\n",
        }
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o644)
        for directory in {p.parent for p in files} | {self.homes, self.homes / USERDIR_USER}:
            directory.chmod(0o755)
        # Basic authentication: user "lab", password "lab" ({SHA} = base64 of the SHA-1)
        digest = base64.b64encode(hashlib.sha1(b"lab").digest()).decode()
        self.htpasswd.write_text(f"lab:{{SHA}}{digest}\n")
        self.htpasswd.chmod(0o644)

    @property
    def config_dir(self) -> Path:
        return self.root

    @property
    def config_file(self) -> Path:
        return self.root / "apache2.conf"

    @property
    def pidfile(self) -> Path:
        return self.root / "run" / "apache2.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "error.log"

    @property
    def pid(self) -> int | None:
        return read_pidfile(self.pidfile)

    def _write_config(self) -> None:
        root = self.root
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        modules = "".join(f"LoadModule {name} {APACHE_MODULES / so}\n" for name, so in MODULES)

        def block(lines: Iterable[str], indent: str = "    ") -> str:
            return "".join(f"{indent}{line}\n" for line in lines)

        vhost_common = (
            f"    ServerName {self.cert.hostname}\n"
            f"    DocumentRoot {self.docroot}\n"
            f"    ErrorLog {root}/logs/error.log\n"
            f"    CustomLog {root}/logs/access.log common\n"
        )
        self.config_file.write_text(
            "# lab apache2.conf: Debian 12's defaults, reduced; a static site on TLS and plain HTTP\n"
            f"ServerRoot {root}\n"
            f"DefaultRuntimeDir {root}/run\n"
            f"PidFile {self.pidfile}\n"
            f"Mutex file:{root}/run default\n"
            f"ErrorLog {self.log_file}\n"
            "LogLevel warn\n"
            f"{user}"
            f"{modules}"
            "# mpm_event.conf, small\n"
            "StartServers 1\nServerLimit 2\nThreadsPerChild 25\nMaxRequestWorkers 50\n"
            f"ServerName {self.cert.hostname}\n"
            f"Listen {LOOPBACK}:{self.port(443)}\n"
            f"Listen {LOOPBACK}:{self.port(80)}\n"
            f"Listen {LOOPBACK}:{self.backend_port}\n"
            "TypesConfig /etc/mime.types\n"
            'LogFormat "%h %l %u %t \\"%r\\" %>s %O" common\n'
            "DirectoryIndex index.html\n"
            "AccessFileName .htaccess\n"
            "# apache2.conf\n"
            "<Directory />\n    Options FollowSymLinks\n    AllowOverride None\n"
            "    Require all denied\n</Directory>\n"
            f"<Directory {self.docroot}>\n"
            "    Options Indexes FollowSymLinks\n    AllowOverride None\n    Require all granted\n"
            f"{block(self.lines['directory'])}"
            "</Directory>\n"
            f"<Directory {self.backend_root}>\n    Require all granted\n</Directory>\n"
            f"<Directory {self.homes}>\n    Require all granted\n</Directory>\n"
            '<FilesMatch "^\\.ht">\n    Require all denied\n</FilesMatch>\n'
            "# mods-available/autoindex.conf\n"
            "IndexOptions FancyIndexing VersionSort HTMLTable NameWidth=* DescriptionWidth=* "
            "Charset=UTF-8\n"
            "# mods-available/dav_fs.conf\n"
            f"DAVLockDB {root}/run/DAVLock\n"
            "# ssl.conf\n"
            f"SSLSessionCache shmcb:{root}/run/ssl_scache(512000)\n"
            "SSLRandomSeed startup builtin\n"
            "# The lab's forward-proxy guard: whatever a case enables, this server proxies only to\n"
            "# its own backend on 127.0.0.1 (never elsewhere).\n"
            '<Proxy "*">\n    Require all denied\n</Proxy>\n'
            f'<Proxy "http://{LOOPBACK}:{self.backend_port}/*">\n    Require all granted\n</Proxy>\n'
            "# conf-available/security.conf\n"
            "ServerTokens OS\nServerSignature On\nTraceEnable Off\n"
            f"{block(self.lines['server'], '')}"
            f"<VirtualHost {LOOPBACK}:{self.port(443)}>\n"
            f"{vhost_common}"
            "    SSLEngine on\n"
            f"    SSLCertificateFile {self.certificate_file}\n"
            f"    SSLCertificateKeyFile {self.cert.key}\n"
            f"{block(self.lines['443'])}"
            "</VirtualHost>\n"
            f"<VirtualHost {LOOPBACK}:{self.port(80)}>\n"
            f"{vhost_common}"
            f"{block(self.lines['80'])}"
            "</VirtualHost>\n"
            "# the application stand-in behind the reverse proxy\n"
            f"<VirtualHost {LOOPBACK}:{self.backend_port}>\n"
            f"    DocumentRoot {self.backend_root}\n"
            f"    ErrorLog {root}/logs/error.log\n"
            f'    Header set X-Powered-By "{BACKEND_POWERED_BY}"\n'
            f'    Header set Set-Cookie "{BACKEND_COOKIE}"\n'
            "</VirtualHost>\n"
        )

    # -- configuration -------------------------------------------------------------------------
    def add_lines(self, context: Context, lines: Iterable[str]) -> None:
        """Append raw configuration lines to a context (``vhost`` = both virtual hosts);
        restart to apply. ``{backend}`` in a line is the backend's ``127.0.0.1:PORT``,
        ``{root}`` the server's directory."""
        filled = [
            line.replace("{backend}", f"{LOOPBACK}:{self.backend_port}").replace(
                "{root}", str(self.root)
            )
            for line in lines
        ]
        keys = {"vhost": ["443", "80"], "vhost443": ["443"], "vhost80": ["80"]}.get(
            context, [context]
        )
        for key in keys:
            self.lines[key].extend(filled)
        self._write_config()

    @staticmethod
    def directive_lines(settings: Mapping[str, str]) -> list[tuple[str, str]]:
        """``(directive, "Directive value")`` for each setting, one per line of its value."""
        return [
            (name, f"{name} {value}".rstrip())
            for name, values in settings.items()
            for value in values.split("\n")
        ]

    def apply(
        self,
        target: str,
        settings: Mapping[str, str],
        service: str | int | None = None,
        restart: bool = True,
    ) -> None:
        """Append a fix's settings where Apache reads them (see the module docstring)."""
        _check_target(self.kind, target, ("apache",))
        vhosts = [str(service)] if service is not None else ["443", "80"]
        if any(v not in ("443", "80") for v in vhosts):
            raise LabError(f"apache has no virtual host for {service!r}")
        for name, line in self.directive_lines(settings):
            if name in SERVER_ONLY:
                self.lines["server"].append(line)
            elif name in DIRECTORY:
                self.lines["directory"].append(line)
            else:
                for vhost in vhosts:
                    if vhost == "443" or not name.startswith("SSL"):
                        self.lines[vhost].append(line)
        self._write_config()
        if restart:
            self.restart()

    def append_to_certificate(self, pem: Path) -> Path:
        """Use a copy of the lab certificate with ``pem`` appended as the ``SSLCertificateFile``
        (how Apache reads custom DH parameters: "BEGIN DH PARAMETERS" after the certificate);
        restart to apply."""
        combined = self.root / f"cert+{pem.name}"
        combined.write_text(self.cert.cert.read_text() + pem.read_text())
        combined.chmod(0o644)
        self.certificate_file = combined
        self._write_config()
        return combined

    def reset(self) -> Self:
        if any(self.lines.values()) or self.certificate_file != self.cert.cert:
            if self.is_running():
                self.stop()
            self.lines = {key: [] for key in self.lines}
            self.certificate_file = self.cert.cert
            self._write_config()
        return self.start()

    def apache2(self, *args: str, check: bool = True) -> str:
        """Run ``apache2 -d ROOT -f CONF ARGS`` (``-t`` checks the syntax); stdout + stderr."""
        proc = run(
            [binary("apache2"), "-d", str(self.root), "-f", str(self.config_file), *args],
            check=check,
            env={"APACHE_LOG_DIR": str(self.root / "logs"), "LANG": "C"},
        )
        return proc.stdout + proc.stderr

    def log_text(self) -> str:
        """The error log, then what apache2 printed before it opened it (console.log)."""
        parts = []
        for path in (self.log_file, self.root / "logs" / "console.log"):
            with contextlib.suppress(OSError):
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts) or "(no log)"

    def _start(self) -> None:
        self.apache2("-t")  # raises LabError with Apache's message
        # "-k start" exits 0 without starting when the pidfile names a live process.
        self.pidfile.unlink(missing_ok=True)
        status = run_daemon(
            [binary("apache2"), "-d", str(self.root), "-f", str(self.config_file), "-k", "start"],
            self.root / "logs" / "console.log",
        )
        if status != 0:
            raise LabError(f"apache2 start: exit {status}\n{self.log_text()[-4000:]}")

    def _stop(self) -> None:
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def fetch(
        self, logical: int, path: str = "/", method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        """One request to the site (TLS on 443 without certificate checks, plain on 80)."""
        return http_fetch(
            self.port(logical),
            tls=logical == 443,
            path=path,
            method=method,
            host_header=self.cert.hostname,
        )
