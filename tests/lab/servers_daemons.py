"""Throwaway Tomcat and Squid servers on loopback, for the proofs of their entries.

Same life cycle as :mod:`tests.lab.servers_services` (foreground child process, stopped by its
PID; every listener on ``127.0.0.1``; ``apply`` takes the knowledge format's ``target``):

* :class:`TomcatServer`: Debian's tomcat10 (``CATALINA_HOME=/usr/share/tomcat10``) with its own
  ``CATALINA_BASE``, run as ``catalina.sh run`` (which ``exec``s java, so the PID is the JVM's).
  Target ``tomcat-connector``: attributes of the HTTP/1.1 ``<Connector>`` in server.xml.
* :class:`SquidServer`: ``squid -N -f DIR/squid.conf``. Every request is forwarded to a local
  :class:`~tests.lab.servers_haproxy.HttpBackend` (``cache_peer ... originserver`` with
  ``never_direct allow all``), so nothing leaves the machine whatever URL a client asks for.
  Target ``squid``: squid.conf directives; a value replaces every line of the directive,
  newlines separate repeated lines (``http_access``), an empty value deletes it; ``acl`` lines
  are written before the rest, since ``http_access`` refers to them.
* :class:`BindServer`: BIND 9.18 ``named -g`` (foreground, log to stderr) on a UDP/TCP port of
  127.0.0.1, authoritative for a lab root zone with a wildcard, so every name has an answer and
  the resolver never asks another server. Target ``bind-options``: statements of the
  ``options { }`` block, name -> argument (``{"allow-recursion": "{ localhost; }"}``).
"""

from __future__ import annotations

import shutil
import socket
import struct
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self
from xml.sax.saxutils import quoteattr

from .common import LOOPBACK, LabError, binary, free_ports, run
from .servers import Listener
from .servers_haproxy import HttpBackend
from .servers_services import ForegroundServer
from .tls import Certificate

__all__ = ["LAN_PORT", "TOMCAT_HOME", "TOMCAT_PAGE", "BindServer", "SquidServer", "TomcatServer"]

TOMCAT_HOME = Path("/usr/share/tomcat10")
#: The page the lab's ROOT webapp serves.
TOMCAT_PAGE = "hello from the advisor lab tomcat\n"


class TomcatServer(ForegroundServer):
    """Tomcat 10.1 with one HTTP/1.1 connector on 127.0.0.1 (logical port 8080).

    Baseline: Tomcat's own defaults for the connector (``connectionTimeout="20000"``, no
    ``allowTrace``), no shutdown port, a ROOT webapp with a plain ``index.html``; the rest of
    ``conf/`` is Debian's /etc/tomcat10 (web.xml, logging, catalina.properties, context.xml).
    """

    kind = "tomcat"
    target = "tomcat-connector"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        (port,) = free_ports(1)
        port = dict(ports or {}).get(8080, port)
        listeners = [Listener(8080, port, "http", "http", "opportunistic", None, "http")]
        baseline = {"connectionTimeout": "20000"}
        super().__init__(root, cert, listeners, baseline, settings)
        self.extra_env = {
            "CATALINA_HOME": str(TOMCAT_HOME),
            "CATALINA_BASE": str(self.root),
            "CATALINA_TMPDIR": str(self.root / "temp"),
            "JAVA_OPTS": "-Djava.awt.headless=true -XX:TieredStopAtLevel=1 -Xshare:auto",
        }

    def prepare(self) -> None:
        for sub in ("conf", "logs", "temp", "work", "webapps/ROOT"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for name in ("web.xml", "logging.properties", "catalina.properties", "context.xml"):
            shutil.copy(Path("/etc/tomcat10") / name, self.root / "conf" / name)
        (self.root / "webapps" / "ROOT" / "index.html").write_text(TOMCAT_PAGE)
        # No JAR is scanned for TLDs (10 s of the start-up otherwise); a later key wins.
        with (self.root / "conf" / "catalina.properties").open("a") as fh:
            fh.write("\n# advisor lab\ntomcat.util.scan.StandardJarScanFilter.jarsToSkip=*.jar\n")

    def write_config(self) -> None:
        attrs = " ".join(f"{k}={quoteattr(v)}" for k, v in self.settings.items())
        (self.root / "conf" / "server.xml").write_text(
            "<?xml version='1.0' encoding='utf-8'?>\n"
            "<!-- lab server.xml (tests/lab/servers_daemons.py) -->\n"
            '<Server port="-1" shutdown="SHUTDOWN">\n'
            '  <Service name="Catalina">\n'
            f'    <Connector address="{LOOPBACK}" port="{self.port(8080)}" '
            f'protocol="HTTP/1.1" {attrs} />\n'
            '    <Engine name="Catalina" defaultHost="localhost">\n'
            '      <Host name="localhost" appBase="webapps" unpackWARs="false" '
            'autoDeploy="false" />\n'
            "    </Engine>\n"
            "  </Service>\n"
            "</Server>\n"
        )

    def command(self) -> list[str]:
        return [str(TOMCAT_HOME / "bin" / "catalina.sh"), "run"]

    def start(self) -> Self:
        """Start, then wait for "Server startup in": Tomcat binds its port while the JVM is
        still deploying, and holds requests until then."""
        before = self.log_text().count("Server startup in") if self.log_file.exists() else 0
        super().start()
        deadline = time.monotonic() + 90
        while self.log_text().count("Server startup in") <= before:
            if not self.is_running() or time.monotonic() > deadline:
                raise LabError(f"tomcat did not finish starting:\n{self.log_text()[-3000:]}")
            time.sleep(0.2)
        return self


#: The logical port of the Squid lab's second listener, where a test client sends a PROXY
#: protocol header first and so can stand for a client on another network (``lan_get``).
LAN_PORT = 13128


class SquidServer(ForegroundServer):
    """Squid 5 on 127.0.0.1 (logical port 3128), forwarding everything to a local backend.

    A second port (:data:`LAN_PORT`) takes the client's address from a PROXY protocol header
    (``require-proxy-header``, trusted from localhost only), so :meth:`lan_get` can ask as a
    client on, say, 10.0.0.5 while every packet stays on loopback.

    Baseline: an open proxy (``http_access allow all``), the state nmap's http-open-proxy
    reports; no cache, logs in ``DIR/log``, DNS only to 127.0.0.1.
    """

    kind = "squid"
    target = "squid"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        proxy, lan, back = free_ports(3)
        proxy = dict(ports or {}).get(3128, proxy)
        listeners = [
            Listener(3128, proxy, "http", "squid-http", "opportunistic", None, "squid-http"),
            Listener(LAN_PORT, lan, "lan", "squid-http", "opportunistic", None, "squid-http"),
        ]
        baseline = {"http_access": "allow all"}
        super().__init__(root, cert, listeners, baseline, settings)
        # The origin every request reaches, answering as Google's front end does (Server: gws),
        # which is what nmap's http-open-proxy looks for in its first test.
        self.backend = HttpBackend(
            self.root / "www", back, self.root / "log" / "backend.log", server="gws"
        )

    @property
    def config_file(self) -> Path:
        return self.root / "squid.conf"

    def prepare(self) -> None:
        import pwd

        proxy = pwd.getpwnam("proxy")
        for sub in ("log", "run", "spool"):
            path = self.root / sub
            path.mkdir(exist_ok=True)
            shutil.chown(path, proxy.pw_uid, proxy.pw_gid)
        self.backend.start()

    def write_config(self) -> None:
        fixed = [
            f"http_port {LOOPBACK}:{self.port(3128)}",
            f"http_port {LOOPBACK}:{self.port(LAN_PORT)} require-proxy-header",
            "proxy_protocol_access allow localhost",
            f"pid_filename {self.root / 'run' / 'squid.pid'}",
            f"cache_log {self.root / 'log' / 'cache.log'}",
            f"access_log stdio:{self.root / 'log' / 'access.log'}",
            "cache_store_log none",
            f"coredump_dir {self.root / 'spool'}",
            "cache_effective_user proxy",
            "cache deny all",
            "dns_nameservers 127.0.0.1",
            f"cache_peer {LOOPBACK} parent {self.backend.port} 0 no-query no-digest "
            "originserver name=lab_backend",
            "never_direct allow all",
            "shutdown_lifetime 1 seconds",
        ]
        acls = {k: v for k, v in self.settings.items() if k == "acl"}
        rest = {k: v for k, v in self.settings.items() if k != "acl"}
        lines = ["# lab squid.conf (tests/lab/servers_daemons.py)", *fixed]
        for name, value in [*acls.items(), *rest.items()]:
            lines += [f"{name} {v}" for v in value.split("\n")]
        self.config_file.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [binary("squid"), "-N", "-f", str(self.config_file)]

    def lan_get(self, client: str, url: str = "http://www.example.org/") -> int:
        """GET ``url`` through the proxy as the client address ``client`` (a PROXY protocol v1
        header on :data:`LAN_PORT`); the HTTP status Squid answers."""
        port = self.port(LAN_PORT)
        host = url.split("/")[2]
        with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
            sock.sendall(
                f"PROXY TCP4 {client} {LOOPBACK} 40000 {port}\r\n"
                f"GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            status = sock.makefile("rb").readline().split()
        if len(status) < 2 or not status[1].isdigit():
            raise LabError(f"squid answered {status!r}")
        return int(status[1])

    def log_text(self) -> str:
        text = super().log_text()
        cache_log = self.root / "log" / "cache.log"
        if cache_log.is_file():
            text += cache_log.read_text(errors="replace")
        return text

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


#: The lab root zone: every name resolves (wildcard) without any query leaving the server.
_ROOT_ZONE = """\
$TTL 300
@ IN SOA ns. hostmaster. 1 3600 600 86400 300
@ IN NS ns.
ns IN A 127.0.0.1
* IN A 192.0.2.1
"""


class BindServer(ForegroundServer):
    """named (BIND 9.18) on 127.0.0.1 (logical port 53, UDP and TCP), run as ``bind``.

    Baseline ``options``: recursion on, DNSSEC validation off (nothing to validate against),
    no IPv6 listener; BIND's own defaults for everything else (``allow-recursion`` then is
    ``{ localnets; localhost; }``). No ``rndc`` control channel.
    """

    kind = "bind"
    target = "bind-options"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        ports: Mapping[int, int] | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        (port,) = free_ports(1)
        port = dict(ports or {}).get(53, port)
        listeners = [Listener(53, port, "dns", "domain", "opportunistic", None, "domain")]
        baseline = {"recursion": "yes", "dnssec-validation": "no"}
        super().__init__(root, cert, listeners, baseline, settings)

    @property
    def config_file(self) -> Path:
        return self.root / "named.conf"

    def prepare(self) -> None:
        import pwd

        bind = pwd.getpwnam("bind")
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        shutil.chown(data, bind.pw_uid, bind.pw_gid)
        (self.root / "root.db").write_text(_ROOT_ZONE)

    def write_config(self) -> None:
        options = [
            f'  directory "{self.root / "data"}";',
            "  pid-file none;",
            f"  listen-on port {self.port(53)} {{ {LOOPBACK}; }};",
            "  listen-on-v6 { none; };",
        ]
        options += [f"  {name} {value};" for name, value in self.settings.items()]
        self.config_file.write_text(
            "# lab named.conf (tests/lab/servers_daemons.py)\n"
            "options {\n" + "\n".join(options) + "\n};\n"
            "controls { };\n"
            f'zone "." {{ type primary; file "{self.root / "root.db"}"; }};\n'
        )
        run([binary("named-checkconf"), str(self.config_file)])

    def command(self) -> list[str]:
        return [binary("named"), "-g", "-u", "bind", "-c", str(self.config_file)]

    def query(self, name: str, source: str = LOOPBACK) -> tuple[bool, int, int]:
        """One recursive (RD) A query over UDP from ``source`` (a loopback address): whether
        the answer has RA (recursion available), its RCODE and its answer count."""
        qid = 0x4144
        wire = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
        wire += b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
        wire += b"\0" + struct.pack(">HH", 1, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((source, 0))
            sock.settimeout(5)
            sock.sendto(wire, (LOOPBACK, self.port(53)))
            reply, _ = sock.recvfrom(4096)
        rid, flags, _qd, ancount = struct.unpack(">HHHH", reply[:8])
        if rid != qid:
            raise LabError(f"named answered query id {rid:#x}, not {qid:#x}")
        return bool(flags & 0x0080), flags & 0x000F, ancount
