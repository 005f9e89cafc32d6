"""pytest fixtures for the loopback lab.

Register them from ``tests/conftest.py`` with ``pytest_plugins = ["tests.lab.fixtures"]``
(or ``from tests.lab.fixtures import *``). Each fixture skips the test with a visible reason
when a binary is missing or when not running as root.

Servers are started once per session; the function-scoped fixtures (``postfix_server``,
``dovecot_server``, ``nginx_server``) put the configuration back to the baseline before each
test, restarting only if a previous test changed it. Set ``ADVISOR_LAB_KEEP=1`` to keep the
lab directory (configs, logs) after the session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from .common import dh_fixture, make_lab_dir, skip_unless_available
from .nmap import NmapRun, run_nmap
from .servers import DovecotServer, NginxServer, PostfixServer
from .tls import Certificate, make_self_signed_cert

__all__ = [
    "DHParams",
    "ScanFn",
    "dovecot_server",
    "dovecot_session",
    "lab_cert",
    "lab_dh",
    "lab_dir",
    "lab_scan",
    "nginx_server",
    "nginx_session",
    "postfix_server",
    "postfix_session",
]


@dataclass(frozen=True)
class DHParams:
    """The committed DH parameter fixtures (``tests/lab/fixtures/*.pem``)."""

    dh1024: Path
    """1024-bit safe prime (``openssl dhparam 1024``)."""
    dh2048: Path
    """2048-bit safe prime (``openssl dhparam 2048``)."""
    dh1024_dsa: Path
    """1024-bit, ``-dsaparam`` (not a safe prime)."""
    dh2048_dsa: Path
    """2048-bit, ``-dsaparam`` (not a safe prime)."""


#: ``lab_scan(ports, scripts, name, **kwargs) -> NmapRun``
ScanFn = Callable[..., NmapRun]


@pytest.fixture(scope="session")
def lab_dir() -> Iterator[Path]:
    """A session-wide lab directory, mode 0755 (not pytest's 0700 tmp_path)."""
    path = make_lab_dir()
    yield path
    if os.environ.get("ADVISOR_LAB_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_cert(lab_dir: Path) -> Certificate:
    """A self-signed RSA-2048 certificate for ``lab.example.test``."""
    skip_unless_available("openssl")
    return make_self_signed_cert(lab_dir / "cert")


@pytest.fixture(scope="session")
def lab_dh() -> DHParams:
    return DHParams(
        dh1024=dh_fixture("dh1024"),
        dh2048=dh_fixture("dh2048"),
        dh1024_dsa=dh_fixture("dh1024-dsa"),
        dh2048_dsa=dh_fixture("dh2048-dsa"),
    )


@pytest.fixture(scope="session")
def postfix_session(lab_dir: Path, lab_cert: Certificate) -> Iterator[PostfixServer]:
    """One Postfix for the session: ports 25/465/587 mapped to free high ports."""
    skip_unless_available("postfix", "postconf", root=True)
    server = PostfixServer(lab_dir / "postfix", lab_cert)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postfix_server(postfix_session: PostfixServer) -> PostfixServer:
    """The session's Postfix, running, with the baseline main.cf/master.cf."""
    return postfix_session.reset()


@pytest.fixture(scope="session")
def dovecot_session(lab_dir: Path, lab_cert: Certificate) -> Iterator[DovecotServer]:
    """One Dovecot for the session: 143/993/110/995 mapped to free high ports."""
    skip_unless_available("dovecot", "doveconf", root=True)
    server = DovecotServer(lab_dir / "dovecot", lab_cert)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot_server(dovecot_session: DovecotServer) -> DovecotServer:
    return dovecot_session.reset()


@pytest.fixture(scope="session")
def nginx_session(lab_dir: Path, lab_cert: Certificate) -> Iterator[NginxServer]:
    """One nginx for the session: 443 mapped to a free high port."""
    skip_unless_available("nginx", root=True)
    server = NginxServer(lab_dir / "nginx", lab_cert)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def nginx_server(nginx_session: NginxServer) -> NginxServer:
    return nginx_session.reset()


@pytest.fixture
def lab_scan(tmp_path: Path) -> ScanFn:
    """Run nmap against 127.0.0.1 into ``tmp_path``.

    ``lab_scan(ports, scripts, name="scan", servicedb=server.servicedb(), **run_nmap_kwargs)``
    """
    skip_unless_available("nmap")

    def scan(
        ports: int | Iterable[int],
        scripts: str | Sequence[str],
        name: str = "scan",
        *,
        servicedb: Mapping[int, str] | None = None,
        version_detection: bool = False,
        all_formats: bool = False,
        extra_args: Sequence[str] = (),
    ) -> NmapRun:
        return run_nmap(
            ports,
            scripts,
            tmp_path / f"{name}.xml",
            servicedb=servicedb,
            version_detection=version_detection,
            all_formats=all_formats,
            extra_args=extra_args,
        )

    return scan
