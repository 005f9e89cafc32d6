"""A throwaway test CA (openssl CLI only) for the certificate proofs.

    ca = LabCA(lab / "ca")
    good = ca.issue("good")                                  # RSA-2048, SHA-256, valid now
    old = ca.issue("expired", not_before=-400, not_after=-35)  # days relative to now
    weak = ca.issue("weak", bits=1024, digest="sha1")
    own = ca.self_signed("self")                             # subject = issuer

``openssl ca`` (not ``x509 -req``) signs, because OpenSSL 3.0's ``x509`` cannot set a start
date; the CA's database lives in the CA directory. Everything stays in the lab directory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from .common import binary, run
from .tls import LAB_HOSTNAME, Certificate

_CA_CONFIG = """\
[ ca ]
default_ca = lab
[ lab ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
policy = anything
copy_extensions = copy
unique_subject = no
default_md = sha256
[ anything ]
commonName = supplied
"""


def _when(days: float) -> str:
    """``openssl ca`` date (YYYYMMDDHHMMSSZ) ``days`` from now (negative: in the past)."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y%m%d%H%M%SZ")


class LabCA:
    """A CA key and certificate; :meth:`issue` signs server certificates with it."""

    def __init__(self, directory: Path, name: str = "Advisor Lab Test CA") -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)
        (directory / "newcerts").mkdir(exist_ok=True)
        (directory / "index.txt").write_text("")
        (directory / "serial").write_text("1000\n")
        self.config = directory / "ca.cnf"
        self.config.write_text(_CA_CONFIG.format(dir=directory))
        self.key = directory / "ca-key.pem"
        self.cert = directory / "ca-cert.pem"
        run(
            [
                binary("openssl"),
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
                "-days",
                "60",
                "-subj",
                f"/CN={name}",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            timeout=60,
        )

    def _key(self, path: Path, bits: int) -> None:
        run(
            [
                binary("openssl"),
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                f"rsa_keygen_bits:{bits}",
                "-out",
                str(path),
            ],
            timeout=60,
        )
        path.chmod(0o644)  # lab only: the servers' workers read it

    def issue(
        self,
        name: str,
        *,
        hostname: str = LAB_HOSTNAME,
        bits: int = 2048,
        digest: str = "sha256",
        not_before: float = -1,
        not_after: float = 30,
        san: str | None = None,
    ) -> Certificate:
        """A server certificate signed by this CA; dates in days relative to now;
        ``san`` replaces the default ``DNS:<hostname>`` subjectAltName."""
        key = self.dir / f"{name}-key.pem"
        csr = self.dir / f"{name}.csr"
        cert = self.dir / f"{name}-cert.pem"
        self._key(key, bits)
        run(
            [
                binary("openssl"),
                "req",
                "-new",
                "-key",
                str(key),
                "-out",
                str(csr),
                "-subj",
                f"/CN={hostname}",
                "-addext",
                f"subjectAltName={san or 'DNS:' + hostname}",
            ],
            timeout=60,
        )
        run(
            [
                binary("openssl"),
                "ca",
                "-batch",
                "-notext",
                "-config",
                str(self.config),
                "-cert",
                str(self.cert),
                "-keyfile",
                str(self.key),
                "-md",
                digest,
                "-startdate",
                _when(not_before),
                "-enddate",
                _when(not_after),
                "-in",
                str(csr),
                "-out",
                str(cert),
            ],
            timeout=60,
        )
        cert.chmod(0o644)
        return Certificate(cert=cert, key=key, hostname=hostname)

    def self_signed(self, name: str, *, hostname: str = LAB_HOSTNAME) -> Certificate:
        """RSA-2048, SHA-256, valid now, but its own issuer (no CA)."""
        key = self.dir / f"{name}-key.pem"
        cert = self.dir / f"{name}-cert.pem"
        self._key(key, 2048)
        run(
            [
                binary("openssl"),
                "req",
                "-x509",
                "-key",
                str(key),
                "-out",
                str(cert),
                "-days",
                "30",
                "-subj",
                f"/CN={hostname}",
                "-addext",
                f"subjectAltName=DNS:{hostname}",
            ],
            timeout=60,
        )
        cert.chmod(0o644)
        return Certificate(cert=cert, key=key, hostname=hostname)
