"""Proofs for the Apache httpd fixes: Debian 12's apache2 on 127.0.0.1, real nmap.

Each case puts one :class:`~tests.lab.servers_apache.ApacheServer` (started once for the
module) into a vulnerable configuration, scans it with one narrow nmap script and checks that
``advisor explain`` reports the entry with Apache fixes; then, for every Apache fix of the entry
whose version range holds the installed Apache, it goes back to the vulnerable configuration,
applies the fix's ``settings`` exactly as the entry states them (``server.apply("apache", ...)``,
never restated here), scans again, sees the finding gone, and checks that the site still
serves (``GET /`` gives 200 with a body on every scanned port). Changes the entries list under
``not_fixes`` with Apache settings must leave the finding.

The one liberty taken with an entry's settings is the one tests/proof/test_proof.py takes: a DH
parameter file path (``*.pem``) points at the committed fixture of the same kind
(tests/lab/fixtures/dh2048.pem), because ``openssl dhparam 2048`` takes minutes.

Scans see the lab's actual ports rewritten to the logical ones (443, 80), as a real server
would show them. One scan per state, one script, the case's ports only (the whole file takes
about four minutes; the Slowloris case alone about 100 s).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.kb.schema import Entry, Fix, NotFix
from advisor.kb.versions import parse_version
from tests.lab.common import LOOPBACK, dh_fixture, make_lab_dir, run, skip_unless_available
from tests.lab.nmap import run_nmap, write_datadir
from tests.lab.servers_apache import ApacheServer, Context, apache_available
from tests.lab.serves import assert_http_ok
from tests.lab.tls import Certificate, make_self_signed_cert
from tests.proof.conftest import ProofLog, Row
from tests.proof.harness import flagged_ports

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()
SERVICE_PROBES = Path("/usr/share/nmap/nmap-service-probes")
_PEM = re.compile(r"(/\S+?\.pem)")

DHE_CIPHERS = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"
#: DHE only (OpenSSL 3 accepts a 1024-bit or DSA-style group only at security level 0).
DHE_ONLY: tuple[tuple[Context, tuple[str, ...]], ...] = (
    ("vhost443", (f"SSLCipherSuite {DHE_CIPHERS}",)),
)


@dataclass(frozen=True)
class ApacheCase:
    entry: str
    script: str
    ports: tuple[int, ...]
    """Logical ports to scan (443 TLS, 80 plain)."""
    vulnerable: tuple[tuple[Context, tuple[str, ...]], ...] = ()
    """Raw configuration lines that make the site vulnerable (empty: Debian's defaults do).
    ``{dh1024}``-style names are the committed DH fixtures; ``{backend}`` the application
    stand-in's ``127.0.0.1:PORT``; ``{root}`` the server's directory."""
    script_args: str = ""
    services: Mapping[int, str] = field(default_factory=dict)
    """nmap service names for logical ports, where a script needs another than http/https."""
    version_detection: bool = False
    """``-sV``: http-security-headers runs on service "http" only (TLS found by -sV)."""
    dh_in_cert: str = ""
    """A DH fixture appended to the SSLCertificateFile (mod_ssl reads DH parameters there)."""
    serves: tuple[int, ...] = ()
    """Logical ports that must still serve ``GET /`` after the fix (default: the scanned ones)."""


#: Everything proxied to the application stand-in (its headers are the application's).
PROXIED: tuple[tuple[Context, tuple[str, ...]], ...] = (
    ("vhost", ("ProxyPass / http://{backend}/", "ProxyPassReverse / http://{backend}/")),
)

CASES = [
    # -- TLS -------------------------------------------------------------------------------
    # mod_ssl with OpenSSL 1.1+ picks the DH group itself (sized to the certificate key) unless
    # the SSLCertificateFile holds DH parameters: the way a weak group gets in on 2.4.
    ApacheCase("ADV-1002", "ssl-dh-params", (443,), DHE_ONLY, dh_in_cert="dh1024.pem"),
    ApacheCase("ADV-1003", "ssl-dh-params", (443,), DHE_ONLY, dh_in_cert="dh2048-dsa.pem"),
    ApacheCase("ADV-1019", "ssl-enum-ciphers", (443,), DHE_ONLY, dh_in_cert="dh1024.pem"),
    ApacheCase(
        "ADV-1020",
        "ssl-enum-ciphers",
        (443,),
        (
            (
                "vhost443",
                ("SSLProtocol -all +TLSv1.2", "SSLCipherSuite AES128-GCM-SHA256:AES256-GCM-SHA384"),
            ),
        ),
    ),
    # TLS 1.0/1.1: OpenSSL 3 negotiates them only at security level 0.
    *(
        ApacheCase(
            entry,
            "ssl-enum-ciphers",
            (443,),
            (("vhost443", ("SSLProtocol all", "SSLCipherSuite HIGH:!aNULL:!MD5:@SECLEVEL=0")),),
        )
        for entry in ("ADV-1032", "ADV-1033")
    ),
    # -- HTTP ------------------------------------------------------------------------------
    # Without a Host header Apache names itself by ServerName; 10.0.0.2 stands for the
    # address Apache falls back to when none is set (AH00558: "... using 10.0.0.2").
    ApacheCase(
        "ADV-3017",
        "http-internal-ip-disclosure",
        (80,),
        (("vhost80", ("ServerName 10.0.0.2",)),),
    ),
    # mod_reqtimeout's limits switched off; a short Timeout keeps the scan at ~25 s.
    ApacheCase(
        "ADV-3026",
        "http-slowloris-check",
        (80,),
        (("server", ("Timeout 15", "RequestReadTimeout header=0 body=0")),),
    ),
    ApacheCase("ADV-3030", "http-trace", (80,), (("server", ("TraceEnable On",)),)),
    ApacheCase("ADV-3100", "http-security-headers", (443,), version_detection=True),
    ApacheCase("ADV-3103", "http-headers", (80, 443)),
    ApacheCase(
        "ADV-3104",
        "http-open-proxy",
        (80,),
        (("vhost80", ("ProxyRequests On",)),),
        script_args="proxy.url=http://{backend}/,proxy.pattern=lab backend app",
        services={80: "http-proxy"},
    ),
    # The application behind a reverse proxy sends X-Powered-By and a flag-less PHPSESSID.
    ApacheCase("ADV-3109", "http-php-version", (80,), PROXIED),
    ApacheCase("ADV-3005", "http-cookie-flags", (80,), PROXIED, "http-cookie-flags.path=/"),
    ApacheCase("ADV-3014", "http-git", (80,)),
    ApacheCase("ADV-3101", "http-security-headers", (443,), version_detection=True),
    ApacheCase("ADV-3113", "http-ls", (80,), script_args="http-ls.url=/files/"),
    # mod_dir answers for "/" (index.html): WebDAV shows on a folder without an index.
    ApacheCase(
        "ADV-3111",
        "http-webdav-scan",
        (80,),
        (("directory", ("Dav On",)),),
        script_args="http-webdav-scan.path=/files/",
    ),
    # Basic authentication for /private/ on both ports; the fix redirects port 80 to HTTPS,
    # so the site still serves on 443.
    ApacheCase(
        "ADV-3106",
        "http-auth",
        (80,),
        (
            (
                "vhost",
                (
                    "<Location /private/>",
                    "    AuthType Basic",
                    '    AuthName "lab"',
                    "    AuthUserFile {root}/htpasswd",
                    "    Require valid-user",
                    "</Location>",
                ),
            ),
        ),
        script_args="http-auth.path=/private/",
        serves=(443,),
    ),
    ApacheCase(
        "ADV-3114", "http-apache-negotiation", (80,), (("directory", ("Options +MultiViews",)),)
    ),
    ApacheCase(
        "ADV-3115",
        "http-userdir-enum",
        (80,),
        (("server", ("UserDir {root}/homes/*/public_html",)),),
    ),
]


def _dh_files() -> dict[str, str]:
    return {
        "{dh1024}": str(dh_fixture("dh1024.pem")),
        "{dh2048}": str(dh_fixture("dh2048.pem")),
        "{dh2048_dsa}": str(dh_fixture("dh2048-dsa.pem")),
    }


def _fill(line: str) -> str:
    for name, path in _dh_files().items():
        line = line.replace(name, path)
    return line


def _entry_settings(settings: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The entry's settings, DH parameter file paths pointing at the fixture."""
    dh2048 = _dh_files()["{dh2048}"]
    return {k: _PEM.sub(dh2048, v) for k, v in settings}


@pytest.fixture(scope="module")
def apache() -> Iterator[ApacheServer]:
    skip_unless_available("apache2", "nmap", "openssl", root=True)
    if not apache_available():
        pytest.skip("apache2's modules are missing (Debian package 'apache2')")
    root = make_lab_dir("advisor-apache-")
    cert: Certificate = make_self_signed_cert(root / "cert")
    with ApacheServer(root / "apache", cert) as server:
        yield server


def _version() -> str:
    out = run(["apache2", "-v"]).stdout
    found = re.search(r"Apache/(\d+(?:\.\d+)+)", out)
    assert found, out
    return found.group(1)


def _datadir(services: Mapping[int, str], tls_port: int, directory: Path) -> Path:
    """An nmap ``--datadir`` naming the lab ports (:func:`write_datadir`) whose
    nmap-service-probes tries its TLS probes first on ``tls_port``, as it does on 443: without
    that ``-sV`` takes the TLS port for plain HTTP (Apache 2.4.71's "speaking plain HTTP to an
    SSL-enabled server port" page is not in nmap 7.93's ssl/http match)."""
    write_datadir(directory, services)
    lines = SERVICE_PROBES.read_text(errors="replace").splitlines(keepends=True)
    probe = ""
    for i, line in enumerate(lines):
        if line.startswith("Probe "):
            probe = line.split()[2]
        elif probe in ("SSLSessionReq", "TLSSessionReq") and line.startswith("ports "):
            lines[i] = f"{line.rstrip()},{tls_port}\n"
    (directory / "nmap-service-probes").write_text("".join(lines))
    return directory


def _scan(server: ApacheServer, case: ApacheCase, name: str, tmp: Path) -> Path:
    ports = [server.port(p) for p in case.ports]
    services = server.servicedb()
    for logical, service in case.services.items():
        services[server.port(logical)] = service
    args = case.script_args.replace("{backend}", f"{LOOPBACK}:{server.backend_port}")
    extra = ["--datadir", str(_datadir(services, server.port(443), tmp / f"{name}.nmapdata"))]
    if args:
        extra += ["--script-args", args]
    result = run_nmap(
        ports,
        case.script,
        tmp / f"{name}.xml",
        extra_args=extra,
        version_detection=case.version_detection,
    )
    text = result.xml.read_text()
    for logical in case.ports:
        text = text.replace(f'portid="{server.port(logical)}"', f'portid="{logical}"')
    out = tmp / f"{name}-logical.xml"
    out.write_text(text)
    return out


def _vulnerable(server: ApacheServer, case: ApacheCase) -> None:
    server.reset()
    if case.dh_in_cert:
        server.append_to_certificate(dh_fixture(case.dh_in_cert))
    for context, lines in case.vulnerable:
        server.add_lines(context, [_fill(line) for line in lines])
    server.restart()


def _serves(server: ApacheServer, case: ApacheCase, what: str) -> None:
    for logical in case.serves or case.ports:
        try:
            assert_http_ok(
                server.port(logical), tls=logical == 443, host_header=server.cert.hostname
            )
        except AssertionError as exc:
            raise AssertionError(f"{what}: the site no longer serves on {logical}: {exc}") from exc


def _vhost(ports: tuple[int, ...]) -> int | None:
    """The one virtual host a change is for (``ports = [80]``), or None for all of them."""
    return ports[0] if len(ports) == 1 and ports[0] in (80, 443) else None


def _apache_changes(entry: Entry, version: tuple[int, ...]) -> tuple[list[Fix], list[NotFix]]:
    fixes = [
        f
        for f in entry.fixes
        if f.software == "apache"
        and f.settings
        and f.target == "apache"
        and f.versions.contains(version)
    ]
    not_fixes = [
        nf
        for nf in entry.not_fixes
        if nf.software == "apache"
        and nf.settings
        and nf.target == "apache"
        and nf.versions.contains(version)
    ]
    return fixes, not_fixes


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.entry}-{c.script}")
def test_apache_fix_is_proven(
    case: ApacheCase, apache: ApacheServer, tmp_path: Path, proof_log: ProofLog
) -> None:
    entry = KB.get(case.entry)
    assert entry is not None, case.entry
    version_text = _version()
    fixes, not_fixes = _apache_changes(entry, parse_version(version_text) or ())
    assert fixes, f"{case.entry} has no Apache fix with settings for Apache {version_text}"

    _vulnerable(apache, case)
    before = flagged_ports(_scan(apache, case, "before", tmp_path), case.entry)
    assert set(before) == set(case.ports), (
        f"vulnerable config not reported on every port: {sorted(before)}"
    )
    for port, advice in before.items():
        offered = {c.fix.software for c in advice.fixes}
        assert "apache" in offered, f"port {port}: no Apache fix offered ({offered})"

    try:
        for fix in fixes:
            ports = tuple(p for p in case.ports if not fix.ports or p in fix.ports)
            if not ports:
                continue
            _vulnerable(apache, case)
            apache.apply("apache", _entry_settings(fix.settings), service=_vhost(fix.ports))
            name = f"fix-{entry.fixes.index(fix)}"
            after = flagged_ports(_scan(apache, case, name, tmp_path), case.entry)
            still = sorted(set(after) & set(ports))
            assert not still, f"fix {fix.title!r} left the finding on ports {still}"
            _serves(apache, case, f"fix {fix.title!r}")
            proof_log.add(
                Row(
                    case.entry,
                    "apache",
                    version_text,
                    fix.title,
                    ports,
                    "proven",
                    f"nmap {case.script} reported it before and not after; "
                    "GET / still 200 with a body",
                )
            )
        for nf in not_fixes:
            ports = tuple(p for p in case.ports if not nf.ports or p in nf.ports)
            _vulnerable(apache, case)
            apache.apply("apache", _entry_settings(nf.settings), service=_vhost(nf.ports))
            name = f"notfix-{entry.not_fixes.index(nf)}"
            after = flagged_ports(_scan(apache, case, name, tmp_path), case.entry)
            assert set(ports) <= set(after), (
                f"{nf.change!r} is listed as not a fix, but removed the finding"
            )
            proof_log.add(
                Row(
                    case.entry,
                    "apache",
                    version_text,
                    nf.change,
                    ports,
                    "not a fix",
                    "nmap still reports the finding after this change, as the entry says",
                )
            )
    finally:
        apache.reset()
