"""Extractors: every output shape becomes findings with its fields intact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from advisor.findings import extract_script, host_findings, run_findings
from advisor.findings.model import Kind, Location
from advisor.model import NseElem, NseTable, ScriptResult
from advisor.scan import open_scan
from tests.conftest import CORPUS

NOW = datetime(2026, 11, 27, tzinfo=UTC)
WHERE = Location("127.0.0.1", None, 465, "tcp", None, "port")


def findings(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        scan = open_scan(fh)
        out = [f for h in scan for f in host_findings(h, NOW)]
        out += list(run_findings(scan.prescripts, "prescript", NOW))
    return out


def test_vulns_table_all_fields() -> None:
    fs = findings(CORPUS / "kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml")
    (f,) = [f for f in fs if f.script == "ssl-dh-params"]
    assert f.kind is Kind.VULNS
    assert f.title == "Diffie-Hellman Key Exchange Insufficient Group Strength"
    assert f.state == "VULNERABLE"
    assert f.table_key == "NMAP-3"
    assert f.description.startswith(
        "Transport Layer Security (TLS) services that use Diffie-Hellman"
    )
    assert "Modulus Source: RFC2409/Oakley Group 2" in f.check_results[0]
    assert f.references == ("https://weakdh.org",)
    assert f.location.endpoint == "192.168.1.1:443/tcp"


def test_showall_not_vulnerable_and_likely() -> None:
    fs = findings(CORPUS / "rails-ssl-scan__0a137b37_ssl-dh-params_7.01SVN.xml")
    states = {(f.script, f.state) for f in fs if f.kind is Kind.VULNS}
    assert ("ssl-poodle", "LIKELY VULNERABLE") in states
    assert ("ssl-dh-params", "NOT VULNERABLE") in states
    poodle = next(f for f in fs if f.script == "ssl-poodle")
    assert "CVE:CVE-2014-3566" in poodle.ids
    assert poodle.disclosure == "2014-10-14"
    assert "TLS_FALLBACK_SCSV properly implemented" in poodle.check_results


def test_ssl_enum_ciphers_protocols_warnings_grade() -> None:
    fs = findings(CORPUS / "kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml")
    kinds = {(f.kind, f.title) for f in fs if f.script == "ssl-enum-ciphers"}
    assert (Kind.PROTOCOL, "TLSv1.0") in kinds
    assert (Kind.WARNING, "64-bit block cipher IDEA vulnerable to SWEET32 attack") in kinds
    assert (Kind.WARNING, "Weak certificate signature: SHA1") in kinds
    assert (Kind.GRADE, "A") in kinds


def test_vulners_structured() -> None:
    fs = findings(CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml")
    v = [f for f in fs if f.kind is Kind.VULNERS]
    assert v and v[0].detail("max_cvss")
    assert all(i.startswith("CVE-") for f in v for i in f.ids)


def test_vulners_old_text_output() -> None:
    script = ScriptResult(
        "vulners",
        "\n  cpe:/a:openbsd:openssh:6.6.1p1: \n    \tCVE-2015-5600\t8.5\thttps://vulners.com/cve/CVE-2015-5600"
        "\n    \tEDB-ID:40113\t7.8\thttps://vulners.com/exploitdb/EDB-ID:40113\t*EXPLOIT*",
    )
    (f,) = extract_script(script, WHERE, NOW)
    assert f.kind is Kind.VULNERS and f.title == "cpe:/a:openbsd:openssh:6.6.1p1"
    assert f.ids == ("CVE-2015-5600",)
    assert f.detail("exploits") == "1" and f.detail("max_cvss") == "8.5"


def test_ssl_cert_problems() -> None:
    fs = findings(CORPUS / "htb__servmon_p2p-conficker-hostscript_7.80.xml")
    problems = {f.title for f in fs if f.kind is Kind.CERT}
    assert {"expired", "self-signed", "weak-signature"} <= problems


def test_exim_text() -> None:
    out = (
        "\n  Exim heap overflow vulnerability (CVE-2010-4344):\n    Exim (CVE-2010-4344): VULNERABLE\n"
        "  Exim privileges escalation vulnerability (CVE-2010-4345):\n    Exim (CVE-2010-4345): NOT VULNERABLE\n"
    )
    fs = extract_script(ScriptResult("smtp-vuln-cve2010-4344", out), WHERE, NOW)
    assert [(f.title, f.state) for f in fs] == [
        ("Exim heap overflow vulnerability (CVE-2010-4344)", "VULNERABLE"),
        ("Exim privileges escalation vulnerability (CVE-2010-4345)", "NOT VULNERABLE"),
    ]


def test_errors_are_findings_of_kind_error() -> None:
    fs = findings(
        CORPUS / "asecurityteam-nmap-scanner__showall_ssl-scripts_7.70_SEMI-SYNTHETIC.xml"
    )
    err = [f for f in fs if f.kind is Kind.ERROR]
    assert [(f.script, f.title) for f in err] == [
        ("ssl-ccs-injection", "No reply from server (TIMEOUT)")
    ]


def test_prescript_findings() -> None:
    fs = findings(CORPUS / "enemuration__nmap_vuln_script-vuln_prescript_7.95.xml")
    pre = [f for f in fs if f.location.scope == "prescript"]
    assert pre and pre[0].script == "broadcast-avahi-dos" and pre[0].location.port is None


def test_sslv2_drown_nested_tables() -> None:
    table = NseTable(
        "vulns",
        (
            NseTable(
                "CVE-2016-0800",
                (
                    NseElem("title", "OpenSSL: Cross-protocol attack on TLS using SSLv2 (DROWN)"),
                    NseElem("state", "VULNERABLE"),
                    NseTable("ids", (NseElem(None, "CVE:CVE-2016-0800"),)),
                ),
            ),
        ),
    )
    script = ScriptResult("sslv2-drown", "", (NseTable("ciphers", ()), table))
    (f,) = extract_script(script, WHERE, NOW)
    assert f.title.endswith("(DROWN)") and f.ids == ("CVE:CVE-2016-0800",)


def test_crashing_extractor_becomes_error_finding(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import advisor.findings as mod

    def boom(*_a: object) -> list[object]:
        raise ValueError("odd table")

    monkeypatch.setattr(mod.ssl_enum_ciphers, "extract", boom)
    (f,) = extract_script(ScriptResult("ssl-enum-ciphers", "x"), WHERE, NOW)
    assert f.kind is Kind.ERROR and f.problems == ("ValueError: odd table",)


def test_vulners_770_rows_kept_as_text_in_an_elem() -> None:
    fs = findings(CORPUS / "va__nmap_vulners_old-freeform_7.70.xml")
    v = [f for f in fs if f.kind is Kind.VULNERS]
    assert v and v[0].title.startswith("cpe:/a:")
    assert v[0].ids and float(v[0].detail("max_cvss") or 0) > 0


def test_free_form_output_lines_are_check_results() -> None:
    script = ScriptResult(
        "http-cookie-flags", "\n  /: \n    PHPSESSID: \n      httponly flag not set"
    )
    (f,) = extract_script(script, WHERE, NOW)
    assert f.check_results == ("/:", "PHPSESSID:", "httponly flag not set")
