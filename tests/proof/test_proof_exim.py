"""Proofs for the Exim fixes (target ``exim``): Debian 12's exim4-daemon-heavy on 127.0.0.1.

Exim is unpacked, not installed (it conflicts with Postfix; see tests/lab/servers_exim.py). Each
case starts Exim in a vulnerable state, runs real nmap and checks that ``advisor explain``
reports the entry with an Exim fix; then, for every Exim fix of the entry with ``settings``,
resets, applies the settings exactly as the entry states them (main-section lines), restarts,
scans again and sees the finding gone, and checks the service still serves on every port: a
message to the lab mailbox over STARTTLS / implicit TLS is delivered (tests/lab/serves.py), plus
the check that belongs to the entry (VRFY refused, AUTH only after STARTTLS and a login then
working, relaying refused to a stranger).

The relay scan comes from the loopback address 127.0.0.2 (``-S 127.0.0.2 -e lo``, target still
127.0.0.1): Exim's default ``relay_from_hosts = localhost`` rightly lets 127.0.0.1 relay.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.kb.schema import Entry, Fix
from advisor.kb.versions import parse_version
from tests.lab.common import LOOPBACK, make_lab_dir, skip_unless_available
from tests.lab.nmap import run_nmap
from tests.lab.servers_exim import EximServer, exim_missing, exim_version
from tests.lab.serves import MAIL_PASSWORD, MAIL_USER, assert_mail_serves, client_context
from tests.lab.tls import Certificate, handshake, make_self_signed_cert
from tests.proof.conftest import ProofLog, Row
from tests.proof.harness import flagged_ports, nmap_from_other_address

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()


@dataclass(frozen=True)
class Case:
    entry: str
    vulnerable: Mapping[str, str]
    """Main-section settings that make Exim vulnerable."""
    script: str
    ports: tuple[int, ...]
    auth_tls_only: bool = True
    """False: the authenticators lose ``server_advertise_condition`` (AUTH before TLS)."""
    from_other_address: bool = False
    script_args: tuple[str, ...] = field(default=())


TLS_PORTS = (25, 465, 587)

CASES = [
    Case(
        "ADV-2004",
        {"hostlist relay_from_hosts": "<; 0.0.0.0/0 ; ::/0"},
        "smtp-open-relay",
        (25,),
        from_other_address=True,
    ),
    Case(
        "ADV-2010", {"acl_smtp_vrfy": "accept", "acl_smtp_expn": "accept"}, "smtp-commands", (25,)
    ),
    Case("ADV-2011", {}, "smtp-commands", (25, 587), auth_tls_only=False),
    # tls_require_ciphers is a GnuTLS priority string (Debian's Exim is built with GnuTLS).
    # Unset (GnuTLS 3.7's NORMAL), Debian 12's Exim accepts TLS 1.0 and 1.1.
    Case("ADV-1032", {}, "ssl-enum-ciphers", TLS_PORTS),
    Case("ADV-1033", {}, "ssl-enum-ciphers", TLS_PORTS),
    Case("ADV-1020", {"tls_require_ciphers": "NORMAL:-KX-ALL:+RSA"}, "ssl-enum-ciphers", TLS_PORTS),
    # GnuTLS still has 3DES and RC4 (OpenSSL 3 cannot offer them): grade C and the warnings.
    Case("ADV-1011", {"tls_require_ciphers": "NORMAL:+3DES-CBC"}, "ssl-enum-ciphers", TLS_PORTS),
    Case("ADV-1013", {"tls_require_ciphers": "NORMAL:+ARCFOUR-128"}, "ssl-enum-ciphers", TLS_PORTS),
    Case("ADV-1021", {"tls_require_ciphers": "NORMAL:+3DES-CBC"}, "ssl-enum-ciphers", TLS_PORTS),
]


@pytest.fixture(scope="module")
def exim() -> Iterator[EximServer]:
    skip_unless_available("nmap", "openssl", root=True)
    missing = exim_missing()
    if missing:
        pytest.skip(missing)
    root = make_lab_dir("advisor-exim-")
    cert: Certificate = make_self_signed_cert(root / "cert")
    server = EximServer(root / "exim", cert)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _scan(server: EximServer, case: Case, name: str, tmp: Path) -> Path:
    """Scan the case's ports; XML with the actual ports rewritten to the logical ones."""
    ports = [server.port(p) for p in case.ports]
    out = tmp / f"{name}.xml"
    if case.from_other_address:
        nmap_from_other_address(ports, case.script, out, server.servicedb())
    else:
        out = run_nmap(ports, case.script, out, servicedb=server.servicedb()).xml
    text = out.read_text()
    for logical in case.ports:
        text = text.replace(f'portid="{server.port(logical)}"', f'portid="{logical}"')
    logical_xml = tmp / f"{name}-logical.xml"
    logical_xml.write_text(text)
    return logical_xml


def _exim_fixes(entry: Entry, version: tuple[int, ...]) -> list[Fix]:
    return [
        f
        for f in entry.fixes
        if f.software == "exim"
        and f.settings
        and f.target == "exim"
        and f.versions.contains(version)
    ]


def _vulnerable(server: EximServer, case: Case) -> None:
    server.reset()
    server.auth_tls_only = case.auth_tls_only
    server.set(case.vulnerable)
    server.restart()


def _entry_check(server: EximServer, case: Case) -> str:
    """What the fix is for, checked by hand after the scan (plus the delivery checks)."""
    port = server.port(25)
    if case.entry == "ADV-2010":
        with smtplib.SMTP(LOOPBACK, port, timeout=20) as smtp:
            smtp.ehlo("client.example.test")
            vrfy = smtp.verify(server.mailbox_address)
            expn = smtp.expn("lab")
        assert vrfy[0] not in (250, 251), f"VRFY still answers {vrfy}"
        assert expn[0] not in (250, 251), f"EXPN still answers {expn}"
        return f"VRFY answered {vrfy[0]}, EXPN {expn[0]}"
    if case.entry == "ADV-2011":
        with smtplib.SMTP(LOOPBACK, port, timeout=20) as smtp:
            smtp.ehlo("client.example.test")
            assert not smtp.has_extn("auth"), "AUTH still offered before STARTTLS"
            smtp.starttls(context=client_context())
            smtp.ehlo("client.example.test")
            code, reply = smtp.login(MAIL_USER, MAIL_PASSWORD)
        assert code == 235, f"AUTH after STARTTLS answered {code} {reply!r}"
        return "no AUTH before STARTTLS; AUTH PLAIN after STARTTLS 235"
    if case.entry == "ADV-2004":
        return "relay from 127.0.0.2 refused (nmap)"
    for logical in case.ports:
        lst = server.listener(logical)
        hs = handshake(lst.port, starttls=lst.starttls)
        assert hs.ok, f"TLS broken on {logical}: {hs.output[-500:]}"
    return "openssl s_client handshake OK"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.entry)
def test_exim_fix_is_proven(
    case: Case, exim: EximServer, tmp_path: Path, proof_log: ProofLog
) -> None:
    entry = KB.get(case.entry)
    assert entry is not None
    version_text = exim_version()
    version = parse_version(version_text) or ()

    _vulnerable(exim, case)
    before = flagged_ports(_scan(exim, case, "before", tmp_path), case.entry)
    assert set(before) == set(case.ports), (
        f"vulnerable config not reported on every port: {sorted(before)}"
    )
    for port, advice in before.items():
        offered = {c.fix.software for c in advice.fixes}
        assert "exim" in offered, f"port {port}: no exim fix offered ({offered})"

    fixes = _exim_fixes(entry, version)
    assert fixes, f"{case.entry} has no exim fix with settings for Exim {version_text}"
    try:
        for fix in fixes:
            ports = tuple(p for p in case.ports if not fix.ports or p in fix.ports)
            _vulnerable(exim, case)
            exim.apply(fix.target, dict(fix.settings))
            after = flagged_ports(
                _scan(exim, case, f"fix-{entry.fixes.index(fix)}", tmp_path), case.entry
            )
            still = sorted(set(after) & set(ports))
            assert not still, f"fix {fix.title!r} left the finding on ports {still}"
            checked = _entry_check(exim, case)
            serves = "; ".join(
                f"{logical} {assert_mail_serves(exim, logical)}"
                for logical in sorted(exim.listeners)
            )
            proof_log.add(
                Row(
                    case.entry,
                    "exim",
                    version_text,
                    fix.title,
                    ports,
                    "proven",
                    f"nmap {case.script} reported it before and not after; {checked}; "
                    f"still serves: {serves}",
                )
            )
    finally:
        exim.reset()
