""" "The service still serves": checks a proof runs after a fix, beyond a TLS handshake.

HTTP here; SMTP/IMAP/POP3 checks live beside it. Loopback only.
"""

from __future__ import annotations

import http.client
import ssl

from .common import LOOPBACK


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
