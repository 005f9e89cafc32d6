"""Certificates and ``openssl s_client`` probes for the loopback lab."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .common import LOOPBACK, LabError, binary, check_loopback, run

StartTLS = Literal["smtp", "imap", "pop3"]
LAB_HOSTNAME = "lab.example.test"


@dataclass(frozen=True)
class Certificate:
    """A self-signed RSA certificate and its unencrypted key."""

    cert: Path
    key: Path
    hostname: str


def make_self_signed_cert(directory: Path, hostname: str = LAB_HOSTNAME) -> Certificate:
    """Generate a self-signed RSA-2048 certificate (about 0.1-0.6 s)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert = directory / "lab-cert.pem"
    key = directory / "lab-key.pem"
    run(
        [
            binary("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
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
    key.chmod(0o600)
    cert.chmod(0o644)
    return Certificate(cert=cert, key=key, hostname=hostname)


@dataclass(frozen=True)
class Handshake:
    """What ``openssl s_client`` saw."""

    output: str
    cipher: str | None
    protocol: str | None
    temp_key: str | None

    @property
    def ok(self) -> bool:
        return self.cipher is not None and self.cipher != "(NONE)"

    @property
    def anonymous(self) -> bool:
        cipher = self.cipher or ""
        return self.ok and ("ADH" in cipher or "anon" in cipher)


_CIPHER_RE = re.compile(r"Cipher is (\S+)")
_PROTO_RE = re.compile(r"^New, (\S+), Cipher is", re.MULTILINE)
_TEMP_KEY_RE = re.compile(r"Server Temp Key: (.+)")


def _s_client_cmd(
    port: int,
    host: str,
    starttls: StartTLS | None,
    cipher: str | None,
    protocol: str | None,
) -> list[str]:
    check_loopback(host)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    cmd = [binary("openssl"), "s_client", "-connect", target, "-servername", LAB_HOSTNAME]
    if starttls:
        cmd += ["-starttls", starttls]
    if protocol:
        cmd.append(f"-{protocol}")
    if cipher:
        cmd += ["-cipher", cipher]
    return cmd


def parse_handshake(output: str) -> Handshake:
    cipher = _CIPHER_RE.search(output)
    proto = _PROTO_RE.search(output)
    temp = _TEMP_KEY_RE.search(output)
    return Handshake(
        output=output,
        cipher=cipher.group(1) if cipher else None,
        protocol=proto.group(1) if proto else None,
        temp_key=temp.group(1).strip() if temp else None,
    )


def handshake(
    port: int,
    *,
    host: str = LOOPBACK,
    starttls: StartTLS | None = None,
    cipher: str | None = None,
    protocol: str | None = None,
    timeout: float = 20.0,
) -> Handshake:
    """One TLS handshake with ``openssl s_client`` (stdin closed, so it ends at once).

    For an anonymous-DH probe use ``protocol="tls1_2", cipher="aNULL:@SECLEVEL=0"``:
    plain ``-cipher aNULL`` fails on the client side with OpenSSL 3.
    """
    cmd = _s_client_cmd(port, host, starttls, cipher, protocol)
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
    )
    # STARTTLS pop3 output can contain binary bytes: decode leniently (like grep -a).
    output = (proc.stdout + proc.stderr).decode("utf-8", errors="replace")
    return parse_handshake(output)


def anonymous_dh_accepted(
    port: int, *, host: str = LOOPBACK, starttls: StartTLS | None = None
) -> bool:
    """True when the server completes a TLS 1.2 handshake with an anonymous DH suite."""
    return handshake(
        port, host=host, starttls=starttls, cipher="aNULL:@SECLEVEL=0", protocol="tls1_2"
    ).anonymous


@contextlib.contextmanager
def open_connection(
    port: int,
    *,
    host: str = LOOPBACK,
    starttls: StartTLS | None = None,
    settle: float = 1.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Keep an ``openssl s_client`` connection open for the duration of the block.

    Used to capture ``ss -lnpt`` while the server has forked a per-connection process.
    """
    cmd = _s_client_cmd(port, host, starttls, None, None)
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        time.sleep(settle)
        if proc.poll() is not None:
            raise LabError(f"s_client exited early ({proc.returncode}): {' '.join(cmd)}")
        yield proc
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
