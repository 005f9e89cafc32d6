"""The "TLS on this port" line names how the protocol on that port really starts TLS.

STARTTLS is a mail command; PostgreSQL asks with its own SSLRequest message, MySQL inside its
handshake, LDAP with the StartTLS extended operation, FTP with AUTH TLS, XMPP inside its
stream. nmap's TLS scripts reach these ports through nselib/sslcert.lua's protocol-specific
``*_prepare_tls`` functions (ftp 21, ldap 389, postgresql 5432, xmpp 5222/5269, ...), so a
real report has findings there.

The scans are a real nmap 7.91 ``ssl-enum-ciphers`` result (tests/data/corpus/
kis__tlsnmap-test_ssl-enum-ciphers_7.91.xml, port 443) with the port's number and
``<service>`` element changed to what nmap -sV writes for each server: the cipher tables,
the warnings and the findings stay those of the real capture.
"""

from __future__ import annotations

import io
import re

import pytest

from advisor.api import Options, explain
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.render import Format, render
from tests.conftest import CORPUS

REAL = CORPUS / "kis__tlsnmap-test_ssl-enum-ciphers_7.91.xml"
_PORT = re.compile(rb'<port protocol="tcp" portid="443">.*?</service>', re.S)

#: port -> the <service> element nmap -sV writes there (names from nmap-services / probes).
SERVICES = {
    5432: b'<service name="postgresql" product="PostgreSQL DB" version="9.6.0 or later"'
    b' method="probed" conf="10"><cpe>cpe:/a:postgresql:postgresql</cpe></service>',
    3306: b'<service name="mysql" product="MySQL" version="8.0.36" method="probed" conf="10">'
    b"<cpe>cpe:/a:mysql:mysql:8.0.36</cpe></service>",
    389: b'<service name="ldap" product="OpenLDAP" version="2.2.X - 2.3.X" method="probed"'
    b' conf="10"><cpe>cpe:/a:openldap:openldap</cpe></service>',
    21: b'<service name="ftp" product="vsftpd" version="3.0.3" ostype="Unix" method="probed"'
    b' conf="10"><cpe>cpe:/a:vsftpd:vsftpd:3.0.3</cpe></service>',
    5222: b'<service name="xmpp-client" product="Prosody XMPP Communication Server"'
    b' method="probed" conf="10"></service>',
    110: b'<service name="pop3" product="Dovecot pop3d" method="probed" conf="10">'
    b"<cpe>cpe:/a:dovecot:dovecot</cpe></service>",
    143: b'<service name="imap" product="Dovecot imapd" method="probed" conf="10">'
    b"<cpe>cpe:/a:dovecot:dovecot</cpe></service>",
    587: b'<service name="smtp" product="Postfix smtpd" method="probed" conf="10">'
    b"<cpe>cpe:/a:postfix:postfix</cpe></service>",
}

EXPECTED = {
    5432: ("PostgreSQL's own SSLRequest, not STARTTLS", "PostgreSQL 独自の SSLRequest"),
    3306: ("TLS negotiated in MySQL's own handshake, not STARTTLS", "MySQL 独自のハンドシェイク"),
    389: ("LDAP StartTLS: the client sends the StartTLS extended operation", "LDAP の StartTLS"),
    21: ("explicit FTPS: the client sends `AUTH TLS`", "明示的 FTPS"),
    5222: ("STARTTLS inside the XMPP stream (RFC 6120)", "XMPP ストリーム内の STARTTLS"),
    110: ("STLS on POP3", "POP3 の STLS"),
    143: ("STARTTLS on IMAP", "IMAP の STARTTLS"),
    587: ("STARTTLS on SMTP submission (RFC 3207)", "SMTP サブミッションの STARTTLS"),
}


def _scan(port: int) -> bytes:
    data = REAL.read_bytes()
    head = f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack"'
    head += ' reason_ttl="51"/>'
    replaced, count = _PORT.subn(head.encode() + SERVICES[port], data, count=1)
    assert count == 1
    return replaced


def _tls_lines(port: int, kb: KnowledgeBase, lang: str) -> list[str]:
    report = explain(io.BytesIO(_scan(port)), kb, Options(), "scan.xml")
    assert report.finding_count > 0  # the real capture's findings, now on this port
    buf = io.StringIO()
    render(Format.MARKDOWN, report, buf, kb, Catalog.load(lang))
    label = "**TLS on this port:**" if lang == "en" else "**この"
    return [line for line in buf.getvalue().splitlines() if line.startswith(f"- {label}")]


@pytest.mark.parametrize("port", sorted(SERVICES))
def test_each_protocol_says_how_it_starts_tls(port: int, kb: KnowledgeBase) -> None:
    english, japanese = EXPECTED[port]
    lines = _tls_lines(port, kb, "en")
    assert lines and all(english in line for line in lines), lines
    if port not in (110, 143, 587):
        assert all("(e.g. 587, 143, 110)" not in line for line in lines)
    ja = Catalog.load("ja")
    label = ja.t("tls_mode")
    report = explain(io.BytesIO(_scan(port)), kb, Options(), "scan.xml")
    buf = io.StringIO()
    render(Format.MARKDOWN, report, buf, kb, ja)
    shown = [line for line in buf.getvalue().splitlines() if label in line]
    assert shown and all(japanese in line for line in shown), shown
    assert all("[EN]" not in line for line in shown)


def test_html_renders_the_protocol_text(kb: KnowledgeBase) -> None:
    report = explain(io.BytesIO(_scan(5432)), kb, Options(), "scan.xml")
    buf = io.StringIO()
    render(Format.HTML, report, buf, kb)
    assert "<code>sslmode=prefer</code>" in buf.getvalue()


def test_implicit_and_port_25_keep_their_texts(kb: KnowledgeBase) -> None:
    report = explain(REAL.open("rb"), kb, Options(), "scan.xml")
    buf = io.StringIO()
    render(Format.MARKDOWN, report, buf, kb)
    assert "- **TLS on this port:** implicit (TLS from the first byte" in buf.getvalue()


def test_every_protocol_text_is_translated() -> None:
    en, ja = Catalog.load("en"), Catalog.load("ja")
    keys = [k for k in en.english if k.startswith("tls_starttls_")]
    assert len(keys) == 10
    for key in keys:
        assert key in ja.strings and ja.strings[key] != en.english[key]
