"""Proof suite: every fix a knowledge entry gives for software we can run here is applied, as
the entry states it, to a real server; nmap must stop reporting the finding, and the service
must still serve a normal client on every port (tests/lab/serves.py: a message delivered over
SMTP with STARTTLS or implicit TLS, an IMAP or POP3 login over TLS, an HTTPS page). Changes the
entries list as *not* fixing the finding must leave it.

For each case: start the server in a vulnerable configuration, scan it with nmap (-oX), check
that ``advisor explain`` reports the entry with fixes for that software; then for each fix of
that software whose version range holds the installed version: reset, apply the fix's
``settings`` (from the entry, never restated here), restart, scan again.

The one liberty taken with an entry's settings: a path to a DH parameter file (``*.pem``) is
replaced by the pre-generated fixture of the same kind (tests/lab/fixtures/dh2048.pem),
because the entry's own command (``openssl dhparam 2048``) takes minutes in CI; and Let's
Encrypt's ``/etc/letsencrypt/live/HOST/fullchain.pem`` / ``privkey.pem`` are replaced by a new
certificate and key from a throwaway test CA (tests/lab/certs.py, as the nginx proofs in
test_proof_nginx_web.py do).

Certificates (ADV-1017, 1050-1053, ``Case.cert``): the vulnerable state is the old
configuration pointing at a bad certificate from that CA (expired, self-signed, RSA-1024 or
SHA-1 signed: ``smtpd_tls_cert_file``/``smtpd_tls_key_file`` in Postfix, ``ssl_cert``/``ssl_key``
in Dovecot, with OpenSSL's security level 0 so the weak ones load at all); the fix points the
server at the new RSA-2048/SHA-256 certificate, valid now. In Postfix that is
``smtpd_tls_chain_files`` next to the old legacy settings, which postconf(5) says are then
ignored.

Results go to the session's proof log; ``ADVISOR_WRITE_PROOF=1`` writes them to
knowledge/proof-matrix.json (see tests/proof/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor.advise.advice import Advice
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase, Verdict
from advisor.kb.schema import Entry, Fix
from advisor.kb.versions import parse_version
from tests.lab.certs import LabCA
from tests.lab.common import dh_fixture
from tests.lab.nmap import run_nmap
from tests.lab.servers import LabServer
from tests.lab.serves import assert_http_ok, assert_mail_serves
from tests.lab.tls import Certificate, handshake
from tests.proof.conftest import ProofLog, Row

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()
_PEM = re.compile(r"(<?)(/\S+\.pem)")


@dataclass(frozen=True)
class Case:
    entry: str
    software: str
    vulnerable: Mapping[str, str]
    """Settings that make the server vulnerable (``{dh1024}`` style placeholders allowed)."""
    target: str
    ports: tuple[int, ...]
    """Logical ports to scan."""
    script: str = "ssl-dh-params"
    extra_fixes: tuple[str, ...] = field(default=())
    cert: Mapping[str, object] | None = None
    """The bad certificate (``LabCA.issue`` keyword arguments, ``{"self_signed": True}``):
    ``{bad_cert}`` / ``{bad_key}`` in ``vulnerable`` are its files."""


DHE_CIPHERS = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"
LEGACY = "HIGH:!aNULL:!MD5:@SECLEVEL=0"


CASES = [
    # Postfix offers anonymous DH by default (lab-notes: "none (defaults)" is vuln on every port).
    Case("ADV-1001", "postfix", {}, "postfix-main", (25, 465, 587)),
    # ssl_cipher_list = ALL lets aNULL in; Debian's 4096-bit ssl_dh stays (see ADV-1002).
    Case("ADV-1001", "dovecot", {"ssl_cipher_list": "ALL:@SECLEVEL=0"}, "dovecot", (993, 143)),
    Case(
        "ADV-1002",
        "dovecot",
        {"ssl_cipher_list": "ALL:@SECLEVEL=0", "ssl_min_protocol": "TLSv1", "ssl_dh": "<{dh1024}"},
        "dovecot",
        (993,),
    ),
    Case(
        "ADV-1002",
        "nginx",
        {"ssl_dhparam": "{dh1024}", "ssl_ciphers": DHE_CIPHERS},
        "nginx-server",
        (443,),
    ),
    Case(
        "ADV-1003",
        "nginx",
        {"ssl_dhparam": "{dh2048_dsa}", "ssl_ciphers": DHE_CIPHERS},
        "nginx-server",
        (443,),
    ),
    # TLS 1.0/1.1: OpenSSL 3 only negotiates them at security level 0.
    *(
        Case(
            entry,
            "nginx",
            {"ssl_protocols": "TLSv1 TLSv1.1 TLSv1.2", "ssl_ciphers": LEGACY},
            "nginx-server",
            (443,),
            "ssl-enum-ciphers",
        )
        for entry in ("ADV-1032", "ADV-1033")
    ),
    *(
        Case(
            entry,
            "dovecot",
            {"ssl_min_protocol": "TLSv1", "ssl_cipher_list": LEGACY},
            "dovecot",
            (993, 143),
            "ssl-enum-ciphers",
        )
        for entry in ("ADV-1032", "ADV-1033")
    ),
    *(
        Case(
            entry,
            "postfix",
            {"tls_medium_cipherlist": f"aNULL:-aNULL:{LEGACY}"},
            "postfix-main",
            (25, 465, 587),
            "ssl-enum-ciphers",
        )
        for entry in ("ADV-1032", "ADV-1033")
    ),
    # A 1024-bit DH file: OpenSSL 3 loads it only at security level 0 (Postfix's own cipher
    # list, without anonymous suites, which OpenSSL's automatic choice gives 1024 bits anyway).
    *(
        Case(
            entry,
            "postfix",
            {"smtpd_tls_dh1024_param_file": "{dh1024}", "tls_medium_cipherlist": LEGACY},
            "postfix-main",
            (25, 465, 587),
            script,
        )
        for entry, script in (("ADV-1002", "ssl-dh-params"), ("ADV-1019", "ssl-enum-ciphers"))
    ),
    Case(
        "ADV-1019",
        "dovecot",
        {"ssl_cipher_list": "ALL:!aNULL:@SECLEVEL=0", "ssl_dh": "<{dh1024}"},
        "dovecot",
        (993, 143),
        "ssl-enum-ciphers",
    ),
    # A 2048-bit DH file made with -dsaparam (not a safe prime). Postfix 3.7 with OpenSSL 3
    # decodes only PKCS#3 "DH PARAMETERS" (what OpenSSL 1.1 wrote), not X9.42: the same group
    # re-encoded.
    Case(
        "ADV-1003",
        "postfix",
        {"smtpd_tls_dh1024_param_file": "{dh2048_dsa_pkcs3}"},
        "postfix-main",
        (25, 465, 587),
    ),
    Case("ADV-1003", "dovecot", {"ssl_dh": "<{dh2048_dsa}"}, "dovecot", (993, 143)),
    # Anonymous suites: Postfix's default on every port; Dovecot with ssl_cipher_list = ALL.
    Case("ADV-1016", "postfix", {}, "postfix-main", (25, 465, 587), "ssl-enum-ciphers"),
    Case(
        "ADV-1016",
        "dovecot",
        {"ssl_cipher_list": "ALL:@SECLEVEL=0"},
        "dovecot",
        (993, 143),
        "ssl-enum-ciphers",
    ),
    # No forward secrecy: ECDHE and DHE excluded (Postfix 3.6+ ignores smtpd_tls_eecdh_grade =
    # none), static RSA only (Dovecot).
    Case(
        "ADV-1020",
        "postfix",
        {"smtpd_tls_exclude_ciphers": "aNULL, kECDHE, kDHE"},
        "postfix-main",
        (25, 465, 587),
        "ssl-enum-ciphers",
    ),
    Case(
        "ADV-1020",
        "dovecot",
        {"ssl_cipher_list": "kRSA:!aNULL:!eNULL"},
        "dovecot",
        (993, 143),
        "ssl-enum-ciphers",
    ),
    # Grade F from the anonymous suites (Postfix's default; Dovecot with ALL).
    # (the Postfix fix is for the mandatory-TLS ports only)
    Case("ADV-1021", "postfix", {}, "postfix-main", (465, 587), "ssl-enum-ciphers"),
    Case(
        "ADV-1021",
        "dovecot",
        {"ssl_cipher_list": "ALL:@SECLEVEL=0"},
        "dovecot",
        (993, 143),
        "ssl-enum-ciphers",
    ),
]


#: The bad certificate, as the old configuration names it (Postfix's legacy parameters, Dovecot's
#: 2.x ones); security level 0 so OpenSSL 3 loads an RSA-1024 key or a SHA-1 signature at all.
_BAD_CERT = {
    "postfix": {
        "smtpd_tls_cert_file": "{bad_cert}",
        "smtpd_tls_key_file": "{bad_key}",
        "tls_medium_cipherlist": LEGACY,
    },
    "dovecot": {
        "ssl_cert": "<{bad_cert}",
        "ssl_key": "<{bad_key}",
        "ssl_cipher_list": "ALL:!aNULL:@SECLEVEL=0",
    },
}
_BAD = {
    "ADV-1050": {"not_before": -400, "not_after": -35},
    "ADV-1051": {"self_signed": True},
    "ADV-1052": {"bits": 1024},
    "ADV-1053": {"digest": "sha1"},
    "ADV-1017": {"digest": "sha1"},
}
_CERT_PORTS = {"postfix": ("postfix-main", (25, 465, 587)), "dovecot": ("dovecot", (993, 143))}
CASES += [
    Case(
        entry,
        software,
        _BAD_CERT[software],
        target,
        ports,
        "ssl-enum-ciphers" if entry == "ADV-1017" else "ssl-cert",
        cert=bad,
    )
    for entry, bad in _BAD.items()
    for software, (target, ports) in _CERT_PORTS.items()
]


@pytest.fixture(scope="module")
def ca(lab_dir: Path) -> LabCA:
    return LabCA(lab_dir / "proof-ca")


def _certs(case: Case, ca: LabCA | None) -> tuple[Certificate, Certificate] | None:
    """(bad, good) certificates from the test CA for a certificate case, else None."""
    if case.cert is None or ca is None:
        return None
    name = f"{case.entry.lower()}-{case.software}"
    args = dict(case.cert)
    bad = (
        ca.self_signed(f"{name}-bad")
        if args.pop("self_signed", False)
        else ca.issue(f"{name}-bad", **args)  # type: ignore[arg-type]
    )
    return bad, ca.issue(f"{name}-good")


def _fixtures() -> dict[str, str]:
    return {
        "dh1024": str(dh_fixture("dh1024.pem")),
        "dh2048": str(dh_fixture("dh2048.pem")),
        "dh2048_dsa": str(dh_fixture("dh2048-dsa.pem")),
        "dh2048_dsa_pkcs3": str(dh_fixture("dh2048-dsa-pkcs3.pem")),
    }


def _fill(
    settings: Mapping[str, str], certs: tuple[Certificate, Certificate] | None = None
) -> dict[str, str]:
    fx = _fixtures()
    if certs is not None:
        fx.update(bad_cert=str(certs[0].cert), bad_key=str(certs[0].key))
    return {k: v.format(**fx) for k, v in settings.items()}


def _substitute_files(
    settings: tuple[tuple[str, str], ...],
    software: str,
    good: Certificate | None = None,
) -> dict[str, str | None]:
    """The entry's settings, with DH parameter file paths pointing at the fixture, Let's
    Encrypt's ``fullchain.pem`` / ``privkey.pem`` at the test CA's new certificate and key
    (``good``), and an empty value meaning "delete the directive" for nginx and Dovecot
    (docs/knowledge-format.md)."""
    dh2048 = _fixtures()["dh2048"]

    def path(m: re.Match[str]) -> str:
        name = m.group(2)
        if good is not None and name.endswith("/fullchain.pem"):
            return m.group(1) + str(good.cert)
        if good is not None and name.endswith("/privkey.pem"):
            return m.group(1) + str(good.key)
        return m.group(1) + dh2048

    out: dict[str, str | None] = {}
    for k, v in settings:
        out[k] = None if v == "" and software != "postfix" else _PEM.sub(path, v)
    return out


def _server(case: Case, request: pytest.FixtureRequest) -> LabServer:
    server: LabServer = request.getfixturevalue(f"{case.software}_server")
    return server


def _scan(server: LabServer, case: Case, name: str, tmp: Path) -> Path:
    """Scan the case's ports; return XML with actual ports rewritten to the logical ones, so
    advisor sees 25/465/587/993/443 as a real server would show them."""
    ports = [server.port(p) for p in case.ports]
    run = run_nmap(ports, case.script, tmp / f"{name}.xml", servicedb=server.servicedb())
    text = run.xml.read_text()
    for logical in case.ports:
        text = text.replace(f'portid="{server.port(logical)}"', f'portid="{logical}"')
    out = tmp / f"{name}-logical.xml"
    out.write_text(text)
    return out


def _advice(xml: Path) -> list[Advice]:
    got: list[Advice] = []
    with xml.open("rb") as fh:
        explain(fh, KB, Options(on_advice=got.append, guess_os=False))
    return got


def _flagged(advice: list[Advice], entry: str) -> dict[int, Advice]:
    return {
        a.finding.location.port: a
        for a in advice
        if a.entry is not None
        and a.entry.id == entry
        and a.verdict is Verdict.MATCHED
        and a.finding.location.port is not None
    }


def _installed(server: LabServer) -> str:
    from tests.lab.common import run

    if server.kind == "postfix":
        out = server.postconf("mail_version")  # type: ignore[attr-defined]
        return out.split("=", 1)[1].strip()
    if server.kind == "dovecot":
        return run(["dovecot", "--version"]).stdout.split()[0]
    return run(["nginx", "-v"]).stderr.split("/")[-1].strip()


def _fixes_to_prove(entry: Entry, software: str, version: tuple[int, ...]) -> list[Fix]:
    return [
        f
        for f in entry.fixes
        if f.software == software
        and f.settings
        and f.target != "none"
        and f.versions.contains(version)
    ]


def _apply(
    server: LabServer,
    case: Case,
    target: str,
    settings: Mapping[str, str | None],
    ports: tuple[int, ...],
) -> None:
    if target == "dovecot":
        removed = [k for k, v in settings.items() if v is None]
        server.set({k: v for k, v in settings.items() if v is not None})  # type: ignore[attr-defined]
        server.unset(removed)  # type: ignore[attr-defined]
    elif target == "postfix-master":
        for logical in ports:
            server.apply("postfix-master", settings, service=logical, restart=False)  # type: ignore[arg-type]
    else:
        server.apply(target, settings, restart=False)  # type: ignore[arg-type]
    server.restart()


def _still_serves(server: LabServer) -> str:
    """Every port of the server still does its job after the fix, with a normal TLS client
    (tests/lab/serves.py): mail delivered (Postfix), IMAP/POP3 login (Dovecot), page served
    (nginx). Returns what was checked, for the proof log."""
    done = []
    for logical in sorted(server.listeners):
        if server.kind == "nginx":
            assert_http_ok(server.port(logical), tls=True)
            done.append(f"{logical} HTTPS GET 200")
        else:
            done.append(f"{logical} {assert_mail_serves(server, logical)}")
    return "; ".join(done)


def _vulnerable(
    server: LabServer, case: Case, certs: tuple[Certificate, Certificate] | None = None
) -> None:
    server.reset()
    if case.vulnerable:
        server.apply(case.target, _fill(case.vulnerable, certs))  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.entry}-{c.software}")
def test_fix_is_proven(
    case: Case, request: pytest.FixtureRequest, tmp_path: Path, proof_log: ProofLog
) -> None:
    entry = KB.get(case.entry)
    assert entry is not None
    server = _server(case, request)
    version_text = _installed(server)
    version = parse_version(version_text) or ()
    certs = _certs(case, request.getfixturevalue("ca") if case.cert is not None else None)
    good = certs[1] if certs is not None else None

    _vulnerable(server, case, certs)
    before = _flagged(_advice(_scan(server, case, "before", tmp_path)), case.entry)
    assert set(before) == set(case.ports), (
        f"vulnerable config not reported on every port: {sorted(before)}"
    )
    for port, advice in before.items():
        offered = {c.fix.software for c in advice.fixes}
        assert case.software in offered, f"port {port}: no {case.software} fix offered ({offered})"

    fixes = _fixes_to_prove(entry, case.software, version)
    assert fixes, f"{case.entry} has no fix with settings for {case.software} {version_text}"
    for fix in fixes:
        ports = tuple(p for p in case.ports if not fix.ports or p in fix.ports)
        if not ports:
            continue
        _vulnerable(server, case, certs)
        _apply(
            server, case, fix.target, _substitute_files(fix.settings, case.software, good), ports
        )
        after = _flagged(
            _advice(_scan(server, case, f"fix-{entry.fixes.index(fix)}", tmp_path)), case.entry
        )
        still = sorted(set(after) & set(ports))
        assert not still, f"fix {fix.title!r} left the finding on ports {still}"
        for logical in ports:
            lst = server.listener(logical)
            hs = handshake(lst.port, starttls=lst.starttls)
            assert hs.ok, f"fix {fix.title!r} broke TLS on {logical}: {hs.output[-500:]}"
        serves = _still_serves(server)
        proof_log.add(
            Row(
                case.entry,
                case.software,
                version_text,
                fix.title,
                ports,
                "proven",
                f"nmap {case.script} reported it before and not after; openssl s_client "
                f"handshake OK; still serves: {serves}",
            )
        )

    for nf in entry.not_fixes:
        if nf.software != case.software or not nf.settings or nf.target == "none":
            continue
        if not nf.versions.contains(version):
            continue
        ports = tuple(p for p in case.ports if not nf.ports or p in nf.ports)
        _vulnerable(server, case, certs)
        _apply(server, case, nf.target, _substitute_files(nf.settings, case.software, good), ports)
        after = _flagged(
            _advice(_scan(server, case, f"notfix-{entry.not_fixes.index(nf)}", tmp_path)),
            case.entry,
        )
        assert set(ports) <= set(after), (
            f"{nf.change!r} is listed as not a fix, but removed the finding"
        )
        proof_log.add(
            Row(
                case.entry,
                case.software,
                version_text,
                nf.change,
                ports,
                "not a fix",
                "nmap still reports the finding after this change, as the entry says",
            )
        )
    server.reset()
