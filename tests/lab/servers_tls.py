"""stunnel4 as a plain TLS front: the stand-in server for the certificate proofs.

The certificate entries' generic fixes ("get a certificate from a CA", "a new 2048-bit key")
do not depend on the server software: any TLS server that presents the certificate shows the
problem and its cure. stunnel terminates TLS on a free loopback port (logical 443) and forwards
to a plain-HTTP backend (the lab web site), so "the site still serves" is a real HTTPS GET.

Settings are stunnel.conf service options (``cert``, ``key``, ``ciphers`` ...), target
``stunnel`` (test harness only: no knowledge entry uses it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .common import LOOPBACK, binary, free_ports
from .servers import Listener
from .servers_services import ForegroundServer
from .tls import Certificate


class StunnelServer(ForegroundServer):
    """``stunnel4 DIR/stunnel.conf`` in the foreground: TLS on 443 -> ``backend_port``."""

    kind = "stunnel"
    target = "stunnel"

    def __init__(
        self,
        root: Path,
        cert: Certificate,
        backend_port: int,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        (port,) = free_ports(1)
        listeners = [Listener(443, port, "https", "https", "implicit", None, "https")]
        baseline = {
            "accept": f"{LOOPBACK}:{port}",
            "connect": f"{LOOPBACK}:{backend_port}",
            "cert": str(cert.cert),
            "key": str(cert.key),
            # Lab: OpenSSL 3 refuses 1024-bit keys and SHA-1 signatures at Debian's default
            # level 2; the proofs need to serve such certificates before the fix.
            "ciphers": "DEFAULT:@SECLEVEL=0",
        }
        super().__init__(root, cert, listeners, baseline, settings)

    @property
    def config_file(self) -> Path:
        return self.root / "stunnel.conf"

    def write_config(self) -> None:
        lines = [
            "; lab stunnel.conf (tests/lab/servers_tls.py)",
            "foreground = yes",
            f"pid = {self.root / 'stunnel.pid'}",
            "debug = notice",
            "[https]",
        ]
        lines += [f"{k} = {v}" for k, v in self.settings.items()]
        self.config_file.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [binary("stunnel4"), str(self.config_file)]
