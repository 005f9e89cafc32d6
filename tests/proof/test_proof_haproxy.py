"""Proof suite for the HAProxy fixes: a real HAProxy 2.6 TLS frontend on 127.0.0.1 in front of a
local HTTP backend (tests/lab/servers_haproxy.py), real nmap.

For each case: start HAProxy in the vulnerable configuration, scan it, check that ``advisor
explain`` reports the entry; then apply each of the entry's HAProxy fixes whose ``settings``
hold for the installed version, exactly as the entry states them (targets ``haproxy-global``,
``haproxy-defaults``, ``haproxy-frontend``), scan again: the finding must be gone, and a normal HTTPS client must still
get the backend's page (HTTP 200) through the proxy. Results go to the proof log.

The lab's one liberty: Debian 12's OpenSSL refuses a 1024-bit DH group at its default security
level 2 (HAProxy then logs "unable to load default 1024 bits DH parameter" and offers no DHE
at all), so HAProxy runs, before and after the fix alike, with an OpenSSL configuration at
security level 0 (``OPENSSL_CONF``), the state of systems whose OpenSSL still accepts such
groups. The fix's effect is what changes between the two scans. For the HSTS case only, the
lab also turns on ``h1-case-adjust`` (HAProxy sends header names in lower case, and nmap -sV
then does not recognise the HTTP server behind it; see the case's comment).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.kb.versions import parse_version
from tests.lab.common import make_lab_dir, skip_unless_available
from tests.lab.nmap import run_nmap
from tests.lab.servers_haproxy import BACKEND_TEXT, HAPROXY_TARGETS, HaproxyServer
from tests.lab.serves import http_fetch
from tests.lab.tls import Certificate, make_self_signed_cert
from tests.proof.conftest import ProofLog, Row, debian_version
from tests.proof.harness import flagged

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()

#: OpenSSL at security level 0 for the HAProxy process (see the module docstring).
SECLEVEL0_CNF = """\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT:@SECLEVEL=0
"""
DHE_ONLY = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"


@dataclass(frozen=True)
class Case:
    entry: str
    vulnerable: Mapping[str, Mapping[str, str]]
    """Target -> settings that make HAProxy show the finding."""
    script: str
    version_detection: bool = False
    """``-sV``: http-security-headers runs on a port named ``http`` (or 443) and reports a
    missing HSTS only where it knows TLS is in use (``ssl`` tunnel), which needs -sV here."""


CASES = [
    # DHE only, TLS 1.2 at most (nmap's ssl-dh-params looks at TLS <= 1.2), a 1024-bit group.
    Case(
        "ADV-1002",
        {
            "haproxy-global": {
                "tune.ssl.default-dh-param": "1024",
                "ssl-default-bind-ciphers": DHE_ONLY,
                "ssl-default-bind-options": "ssl-max-ver TLSv1.2",
            }
        },
        "ssl-dh-params",
    ),
    # No timeout http-request: the header wait falls back to the idle timeout client, which
    # every trickled header line restarts. 12 s instead of Debian's 50 s keeps the scan short
    # (nmap's check needs the second connection to outlive the first by 10 s).
    Case("ADV-3026", {"haproxy-defaults": {"timeout client": "12s"}}, "http-slowloris-check"),
    # TLS 1.0 / 1.1 allowed again (HAProxy 2.6 defaults to ssl-min-ver TLSv1.2).
    *(
        Case(
            entry,
            {
                "haproxy-global": {
                    "ssl-default-bind-options": "ssl-min-ver TLSv1.0",
                    "ssl-default-bind-ciphers": "HIGH:!aNULL:!MD5:@SECLEVEL=0",
                }
            },
            "ssl-enum-ciphers",
        )
        for entry in ("ADV-1032", "ADV-1033")
    ),
    # HAProxy's defaults: no HSTS, and the backend's Server header (http.server's
    # "SimpleHTTP/0.6 Python/3.x") passed through.
    # No HSTS (HAProxy's default). HAProxy writes header names in lower case, which keeps
    # nmap -sV from recognising the backend; h1-case-adjust restores "Server:" so that -sV
    # names the port http over ssl, what http-security-headers needs to judge HSTS.
    Case(
        "ADV-3100",
        {
            "haproxy-global": {"h1-case-adjust": "server Server"},
            "haproxy-frontend": {"option": "h1-case-adjust-bogus-client"},
        },
        "http-security-headers",
        version_detection=True,
    ),
    Case("ADV-3103", {}, "http-server-header,http-headers"),
]


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Path, Certificate]]:
    skip_unless_available("haproxy", "nmap", "openssl")
    root = make_lab_dir("advisor-haproxy-")
    yield root, make_self_signed_cert(root / "cert")


def _scan(proxy: HaproxyServer, case: Case, out: Path) -> Path:
    """Scan the frontend; the XML names it port 443, as a real server shows it."""
    port = proxy.port(443)
    xml = run_nmap(
        port,
        case.script,
        out,
        servicedb=None if case.version_detection else proxy.servicedb(),
        version_detection=case.version_detection,
    ).xml
    logical = out.with_name(f"{out.stem}-443.xml")
    logical.write_text(xml.read_text().replace(f'portid="{port}"', 'portid="443"'))
    return logical


def _vulnerable(proxy: HaproxyServer, case: Case) -> None:
    proxy.reset()
    for target, settings in case.vulnerable.items():
        proxy.apply(target, settings, restart=False)
    proxy.restart()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.entry}-haproxy")
def test_haproxy_fix_is_proven(
    case: Case, lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    root, cert = lab
    entry = KB.get(case.entry)
    assert entry is not None
    version_text = debian_version("haproxy", {})
    assert version_text
    version = parse_version(version_text) or ()
    fixes = [
        f
        for f in entry.fixes
        if f.software == "haproxy" and f.settings and f.target in HAPROXY_TARGETS
        and f.versions.contains(version)
    ]  # fmt: skip
    assert fixes, f"{entry.id} has no HAProxy fix with settings for {version_text}"
    cnf = root / f"openssl-seclevel0-{entry.id}.cnf"
    cnf.write_text(SECLEVEL0_CNF)
    proxy = HaproxyServer(root / f"haproxy-{entry.id}", cert)
    proxy.extra_env = {"OPENSSL_CONF": str(cnf)}
    with proxy:
        for fix in fixes:
            _vulnerable(proxy, case)
            before = flagged(_scan(proxy, case, tmp_path / "before.xml"), entry.id)
            assert before, f"{entry.id}: the vulnerable HAProxy configuration is not reported"
            proxy.apply(fix.target, dict(fix.settings))
            n = entry.fixes.index(fix)
            after = flagged(_scan(proxy, case, tmp_path / f"fix-{n}.xml"), entry.id)
            assert not after, f"fix {fix.title!r} left the finding"
            status, headers, body = http_fetch(proxy.port(443), tls=True)
            assert (status, body.decode()) == (200, BACKEND_TEXT), "no page from the backend"
            if case.entry == "ADV-3100":
                assert headers.get("strict-transport-security", "").startswith("max-age=")
            if case.entry == "ADV-3103":
                assert "server" not in headers, headers
            proof_log.add(
                Row(entry.id, "haproxy", version_text, fix.title, (443,), "proven",
                    f"nmap {case.script} reported it before and not after; an HTTPS GET through "
                    "the proxy returned the backend's page (200)")
            )  # fmt: skip
