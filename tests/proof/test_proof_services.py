"""Proofs for the FTP, SMTP, IMAP/POP3 and Redis entries (ADV-2004, ADV-2010..2012, ADV-5150..5152).

Each test starts the real Debian server on 127.0.0.1 in the vulnerable configuration, runs real
nmap and checks that ``advisor explain`` reports the entry; then applies the fix's ``settings``
exactly as the entry states them (``server.apply(fix.target, fix.settings)``), scans again, sees
the finding gone, and checks that the service still serves: a local FTP user logs in and fetches a
file, a message is accepted after STARTTLS and AUTH, an IMAP login over STARTTLS works, Redis
answers ``AUTH`` + ``PING``. Changes the entries list under ``not_fixes`` are applied too and
must leave what the entry says they leave. Every result goes to the proof log
(tests/proof/conftest.py), so the proof matrix counts it.

Dovecot treats a client whose address equals the server's as secure (plaintext login allowed), so
the IMAP/POP3 scans use nmap's connect scan from the loopback address 127.0.0.2 (``-S 127.0.0.2
-e lo``); the target is still 127.0.0.1.
"""

from __future__ import annotations

import ftplib
import imaplib
import io
import smtplib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.advise.advice import Advice
from advisor.kb import KnowledgeBase
from advisor.kb.schema import Entry, Fix
from advisor.kb.versions import parse_version
from tests.lab.common import LOOPBACK, make_lab_dir, skip_unless_available
from tests.lab.nmap import run_nmap
from tests.lab.servers import PostfixServer
from tests.lab.servers_services import (
    FTP_PASSWORD,
    FTP_USER,
    DovecotAuthServer,
    RedisServer,
    VsftpdServer,
)
from tests.lab.tls import Certificate, make_self_signed_cert
from tests.proof.conftest import ProofLog, Row, debian_version
from tests.proof.harness import OTHER_LOOPBACK, flagged_ports, nmap_from_other_address

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()
#: A second loopback address, the scanner's source for Dovecot (see the module docstring).


def _entry(entry_id: str) -> Entry:
    entry = KB.get(entry_id)
    assert entry is not None, entry_id
    return entry


def _fix(entry: Entry, software: str) -> Fix:
    fixes = [f for f in entry.fixes if f.software == software and f.settings]
    assert fixes, f"{entry.id} has no {software} fix with settings"
    return fixes[0]


def _version(software: str) -> str:
    """The installed Debian package's upstream version (the proof matrix's ``lab`` column)."""
    version = debian_version(software, {})
    assert version, f"no installed version for {software}"
    return version


def _proven(
    log: ProofLog, entry: Entry, fix: Fix, ports: tuple[int, ...], script: str, serves: str
) -> None:
    log.add(
        Row(entry.id, fix.software, _version(fix.software), fix.title, ports, "proven",
            f"nmap {script} reported it before and not after; {serves}")
    )  # fmt: skip


def _not_a_fix(
    log: ProofLog, entry: Entry, software: str, change: str, ports: tuple[int, ...]
) -> None:
    log.add(
        Row(entry.id, software, _version(software), change, ports, "not a fix",
            "nmap still reports the finding after this change, as the entry says")
    )  # fmt: skip


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Path, Certificate]]:
    skip_unless_available("nmap", "openssl", root=True)
    root = make_lab_dir("advisor-services-")
    yield root, make_self_signed_cert(root / "cert")


# -- FTP ---------------------------------------------------------------------------------------


def _ftp_fetch(port: int, user: str, password: str, path: str) -> bytes:
    buf = io.BytesIO()
    with ftplib.FTP() as ftp:
        ftp.connect(LOOPBACK, port, timeout=15)
        ftp.login(user, password)
        ftp.retrbinary(f"RETR {path}", buf.write)
    return buf.getvalue()


def test_vsftpd_anonymous_login_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("vsftpd", root=True)
    root, cert = lab
    entry = _entry("ADV-5150")
    fix = _fix(entry, "vsftpd")
    with VsftpdServer(root / "vsftpd-anon", cert) as ftp:
        port = ftp.port(21)
        before = flagged_ports(
            run_nmap(port, "ftp-anon", tmp_path / "before.xml", servicedb=ftp.servicedb()).xml,
            entry.id,
        )
        assert port in before
        assert "vsftpd" in {c.fix.software for c in before[port].fixes}

        for nf in entry.not_fixes:
            if nf.settings and nf.target == ftp.target:
                ftp.apply(nf.target, dict(nf.settings))
                still = run_nmap(
                    port, "ftp-anon", tmp_path / "notfix.xml", servicedb=ftp.servicedb()
                ).xml
                assert port in flagged_ports(still, entry.id), f"not_fix {nf.change!r} removed it"
                _not_a_fix(proof_log, entry, "vsftpd", nf.change, (21,))
                ftp.reset()

        ftp.apply(fix.target, dict(fix.settings))
        after = run_nmap(port, "ftp-anon", tmp_path / "after.xml", servicedb=ftp.servicedb()).xml
        assert port not in flagged_ports(after, entry.id)
        with pytest.raises(ftplib.error_perm, match="530"):
            _ftp_fetch(port, "anonymous", "IEUser@", "pub/README")
        # the service still serves: a local user logs in and downloads a file
        assert (
            _ftp_fetch(port, FTP_USER, FTP_PASSWORD, "hello.txt") == b"hello from the advisor lab\n"
        )
        _proven(proof_log, entry, fix, (21,), "ftp-anon",
                "anonymous login refused (530) while a local user logged in and fetched a file")  # fmt: skip


def test_vsftpd_bounce_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("vsftpd", root=True)
    root, cert = lab
    entry = _entry("ADV-5151")
    fix = _fix(entry, "vsftpd")
    args = ["--script-args", f"ftp-bounce.checkhost={OTHER_LOOPBACK}"]
    with VsftpdServer(root / "vsftpd-bounce", cert, settings={"port_promiscuous": "YES"}) as ftp:
        port = ftp.port(21)
        before = run_nmap(
            port, "ftp-bounce", tmp_path / "before.xml", servicedb=ftp.servicedb(), extra_args=args
        ).xml
        assert port in flagged_ports(before, entry.id)
        ftp.apply(fix.target, dict(fix.settings))
        after = run_nmap(
            port, "ftp-bounce", tmp_path / "after.xml", servicedb=ftp.servicedb(), extra_args=args
        ).xml
        assert port not in flagged_ports(after, entry.id)
        assert (
            _ftp_fetch(port, "anonymous", "IEUser@", "pub/README")
            == b"advisor lab anonymous file\n"
        )
        _proven(proof_log, entry, fix, (21,), "ftp-bounce",
                "a passive-mode anonymous download still worked")  # fmt: skip


# -- SMTP --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mail_lab(lab: tuple[Path, Certificate]) -> Iterator[tuple[PostfixServer, DovecotAuthServer]]:
    skip_unless_available("postfix", "postconf", "dovecot", "doveconf", root=True)
    root, cert = lab
    with DovecotAuthServer(root / "dovecot-auth", cert) as dovecot:
        postfix = PostfixServer(
            root / "postfix-sasl",
            cert,
            ports={25: 0},
            main={
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_sasl_type": "dovecot",
                "smtpd_sasl_path": str(dovecot.auth_socket),
                "mydestination": "$myhostname",
                "local_transport": "discard:lab",
            },
        )
        with postfix:
            yield postfix, dovecot


def _smtp_session(port: int) -> tuple[set[str], tuple[int, bytes], dict[str, tuple[int, bytes]]]:
    """EHLO keywords before TLS, the VRFY answer, and the result of a message sent after
    STARTTLS + AUTH to a local address (an empty dict: accepted for every recipient)."""
    with smtplib.SMTP(LOOPBACK, port, timeout=20) as smtp:
        smtp.ehlo("client.example")
        keywords = set(smtp.esmtp_features)
        vrfy = smtp.verify("root")
        smtp.starttls(context=ssl._create_unverified_context())  # lab self-signed certificate
        smtp.ehlo("client.example")
        smtp.login("lab", "lab")
        refused = smtp.sendmail(
            "lab@lab.example.test",
            ["root@lab.example.test"],
            "Subject: advisor proof\r\n\r\nstill delivering\r\n",
        )
    return keywords, vrfy, refused


@pytest.mark.parametrize("entry_id", ["ADV-2010", "ADV-2011"])
def test_postfix_smtp_command_fixes(
    entry_id: str,
    mail_lab: tuple[PostfixServer, DovecotAuthServer],
    tmp_path: Path,
    proof_log: ProofLog,
) -> None:
    postfix, _dovecot = mail_lab
    entry = _entry(entry_id)
    fix = _fix(entry, "postfix")
    port = postfix.port(25)
    postfix.reset()
    before = flagged_ports(
        run_nmap(port, "smtp-commands", tmp_path / "before.xml", servicedb=postfix.servicedb()).xml,
        entry.id,
    )
    assert port in before
    postfix.apply(fix.target, dict(fix.settings))  # type: ignore[arg-type]
    try:
        after = run_nmap(
            port, "smtp-commands", tmp_path / "after.xml", servicedb=postfix.servicedb()
        ).xml
        assert port not in flagged_ports(after, entry.id)
        keywords, vrfy, refused = _smtp_session(port)
        assert refused == {}  # the message to a local mailbox was accepted
        if entry_id == "ADV-2010":
            assert "vrfy" not in keywords and vrfy[0] == 502
        else:
            assert "auth" not in keywords  # AUTH only after STARTTLS; the login above worked
        _proven(proof_log, entry, fix, (25,), "smtp-commands",
                "a message was accepted after STARTTLS and AUTH")  # fmt: skip
    finally:
        postfix.reset()


#: An open relay: a client whitelist that says OK to everyone (``static:OK``, the effect of a
#: too-wide entry) ahead of ``reject_unauth_destination``; smtpd refuses to run at all with a
#: plain ``permit`` there. ``mynetworks`` is a documentation network, so the scanner
#: (127.0.0.1) is an outsider, as it would be on the Internet.
OPEN_RELAY = {
    "smtpd_relay_restrictions": "check_client_access static:OK, reject_unauth_destination",
    "mynetworks": "192.0.2.0/24",
}


def test_postfix_open_relay_fix(
    mail_lab: tuple[PostfixServer, DovecotAuthServer], tmp_path: Path, proof_log: ProofLog
) -> None:
    """ADV-2004: nmap's smtp-open-relay finds the relay; the fix's restrictions close it.
    The script sends MAIL/RCPT only (never DATA), so nothing leaves the lab."""
    postfix, _dovecot = mail_lab
    entry = _entry("ADV-2004")
    version = parse_version(_version("postfix")) or ()
    fixes = [
        f for f in entry.fixes
        if f.software == "postfix" and f.settings and f.versions.contains(version)
    ]  # fmt: skip
    assert fixes, "ADV-2004 has no Postfix fix with settings for this version"
    port = postfix.port(25)

    def scan(name: str) -> dict[int, Advice]:
        xml = run_nmap(
            port, "smtp-open-relay", tmp_path / f"{name}.xml", servicedb=postfix.servicedb()
        ).xml
        # port 25 in the XML, as a real server shows it: advisor then knows the MTA's fixes
        logical = tmp_path / f"{name}-25.xml"
        logical.write_text(xml.read_text().replace(f'portid="{port}"', 'portid="25"'))
        return flagged_ports(logical, entry.id)

    try:
        for fix in fixes:
            postfix.reset()
            postfix.apply("postfix-main", OPEN_RELAY)
            before = scan("before")
            assert 25 in before, "the open relay is not reported"
            assert "postfix" in {c.fix.software for c in before[25].fixes}
            postfix.apply(fix.target, dict(fix.settings))  # type: ignore[arg-type]
            assert 25 not in scan(f"fix-{entry.fixes.index(fix)}")
            _keywords, _vrfy, refused = _smtp_session(port)
            assert refused == {}  # a message to a local mailbox is still accepted after AUTH
            _proven(proof_log, entry, fix, (25,), "smtp-open-relay",
                    "a message to a local mailbox was accepted after STARTTLS and AUTH")  # fmt: skip
    finally:
        postfix.reset()


def test_postfix_discard_ehlo_vrfy_only_hides_the_keyword(
    mail_lab: tuple[PostfixServer, DovecotAuthServer], tmp_path: Path, proof_log: ProofLog
) -> None:
    """ADV-2010's not_fix: the keyword goes (nmap sees nothing), VRFY still answers."""
    postfix, _dovecot = mail_lab
    entry = _entry("ADV-2010")
    (nf,) = [n for n in entry.not_fixes if n.settings]
    port = postfix.port(25)
    postfix.apply(nf.target, dict(nf.settings))  # type: ignore[arg-type]
    try:
        scan = run_nmap(
            port, "smtp-commands", tmp_path / "discard.xml", servicedb=postfix.servicedb()
        ).xml
        assert port not in flagged_ports(scan, entry.id)
        keywords, vrfy, _refused = _smtp_session(port)
        assert "vrfy" not in keywords
        assert vrfy == (252, b"2.0.0 root")
        proof_log.add(
            Row(entry.id, "postfix", _version("postfix"), nf.change, (25,), "not a fix",
                "nmap no longer sees the VRFY keyword, but the VRFY command still answers 252")
        )  # fmt: skip
    finally:
        postfix.reset()


# -- IMAP / POP3 -------------------------------------------------------------------------------


def test_dovecot_plaintext_auth_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("dovecot", "doveconf", root=True)
    root, cert = lab
    entry = _entry("ADV-2012")
    fix = _fix(entry, "dovecot")
    scripts = "imap-capabilities,pop3-capabilities"
    with DovecotAuthServer(
        root / "dovecot-plain",
        cert,
        ports={143: 0, 110: 0},
        settings={"disable_plaintext_auth": "no"},
    ) as dovecot:
        ports = [dovecot.port(143), dovecot.port(110)]
        services = dovecot.servicedb()
        before = nmap_from_other_address(ports, scripts, tmp_path / "before.xml", services)
        assert set(ports) <= set(flagged_ports(before, entry.id))
        for nf in entry.not_fixes:
            if nf.settings and nf.target == "dovecot":
                dovecot.apply("dovecot", dict(nf.settings))
                still = nmap_from_other_address(ports, scripts, tmp_path / "notfix.xml", services)
                assert set(ports) <= set(flagged_ports(still, entry.id)), nf.change
                _not_a_fix(proof_log, entry, "dovecot", nf.change, (143, 110))
                dovecot.set({"auth_mechanisms": "plain"})
        dovecot.apply("dovecot", dict(fix.settings))
        after = nmap_from_other_address(ports, scripts, tmp_path / "after.xml", services)
        assert not set(ports) & set(flagged_ports(after, entry.id))
        # the service still serves: an IMAP login over STARTTLS
        with imaplib.IMAP4(LOOPBACK, dovecot.port(143), timeout=15) as imap:
            imap.starttls(ssl_context=ssl._create_unverified_context())
            typ, _data = imap.login("lab", "lab")
            assert typ == "OK"
        _proven(proof_log, entry, fix, (143, 110), scripts,
                "an IMAP login after STARTTLS still worked")  # fmt: skip


# -- Redis -------------------------------------------------------------------------------------


def _redis(port: int, *commands: list[str]) -> list[bytes]:
    """Send RESP commands on one connection; return each reply's first line."""
    replies = []
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        reader = sock.makefile("rb")
        for args in commands:
            wire = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
            sock.sendall(wire.encode())
            replies.append(reader.readline().rstrip(b"\r\n"))
    return replies


def test_redis_requirepass_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("redis-server")
    root, cert = lab
    entry = _entry("ADV-5152")
    fix = _fix(entry, "redis")
    with RedisServer(root / "redis", cert) as redis:
        port = redis.port(6379)
        assert port in flagged_ports(
            run_nmap(port, "redis-info", tmp_path / "before.xml", servicedb=redis.servicedb()).xml,
            entry.id,
        )
        for nf in entry.not_fixes:
            if nf.settings and nf.target == redis.target:
                redis.apply(nf.target, dict(nf.settings))
                still = run_nmap(
                    port, "redis-info", tmp_path / "notfix.xml", servicedb=redis.servicedb()
                ).xml
                assert port in flagged_ports(still, entry.id), nf.change
                _not_a_fix(proof_log, entry, "redis", nf.change, (6379,))
        redis.apply(fix.target, dict(fix.settings))
        after = run_nmap(
            port, "redis-info", tmp_path / "after.xml", servicedb=redis.servicedb()
        ).xml
        assert port not in flagged_ports(after, entry.id)
        password = dict(fix.settings)["requirepass"]
        assert _redis(port, ["PING"])[0].startswith(b"-NOAUTH")
        assert _redis(port, ["AUTH", password], ["PING"]) == [b"+OK", b"+PONG"]
        _proven(proof_log, entry, fix, (6379,), "redis-info",
                "PING without the password got NOAUTH, AUTH + PING got PONG")  # fmt: skip
