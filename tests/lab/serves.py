""" "The service still serves": checks a proof runs after a fix, beyond a TLS handshake.

HTTP: a page is fetched. SMTP: EHLO, STARTTLS (or implicit TLS), MAIL FROM / RCPT TO a lab
mailbox / DATA answered 250, and the message found in that mailbox. IMAP and POP3: TLS (implicit
or STARTTLS) and a login with the lab user, then the mailbox is opened. Loopback only.
"""

from __future__ import annotations

import contextlib
import http.client
import imaplib
import poplib
import smtplib
import ssl
import time
import uuid
from pathlib import Path

from .common import LOOPBACK, LabError
from .servers import LabServer

#: The lab mail user (Dovecot passwd file, Postfix/Exim mailbox).
MAIL_USER = "lab"
MAIL_PASSWORD = "lab"


def http_fetch(
    port: int,
    *,
    tls: bool,
    path: str = "/",
    method: str = "GET",
    host_header: str = "localhost",
    address: str = LOOPBACK,
) -> tuple[int, dict[str, str], bytes]:
    """One request (TLS without certificate checks when ``tls``): status, headers (lower-case
    names; repeated ones joined with ``\\n``), body."""
    conn: http.client.HTTPConnection
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(address, port, timeout=10, context=ctx)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=10)
    try:
        conn.request(method, path, headers={"Host": host_header})
        resp = conn.getresponse()
        headers: dict[str, str] = {}
        for name, value in resp.getheaders():
            key = name.lower()
            headers[key] = f"{headers[key]}\n{value}" if key in headers else value
        return resp.status, headers, resp.read()
    finally:
        conn.close()


def assert_http_ok(
    port: int, *, tls: bool, path: str = "/", host_header: str = "localhost"
) -> bytes:
    """The page is served: status 200 and a body; returns the body."""
    status, _, body = http_fetch(port, tls=tls, path=path, host_header=host_header)
    assert status == 200, f"GET {path} on port {port} returned {status}, not 200"
    assert body, f"GET {path} on port {port} returned an empty body"
    return body


def client_context() -> ssl.SSLContext:
    """A normal TLS client (Python's defaults: TLS 1.2+, no weak suites), without certificate
    checks (the lab certificate is self-signed)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def smtp_send(
    port: int,
    *,
    implicit_tls: bool,
    rcpt: str,
    sender: str = "proof@client.example.test",
    helo: str = "client.example.test",
) -> str:
    """One message over TLS: EHLO, STARTTLS (unless ``implicit_tls``), EHLO, MAIL FROM, RCPT
    TO, DATA. Asserts each answer; returns the token written in the body."""
    ctx = client_context()
    token = f"advisor-proof-{uuid.uuid4().hex}"
    smtp: smtplib.SMTP
    if implicit_tls:
        smtp = smtplib.SMTP_SSL(LOOPBACK, port, timeout=20, context=ctx)
    else:
        smtp = smtplib.SMTP(LOOPBACK, port, timeout=20)
    with smtp:
        code, reply = smtp.ehlo(helo)
        assert code == 250, f"port {port}: EHLO answered {code} {reply!r}"
        if not implicit_tls:
            assert smtp.has_extn("starttls"), f"port {port}: no STARTTLS in {smtp.esmtp_features}"
            code, reply = smtp.starttls(context=ctx)
            assert code == 220, f"port {port}: STARTTLS answered {code} {reply!r}"
            code, reply = smtp.ehlo(helo)
            assert code == 250, f"port {port}: EHLO after STARTTLS answered {code} {reply!r}"
        assert isinstance(smtp.sock, ssl.SSLSocket), f"port {port}: not encrypted"
        code, reply = smtp.mail(sender)
        assert code == 250, f"port {port}: MAIL FROM answered {code} {reply!r}"
        code, reply = smtp.rcpt(rcpt)
        assert code in (250, 251), f"port {port}: RCPT TO:<{rcpt}> answered {code} {reply!r}"
        body = f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {token}\r\n\r\n{token}\r\n"
        code, reply = smtp.data(body)
        assert code == 250, f"port {port}: DATA answered {code} {reply!r}"
    return token


def wait_in_maildir(maildir: Path, token: str, timeout: float = 30.0) -> Path:
    """The file of ``maildir`` (``new/`` or ``cur/``) whose text contains ``token``."""
    deadline = time.monotonic() + timeout
    while True:
        for sub in ("new", "cur"):
            folder = maildir / sub
            if folder.is_dir():
                for path in folder.iterdir():
                    try:
                        if token in path.read_text(errors="replace"):
                            return path
                    except OSError:
                        continue
        if time.monotonic() > deadline:
            raise LabError(f"message {token} not delivered to {maildir} in {timeout:.0f} s")
        time.sleep(0.1)


def assert_smtp_delivers(port: int, *, implicit_tls: bool, rcpt: str, maildir: Path) -> Path:
    """:func:`smtp_send`, then the message must arrive in ``maildir``; returns its file."""
    token = smtp_send(port, implicit_tls=implicit_tls, rcpt=rcpt)
    return wait_in_maildir(maildir, token)


def assert_imap_login(
    port: int, *, implicit_tls: bool, user: str = MAIL_USER, password: str = MAIL_PASSWORD
) -> None:
    """TLS (implicit or STARTTLS), LOGIN, SELECT INBOX, LOGOUT: each answered OK."""
    ctx = client_context()
    imap: imaplib.IMAP4
    if implicit_tls:
        imap = imaplib.IMAP4_SSL(LOOPBACK, port, ssl_context=ctx, timeout=20)
    else:
        imap = imaplib.IMAP4(LOOPBACK, port, timeout=20)
    try:
        if not implicit_tls:
            started = imap.starttls(ssl_context=ctx)
            assert started[0] == "OK", f"port {port}: STARTTLS answered {started!r}"
        assert isinstance(imap.sock, ssl.SSLSocket), f"port {port}: not encrypted"
        login = imap.login(user, password)
        assert login[0] == "OK", f"port {port}: LOGIN answered {login!r}"
        selected = imap.select("INBOX")
        assert selected[0] == "OK", f"port {port}: SELECT INBOX answered {selected!r}"
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def assert_pop3_login(
    port: int, *, implicit_tls: bool, user: str = MAIL_USER, password: str = MAIL_PASSWORD
) -> None:
    """TLS (implicit or STLS), USER/PASS, STAT, QUIT: each answered +OK."""
    ctx = client_context()
    pop: poplib.POP3
    if implicit_tls:
        pop = poplib.POP3_SSL(LOOPBACK, port, timeout=20, context=ctx)
    else:
        pop = poplib.POP3(LOOPBACK, port, timeout=20)
    try:
        if not implicit_tls:
            reply = pop.stls(context=ctx)
            assert reply.startswith(b"+OK"), f"port {port}: STLS answered {reply!r}"
        assert isinstance(pop.sock, ssl.SSLSocket), f"port {port}: not encrypted"
        reply = pop.user(user)
        assert reply.startswith(b"+OK"), f"port {port}: USER answered {reply!r}"
        reply = pop.pass_(password)
        assert reply.startswith(b"+OK"), f"port {port}: PASS answered {reply!r}"
        count, _size = pop.stat()
        assert count >= 0
    finally:
        try:
            pop.quit()
        except (poplib.error_proto, OSError):
            pop.close()


def assert_mail_serves(server: LabServer, logical: int) -> str:
    """The mail service on ``logical`` still does its job (see the module docstring), after
    TLS with a normal client. Returns a one-line description for the proof log.

    Postfix and Exim: a message to the lab mailbox (``server.mailbox_address`` /
    ``server.maildir``) is accepted and delivered. Dovecot: IMAP (143/993) or POP3 (110/995)
    login as the lab user.
    """
    lst = server.listener(logical)
    implicit = lst.tls_mode == "implicit"
    how = "implicit TLS" if implicit else "STARTTLS"
    if server.kind in ("postfix", "exim"):
        maildir: Path = server.maildir  # type: ignore[attr-defined]
        rcpt: str = server.mailbox_address  # type: ignore[attr-defined]
        assert_smtp_delivers(lst.port, implicit_tls=implicit, rcpt=rcpt, maildir=maildir)
        return f"SMTP {how}, message to {rcpt} delivered"
    if server.kind == "dovecot":
        if logical in (143, 993):
            assert_imap_login(lst.port, implicit_tls=implicit)
            return f"IMAP {how} login"
        assert_pop3_login(lst.port, implicit_tls=implicit)
        return f"POP3 {how} login"
    raise LabError(f"no mail check for {server.kind}")
