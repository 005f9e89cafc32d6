"""Proofs for nginx's TLS-cipher and web-site fixes, PHP behind nginx, and the generic
certificate fixes.

Each case starts a real server on 127.0.0.1 in a vulnerable state, runs real nmap with only the
script the entry matches, and checks that ``advisor explain`` reports the entry and offers a fix
for that software. Then, for every fix of that software whose version range holds the installed
version and that has ``settings``: back to the vulnerable state, apply the fix's settings as the
entry states them (``server.apply(fix.target, fix.settings)``, never restated here), scan again,
see the finding gone, and see the site still serve (``assert_http_ok``: 200 with a body; a TLS
handshake first on TLS ports). Changes an entry lists under ``not_fixes`` with settings must
leave the finding.

Servers (one each per module, reset between cases): nginx with one TLS server
(``NginxServer``) for the cipher entries; the lab web site (``WebNginxServer``: static files
on TLS 443 and plain 80, ``/app/`` proxied to a backend that sets a flag-less ``PHPSESSID``)
for the HTTP entries; the same site with ``index.php`` run by Debian's php-fpm
(``PhpNginxServer``, target ``php-ini``) for the PHP entries.

Liberties taken with the entries, all in the harness and none in what is applied:

- a DH parameter path in ``ssl_dhparam`` is the committed 2048-bit fixture (the entry's own
  ``openssl dhparam 2048`` takes minutes), as in tests/proof/test_proof.py;
- an empty value means "delete the directive" (docs/knowledge-format.md);
- ADV-3017: on loopback the address nginx puts in a Host-less redirect is 127.0.0.1, the
  scanned address itself, which http-internal-ip-disclosure ignores. The vulnerable state is
  made with ``server_name_in_redirect on`` and a private address as the server name (a real
  misconfiguration of internal servers); ``absolute_redirect off`` removes the host from every
  redirect nginx makes, whichever name it would have used.

PHP (ADV-3005, 3006, 3109, target ``php-ini``): on a port nmap identified as nginx, advisor
offers nginx's fixes first and then those of the application behind it (PHP's); the PHP proofs
check that PHP's fix is offered and that it removes the finding.

Certificates (ADV-1017, 1050-1053): the nginx fix (``ssl_certificate`` and
``ssl_certificate_key`` at the new files) is applied to nginx with the paths of a new
certificate from a throwaway test CA in place of Let's Encrypt's ``/etc/letsencrypt/live/HOST/``
ones (a liberty of the same kind as the DH file). The generic fixes are procedures ("get a
certificate from a CA", "a new 2048-bit key"), so they have no ``settings``. They are proven
on stunnel4, a TLS front for the web site that depends on nothing but the certificate files:
the vulnerable certificate (expired, self-signed, RSA-1024, SHA-1, an RFC 1918 address in the
SAN) comes from a throwaway test CA (tests/lab/certs.py); the fix's procedure is carried out by
the harness, a new RSA-2048 SHA-256 certificate for the host name only, from that CA, valid
now; then nmap no longer reports the entry and a client that trusts the CA and checks the
host name gets the page over HTTPS. A public CA is replaced by the test CA: what the scanner and
the client check (dates, issuer, key, signature, names) is the same.

Not provable here: ADV-3026 (nginx 1.22 does not extend ``client_header_timeout`` when more
header lines arrive, so http-slowloris-check never reports it, even with the 60 s defaults)
and ADV-1055 (ssl-cert-intaddr's portrule skips private targets, and 127.0.0.1 is one).
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor.advise.advice import Advice
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase, Verdict
from advisor.kb.schema import Entry, Fix
from advisor.kb.versions import parse_version
from tests.lab.certs import LabCA
from tests.lab.common import LOOPBACK, dh_fixture, make_lab_dir, run, skip_unless_available
from tests.lab.nmap import run_nmap
from tests.lab.servers import NginxServer
from tests.lab.servers_http import WebNginxServer, dav_ext_available
from tests.lab.servers_php import PhpNginxServer, php_fpm_binary
from tests.lab.servers_tls import StunnelServer
from tests.lab.serves import assert_http_ok, http_fetch
from tests.lab.tls import Certificate, handshake, make_self_signed_cert
from tests.proof.conftest import ProofLog, Row

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()
_PEM = re.compile(r"/\S+\.pem")
DHE_CIPHERS = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"
#: A private address used as server name for ADV-3017 (never contacted).
PRIVATE_NAME = "10.20.30.40"


def _entry(entry_id: str) -> Entry:
    entry = KB.get(entry_id)
    assert entry is not None, entry_id
    return entry


def _flagged(xml: Path, entry_id: str) -> set[int]:
    """Ports on which ``advisor explain`` reports ``entry_id`` (matched)."""
    got: list[Advice] = []
    with xml.open("rb") as fh:
        explain(fh, KB, Options(on_advice=got.append, guess_os=False))
    return {
        a.finding.location.port
        for a in got
        if a.entry is not None
        and a.entry.id == entry_id
        and a.verdict is Verdict.MATCHED
        and a.finding.location.port is not None
    }


def _offered(xml: Path, entry_id: str) -> set[str]:
    got: list[Advice] = []
    with xml.open("rb") as fh:
        explain(fh, KB, Options(on_advice=got.append, guess_os=False))
    return {
        c.fix.software
        for a in got
        if a.entry is not None and a.entry.id == entry_id and a.verdict is Verdict.MATCHED
        for c in a.fixes
    }


def _fixes(entry: Entry, software: str, version: tuple[int, ...]) -> list[Fix]:
    return [
        f
        for f in entry.fixes
        if f.software == software
        and f.settings
        and f.target != "none"
        and f.versions.contains(version)
    ]


def _settings(settings: tuple[tuple[str, str], ...]) -> dict[str, str | None]:
    """The entry's settings; "" deletes a directive; a DH file is the 2048-bit fixture."""
    dh2048 = str(dh_fixture("dh2048.pem"))
    return {k: None if v == "" else _PEM.sub(dh2048, v) for k, v in settings}


def _nginx_version() -> str:
    return run(["nginx", "-v"]).stderr.split("/")[-1].strip()


def _php_version() -> str:
    fpm = php_fpm_binary()
    assert fpm is not None
    out = run([fpm, "-v"]).stdout
    found = re.search(r"PHP (\d+\.\d+\.\d+)", out)
    assert found, out
    return found.group(1)


# -- servers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Path, Certificate]]:
    skip_unless_available("nmap", "openssl", "nginx", root=True)
    root = make_lab_dir("advisor-web-proof-")
    yield root, make_self_signed_cert(root / "cert")


@pytest.fixture(scope="module")
def tls_nginx(lab: tuple[Path, Certificate]) -> Iterator[NginxServer]:
    root, cert = lab
    with NginxServer(root / "nginx-tls", cert) as server:
        yield server


def _populate(site: WebNginxServer) -> None:
    """Directories the scripts need: /files/ without an index (http-ls), /images/ (a
    directory nginx redirects to with a trailing slash: http-internal-ip-disclosure)."""
    for sub, name, text in (("files", "notes.txt", "lab file\n"), ("images", "index.html", "i\n")):
        d = site.docroot / sub
        d.mkdir(exist_ok=True)
        (d / name).write_text(text)
        d.chmod(0o777)  # WebDAV (ADV-3102/3111) writes as the worker user
        (d / name).chmod(0o644)


@pytest.fixture(scope="module")
def web(lab: tuple[Path, Certificate]) -> Iterator[WebNginxServer]:
    root, cert = lab
    site = WebNginxServer(root / "web", cert)
    _populate(site)
    with site:
        yield site


@pytest.fixture(scope="module")
def ipweb(lab: tuple[Path, Certificate]) -> Iterator[WebNginxServer]:
    root, cert = lab
    named = Certificate(cert.cert, cert.key, PRIVATE_NAME)
    site = WebNginxServer(root / "web-ipname", named)
    _populate(site)
    with site:
        yield site


@pytest.fixture(scope="module")
def php(lab: tuple[Path, Certificate]) -> Iterator[PhpNginxServer]:
    if php_fpm_binary() is None:
        pytest.skip("php-fpm is not installed (Debian: php8.2-fpm)")
    root, cert = lab
    with PhpNginxServer(root / "php", cert) as site:
        yield site


# -- nginx: cipher suites and DH ------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    entry: str
    software: str
    server: str
    """Fixture name of the server."""
    logical: int
    script: str
    vulnerable: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """target -> settings that make the server vulnerable."""
    args: tuple[str, ...] = ()
    """--script-args."""
    sv: bool = False
    """-sV: for scripts whose portrule wants the service name "http" (with tunnel "ssl")."""


#: Anonymous suites: ADH needs DH parameters (nginx 1.11+ has none by default).
ANON = {
    "nginx-server": {
        "ssl_ciphers": "ALL:@SECLEVEL=0",
        "ssl_dhparam": str(dh_fixture("dh2048.pem")),
    }
}
TLS_CASES = [
    Case("ADV-1001", "nginx", "tls_nginx", 443, "ssl-dh-params", ANON),
    Case("ADV-1016", "nginx", "tls_nginx", 443, "ssl-enum-ciphers", ANON),
    Case(
        "ADV-1019",
        "nginx",
        "tls_nginx",
        443,
        "ssl-enum-ciphers",
        {
            "nginx-server": {
                "ssl_dhparam": str(dh_fixture("dh1024.pem")),
                "ssl_ciphers": DHE_CIPHERS,
            }
        },
    ),
    Case(
        "ADV-1020",
        "nginx",
        "tls_nginx",
        443,
        "ssl-enum-ciphers",
        {
            "nginx-server": {
                "ssl_protocols": "TLSv1.2",
                "ssl_ciphers": "AES128-GCM-SHA256:AES256-GCM-SHA384",
            }
        },
    ),
    # Anonymous suites cap ssl-enum-ciphers' grade at F.
    Case("ADV-1021", "nginx", "tls_nginx", 443, "ssl-enum-ciphers", ANON),
]

DAV = {"dav_methods": "PUT DELETE MKCOL COPY MOVE", "dav_ext_methods": "PROPFIND OPTIONS"}
HTTP_CASES = [
    # http-cookie-flags checks "/" and the given path; /app/ is the proxied application.
    *(
        Case(e, "nginx", "web", 443, "http-cookie-flags", {}, ("http-cookie-flags.path=/app/",))
        for e in ("ADV-3005", "ADV-3006")
    ),
    Case(
        "ADV-3017",
        "nginx",
        "ipweb",
        80,
        "http-internal-ip-disclosure",
        {"nginx-server": {"server_name_in_redirect": "on"}},
    ),
    Case("ADV-3036", "nginx", "web", 80, "http-vuln-cve2011-3192"),
    # http-security-headers runs on 80/443 or service "http": with a lab port, -sV names it.
    Case("ADV-3100", "nginx", "web", 443, "http-security-headers", sv=True),
    Case("ADV-3102", "nginx", "web", 80, "http-methods", {"nginx-server": DAV}),
    Case("ADV-3103", "nginx", "web", 80, "http-headers"),
    Case("ADV-3111", "nginx", "web", 80, "http-webdav-scan", {"nginx-server": DAV}),
    Case(
        "ADV-3113",
        "nginx",
        "web",
        80,
        "http-ls",
        {"nginx-server": {"autoindex": "on"}},
        ("http-ls.url=/files/",),
    ),
]
PHP_CASES = [
    Case("ADV-3005", "php", "php", 443, "http-cookie-flags"),
    Case("ADV-3006", "php", "php", 443, "http-cookie-flags"),
    Case("ADV-3109", "php", "php", 80, "http-php-version"),
    Case("ADV-3109", "nginx", "php", 80, "http-php-version"),
]


def _logical(xml: Path, actual: int, logical: int) -> Path:
    """The scan with the lab port renamed to the standard one (443, 80), so advisor sees
    the port as a real server would show it (and offers that server's fixes)."""
    out = xml.with_name(xml.stem + "-logical.xml")
    out.write_text(xml.read_text().replace(f'portid="{actual}"', f'portid="{logical}"'))
    return out


def _scan(server: NginxServer, case: Case, name: str, tmp: Path) -> Path:
    extra = ["--script-args", ",".join(case.args)] if case.args else []
    port = server.port(case.logical)
    xml = run_nmap(
        port,
        case.script,
        tmp / f"{name}.xml",
        servicedb=server.servicedb(),
        extra_args=extra,
        version_detection=case.sv,
    ).xml
    return _logical(xml, port, case.logical)


def _vulnerable(server: NginxServer, case: Case) -> None:
    server.reset()
    for target, settings in case.vulnerable.items():
        server.apply(target, dict(settings), restart=False)  # type: ignore[arg-type]
    server.restart()


def _apply(server: NginxServer, target: str, settings: Mapping[str, str | None]) -> None:
    server.apply(target, settings, restart=False)  # type: ignore[arg-type]
    server.restart()


def _serves(server: NginxServer, logical: int) -> None:
    tls = logical == 443
    port = server.port(logical)
    if tls:
        hs = handshake(port)
        assert hs.ok, f"TLS broke on {logical}: {hs.output[-500:]}"
    assert_http_ok(port, tls=tls, host_header=server.cert.hostname)


def _prove(
    case: Case, server: NginxServer, version: str, tmp: Path, proof_log: ProofLog
) -> list[Fix]:
    entry = _entry(case.entry)
    port = case.logical
    _vulnerable(server, case)
    before = _scan(server, case, "before", tmp)
    assert port in _flagged(before, entry.id), f"{entry.id}: vulnerable state not reported"
    assert case.software in _offered(before, entry.id), f"{entry.id}: no {case.software} fix"

    fixes = _fixes(entry, case.software, parse_version(version) or ())
    assert fixes, f"{entry.id} has no {case.software} fix with settings for {version}"
    for fix in fixes:
        _vulnerable(server, case)
        _apply(server, fix.target, _settings(fix.settings))
        after = _scan(server, case, f"fix-{entry.fixes.index(fix)}", tmp)
        assert port not in _flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        _serves(server, case.logical)
        proof_log.add(
            Row(
                entry.id,
                case.software,
                version,
                fix.title,
                (case.logical,),
                "proven",
                f"nmap {case.script} reported it before and not after; the site still serves "
                "(HTTP 200 with a body)",
            )
        )

    for nf in entry.not_fixes:
        if nf.software != case.software or not nf.settings or nf.target == "none":
            continue
        _vulnerable(server, case)
        _apply(server, nf.target, _settings(nf.settings))
        after = _scan(server, case, f"notfix-{entry.not_fixes.index(nf)}", tmp)
        assert port in _flagged(after, entry.id), f"{nf.change!r} removed the finding"
        proof_log.add(
            Row(
                entry.id,
                case.software,
                version,
                nf.change,
                (case.logical,),
                "not a fix",
                "nmap still reports the finding after this change, as the entry says",
            )
        )
    server.reset()
    return fixes


@pytest.mark.parametrize("case", TLS_CASES, ids=lambda c: c.entry)
def test_nginx_tls_fix(
    case: Case, request: pytest.FixtureRequest, tmp_path: Path, proof_log: ProofLog
) -> None:
    server: NginxServer = request.getfixturevalue(case.server)
    _prove(case, server, _nginx_version(), tmp_path, proof_log)


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda c: c.entry)
def test_nginx_web_fix(
    case: Case, request: pytest.FixtureRequest, tmp_path: Path, proof_log: ProofLog
) -> None:
    if "dav_ext_methods" in case.vulnerable.get("nginx-server", {}) and not dav_ext_available():
        pytest.skip("libnginx-mod-http-dav-ext is not installed")
    server: WebNginxServer = request.getfixturevalue(case.server)
    fixes = _prove(case, server, _nginx_version(), tmp_path, proof_log)
    if case.script == "http-cookie-flags":
        # the proxied application's cookie now carries the flags the fixes add
        for fix in fixes:
            _vulnerable(server, case)
            _apply(server, fix.target, _settings(fix.settings))
            _, headers, body = server.fetch(443, "/app/")
            assert body
            cookie = headers.get("set-cookie", "").lower()
            assert "httponly" in cookie and "secure" in cookie, cookie
        server.reset()


@pytest.mark.parametrize("case", PHP_CASES, ids=lambda c: f"{c.entry}-{c.software}")
def test_php_fix(case: Case, php: PhpNginxServer, tmp_path: Path, proof_log: ProofLog) -> None:
    version = _php_version() if case.software == "php" else _nginx_version()
    _prove(case, php, version, tmp_path, proof_log)
    # still a PHP page with a working session
    status, headers, body = php.fetch(443, "/")
    assert status == 200 and body == b"lab php\n"
    assert "PHPSESSID=" in headers.get("set-cookie", "")


# -- certificates (generic) -----------------------------------------------------------------------


@dataclass(frozen=True)
class CertCase:
    entry: str
    script: str
    bad: Mapping[str, object]
    """LabCA.issue keyword arguments; ``{"self_signed": True}`` for a self-signed one."""


CERT_CASES = [
    CertCase("ADV-1050", "ssl-cert", {"not_before": -400, "not_after": -35}),
    CertCase("ADV-1051", "ssl-cert", {"self_signed": True}),
    CertCase("ADV-1052", "ssl-cert", {"bits": 1024}),
    CertCase("ADV-1053", "ssl-cert", {"digest": "sha1"}),
    CertCase("ADV-1017", "ssl-enum-ciphers", {"digest": "sha1"}),
]


@pytest.fixture(scope="module")
def ca(lab: tuple[Path, Certificate]) -> LabCA:
    return LabCA(lab[0] / "ca")


@pytest.fixture(scope="module")
def cert_lab(
    lab: tuple[Path, Certificate], web: WebNginxServer, ca: LabCA
) -> Iterator[tuple[LabCA, StunnelServer]]:
    skip_unless_available("stunnel4")
    root, cert = lab
    with StunnelServer(root / "stunnel", cert, backend_port=web.port(80)) as front:
        yield ca, front


def _bad_cert(ca: LabCA, case: CertCase, name: str) -> Certificate:
    bad_args = dict(case.bad)
    if bad_args.pop("self_signed", False):
        return ca.self_signed(name)
    return ca.issue(name, **bad_args)  # type: ignore[arg-type]


def _verified_get(port: int, ca: LabCA, hostname: str) -> str:
    """GET / over TLS with a client that trusts only the test CA and checks the name."""
    ctx = ssl.create_default_context(cafile=str(ca.cert))
    with (
        socket.create_connection((LOOPBACK, port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.0\r\nHost: {hostname}\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    return data.decode(errors="replace")


def _stunnel_version() -> str:
    out = run(["stunnel4", "-version"], check=False)
    found = re.search(r"stunnel (\d+\.\d+)", out.stdout + out.stderr)
    return found.group(1) if found else "?"


@pytest.mark.parametrize("case", CERT_CASES, ids=lambda c: c.entry)
def test_generic_certificate_fix(
    case: CertCase,
    cert_lab: tuple[LabCA, StunnelServer],
    tmp_path: Path,
    proof_log: ProofLog,
) -> None:
    ca, front = cert_lab
    entry = _entry(case.entry)
    generic = [f for f in entry.fixes if f.software == "generic"]
    assert generic, f"{entry.id} has no generic fix"
    name = entry.id.lower()
    bad = _bad_cert(ca, case, f"{name}-bad")
    port = front.port(443)

    def scan(label: str) -> Path:
        xml = run_nmap(port, case.script, tmp_path / f"{label}.xml", servicedb=front.servicedb())
        return _logical(xml.xml, port, 443)

    front.apply("stunnel", {"cert": str(bad.cert), "key": str(bad.key)})
    before = scan("before")
    assert 443 in _flagged(before, entry.id), f"{entry.id}: the bad certificate is not reported"
    assert "generic" in _offered(before, entry.id)

    # The fix's procedure: a new RSA-2048 key, a SHA-256 certificate for the host name only,
    # issued by a CA, valid now; installed in place of the old one.
    good = ca.issue(f"{name}-good")
    front.apply("stunnel", {"cert": str(good.cert), "key": str(good.key)})
    after = scan("after")
    assert 443 not in _flagged(after, entry.id), f"{entry.id} still reported with the new cert"
    reply = _verified_get(port, ca, good.hostname)
    assert reply.startswith("HTTP/1.1 200") and "lab site" in reply, reply[:300]
    # and the plain client check of the other proofs
    status, _, body = http_fetch(port, tls=True)
    assert status == 200 and body
    for fix in generic:
        proof_log.add(
            Row(
                entry.id,
                "generic",
                f"stunnel {_stunnel_version()}",
                fix.title,
                (443,),
                "proven",
                f"nmap {case.script} reported the test CA's bad certificate and not the new "
                "RSA-2048/SHA-256 one; a client trusting the CA fetched the page",
            )
        )
    front.reset()


#: The bad certificates need OpenSSL's level 0 in nginx too (RSA-1024, SHA-1).
LEVEL0 = {"ssl_ciphers": "HIGH:!aNULL:@SECLEVEL=0"}


def _new_files(settings: tuple[tuple[str, str], ...], good: Certificate) -> dict[str, str]:
    """The entry's nginx settings with its Let's Encrypt paths (``.../HOST/fullchain.pem``,
    ``privkey.pem``) pointing at the new certificate and key from the test CA."""
    out = {}
    for name, value in settings:
        if value.endswith("fullchain.pem"):
            value = str(good.cert)
        elif value.endswith("privkey.pem"):
            value = str(good.key)
        out[name] = value
    return out


@pytest.mark.parametrize("case", CERT_CASES, ids=lambda c: c.entry)
def test_nginx_certificate_fix(
    case: CertCase,
    tls_nginx: NginxServer,
    ca: LabCA,
    tmp_path: Path,
    proof_log: ProofLog,
) -> None:
    """The entries' nginx fix (``ssl_certificate`` / ``ssl_certificate_key`` at the new
    files), applied with the paths of the test CA's new certificate in place of Let's
    Encrypt's (the one liberty, as the DH file in the other proofs)."""
    entry = _entry(case.entry)
    version = _nginx_version()
    fixes = _fixes(entry, "nginx", parse_version(version) or ())
    assert fixes, f"{entry.id} has no nginx fix with settings"
    name = f"{entry.id.lower()}-nginx"
    bad = _bad_cert(ca, case, f"{name}-bad")
    good = ca.issue(f"{name}-good")
    port = tls_nginx.port(443)

    def scan(label: str) -> Path:
        run = run_nmap(
            port, case.script, tmp_path / f"{label}.xml", servicedb=tls_nginx.servicedb()
        )
        return _logical(run.xml, port, 443)

    for fix in fixes:
        tls_nginx.reset()
        tls_nginx.apply(
            "nginx-server",
            {"ssl_certificate": str(bad.cert), "ssl_certificate_key": str(bad.key), **LEVEL0},
        )
        before = scan("before")
        assert 443 in _flagged(before, entry.id), f"{entry.id}: bad certificate not reported"
        assert "nginx" in _offered(before, entry.id)
        _apply(tls_nginx, fix.target, _new_files(fix.settings, good))
        after = scan("after")
        assert 443 not in _flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        reply = _verified_get(port, ca, good.hostname)
        assert reply.startswith("HTTP/1.1 200") and reply.endswith("lab\n"), reply[-300:]
        _serves(tls_nginx, 443)
        proof_log.add(
            Row(
                entry.id,
                "nginx",
                version,
                fix.title,
                (443,),
                "proven",
                f"nmap {case.script} reported the bad certificate and not the new one from a "
                "test CA; a client trusting that CA fetched the page",
            )
        )
    tls_nginx.reset()
