"""The per-finding output formats (SARIF, CSV, DefectDojo) through the real CLI.

SARIF output is validated against the OASIS SARIF 2.1.0 schema vendored in
tests/data/schemas/ (see its SOURCES.md); DefectDojo output against the field names and types
of DefectDojo's Generic Findings Import parser (dojo/tools/generic/json_parser.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from advisor.api import Options, explain
from advisor.cli import main
from advisor.kb import KnowledgeBase
from advisor.render import Format, render
from advisor.render.csv import COLUMNS, FORMULA_STARTS, csv_row, safe_cell
from advisor.render.defectdojo import SEVERITIES
from advisor.render.records import endpoint_findings
from advisor.render.sarif import LEVELS, SECURITY_SEVERITY
from tests.conftest import CORPUS, DATA, ROOT

SCHEMA = json.loads((DATA / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
MOTIVATING = ROOT / "samples" / "motivating-case" / "scan.xml"
KIS = CORPUS / "kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml"
#: Findings on four hosts, with verify commands that name the host.
MULTI_HOST = CORPUS / "nmap__zenmap-radialnet-example_old-script-ids_4.53.xml"
#: Several scripts of one entry (ADV-9000, script errors) at the same endpoints.
SCRIPT_ERRORS = CORPUS / "enemuration__nmap_vuln_script-vuln_prescript_7.95.xml"
SCANS = [
    MOTIVATING,
    KIS,
    MULTI_HOST,
    SCRIPT_ERRORS,
    CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml",
    CORPUS / "libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml",
    CORPUS / "htb__servmon_p2p-conficker-hostscript_7.80.xml",
    CORPUS / "defectdojo__issue4406_vulners-allports_7.91.xml",
    CORPUS / "libnmap__full_sudo6_multi-host_ssl-scripts_6.40.xml",
    CORPUS / "defectdojo__issue12411_two-hosts-no-scripts_7.95.xml",
    DATA / "hostile" / "hostile-output.xml",
    DATA / "hostile" / "hostile-js.xml",
]

#: The keys DefectDojo's Generic Findings Import accepts in a finding (json_parser.py: the
#: required and allowed sets, plus the keys it takes out before checking them).
DOJO_REQUIRED = {"title", "severity", "description"}
DOJO_ALLOWED = DOJO_REQUIRED | {
    "date", "cwe", "cve", "epss_score", "epss_percentile", "cvssv3", "cvssv3_score", "cvssv4",
    "cvssv4_score", "mitigation", "impact", "steps_to_reproduce", "severity_justification",
    "references", "active", "verified", "false_p", "out_of_scope", "risk_accepted",
    "under_review", "is_mitigated", "thread_id", "mitigated", "numerical_severity", "param",
    "payload", "line", "file_path", "component_name", "component_version", "static_finding",
    "dynamic_finding", "scanner_confidence", "unique_id_from_tool", "vuln_id_from_tool",
    "sast_source_object", "sast_sink_object", "sast_source_line", "sast_source_file_path",
    "nb_occurences", "publish_date", "service", "planned_remediation_date",
    "planned_remediation_version", "effort_for_fixing", "tags", "kev_date", "known_exploited",
    "ransomware_used", "fix_available", "fix_version",
    "endpoints", "files", "vulnerability_ids", "cwes",
}  # fmt: skip

#: A crafted scan: every value that reaches a CSV cell starts like a spreadsheet formula.
#: The first port has a finding advisor knows (ADV-1001), the second one it does not.
FORMULA_SCAN = """<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap --script vuln 127.0.0.1" start="1700000000" version="7.94" xmloutputversion="1.05">
<host><status state="up" reason="syn-ack"/><address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames><hostname name="=HYPERLINK(&quot;http://evil.example/&quot;,&quot;x&quot;)" type="PTR"/></hostnames>
<ports>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack"/>
<service name="@SUM(1+1)" product="nginx" version="1.0" method="probed" conf="10"/>
<script id="ssl-dh-params" output="x"><table key="NMAP-1"><elem key="title">Anonymous Diffie-Hellman Key Exchange MitM Vulnerability</elem><elem key="state">VULNERABLE</elem></table></script>
</port>
<port protocol="tcp" portid="8443"><state state="open" reason="syn-ack"/>
<service name="+cmd" method="table" conf="3"/>
<script id="-evil-script" output="x"><table key="NMAP-2"><elem key="title">=1+2+cmd|' /C calc'!A0</elem><elem key="state">VULNERABLE</elem></table></script>
<script id="@evil2" output="x"><table key="NMAP-3"><elem key="title">&#9;=tab first</elem><elem key="state">-VULNERABLE</elem></table></script>
</port></ports></host>
<runstats><finished time="1700000010"/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>
"""


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def explain_to(path: Path, fmt: str, out: Path, *extra: str) -> str:
    result = run("explain", str(path), "--format", fmt, "-o", str(out), *extra)
    assert result.exit_code in (0, 1, 3), result.stderr
    assert "Traceback" not in result.stderr
    return out.read_text(encoding="utf-8")


def json_findings(path: Path, tmp_path: Path) -> list[dict[str, Any]]:
    doc = json.loads(explain_to(path, "json", tmp_path / "report.json"))
    assert len(doc["findings"]) == doc["summary"]["findings"]
    return list(doc["findings"])


def endpoint_key(host: str, port: int | None, script: str) -> tuple[str, int | None, str]:
    return host, port, script


@pytest.fixture
def formula_scan(tmp_path: Path) -> Path:
    path = tmp_path / "formula.xml"
    path.write_text(FORMULA_SCAN, encoding="utf-8")
    return path


# -- every format ----------------------------------------------------------------------------
def test_every_format_renders_through_the_library(kb: KnowledgeBase) -> None:
    with MOTIVATING.open("rb") as fh:
        report = explain(fh, kb, Options(), source=str(MOTIVATING))
    for fmt in Format:
        out = io.StringIO()
        render(fmt, report, out, kb)
        assert len(out.getvalue()) > 100, fmt


def test_explain_accepts_the_new_formats_with_exit_codes_and_summary(tmp_path: Path) -> None:
    for fmt in ("sarif", "csv", "defectdojo"):
        result = run("explain", str(KIS), "--format", fmt)
        assert result.exit_code == 1
        assert re.match(r"advisor: \d+ finding\(s\) \(\d+ medium", result.stderr)
        assert result.stdout.strip()
        assert run("explain", str(KIS), "-f", fmt, "--fail-on", "high").exit_code == 0
    nothing = CORPUS / "defectdojo__issue12411_two-hosts-no-scripts_7.95.xml"
    assert run("explain", str(nothing), "-f", "sarif").exit_code == 0


# -- SARIF -----------------------------------------------------------------------------------
def _sarif(path: Path, tmp_path: Path, *extra: str) -> dict[str, Any]:
    return json.loads(explain_to(path, "sarif", tmp_path / "report.sarif", *extra))


@pytest.mark.parametrize("path", SCANS, ids=lambda p: p.name)
def test_sarif_is_valid_and_has_one_result_per_finding(path: Path, tmp_path: Path) -> None:
    doc = _sarif(path, tmp_path)
    validator = jsonschema.Draft7Validator(
        SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:5]
    (sarif_run,) = doc["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    results = sarif_run["results"]
    findings = json_findings(path, tmp_path)
    assert len(results) == len(findings)
    assert Counter(
        endpoint_key(
            r["properties"]["host"], r["properties"].get("port"), r["properties"]["script"]
        )
        for r in results
    ) == Counter(endpoint_key(f["host"], f["port"], f["script"]) for f in findings)
    assert len({rule["id"] for rule in rules}) == len(rules)
    for result in results:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert result["level"] == LEVELS[result["properties"]["severity"]]
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == path.relative_to(ROOT).as_posix()
        assert location["logicalLocations"][0]["fullyQualifiedName"]
        text = result["message"]["text"]
        assert "\x1b" not in text
        if path.parent.name != "hostile":  # else nmap's own titles hold backticks
            assert "`" not in text and "**" not in text
    for rule in rules:
        severity = rule["properties"]["advisorSeverity"]
        assert rule["properties"]["security-severity"] == SECURITY_SEVERITY[severity]
        assert rule["defaultConfiguration"]["level"] == LEVELS[severity]
        assert "`" not in rule["help"]["text"] and rule["help"]["markdown"]
        if rule["id"].startswith("ADV-"):
            assert rule["helpUri"].startswith("https://")
            assert "## Why it matters" in rule["help"]["markdown"]


def test_sarif_has_the_scan_and_uses_the_knowledge_entry(tmp_path: Path) -> None:
    doc = _sarif(MOTIVATING, tmp_path)
    (sarif_run,) = doc["runs"]
    assert sarif_run["tool"]["driver"]["name"] == "advisor"
    assert sarif_run["properties"]["nmap"]["version"] == "7.93"
    assert "--script ssl-dh-params" in sarif_run["properties"]["nmap"]["args"]
    (rule,) = sarif_run["tool"]["driver"]["rules"]
    assert rule["id"] == "ADV-1001" and rule["name"] == "anonymous-dh"
    assert rule["shortDescription"]["text"].startswith("Anonymous Diffie-Hellman")
    by_port = {r["properties"]["port"]: r for r in sarif_run["results"]}
    assert set(by_port) == {25, 465, 587}
    assert by_port[25]["level"] == "note"  # port 25: info, opportunistic TLS
    assert by_port[465]["level"] == by_port[587]["level"] == "warning"


def test_sarif_false_positive_note_is_told_not_suppressed(tmp_path: Path) -> None:
    doc = _sarif(MOTIVATING, tmp_path)
    by_port = {r["properties"]["port"]: r for r in doc["runs"][0]["results"]}
    port25 = by_port[25]
    assert "suppressions" not in port25
    assert "Possible false positive: Expected on an MX (port 25)." in port25["message"]["text"]
    assert port25["properties"]["falsePositive"].startswith("Expected on an MX (port 25).")
    # the Markdown of the note (code spans, bold) is gone from the plain text
    assert "smtpd_tls_mandatory_ciphers" in port25["message"]["text"]
    assert "Expected on an MX" not in by_port[465]["message"]["text"]


def _fingerprints(doc: dict[str, Any]) -> list[str]:
    return [r["partialFingerprints"]["advisorFinding/v1"] for r in doc["runs"][0]["results"]]


def test_sarif_fingerprints_are_stable_and_differ_per_endpoint(tmp_path: Path) -> None:
    one = _fingerprints(_sarif(SCRIPT_ERRORS, tmp_path, "--jobs", "1"))
    two = _fingerprints(_sarif(SCRIPT_ERRORS, tmp_path, "--jobs", "2"))
    assert one == two
    assert len(set(one)) == len(one) == 8  # several scripts of ADV-9000 at one endpoint
    multi = _sarif(MULTI_HOST, tmp_path)
    prints = _fingerprints(multi)
    assert len(set(prints)) == len(prints)
    hosts = {r["properties"]["host"] for r in multi["runs"][0]["results"]}
    assert len(hosts) > 1
    assert all(re.fullmatch(r"[0-9a-f]{64}", p) for p in prints)


def test_sarif_fingerprints_of_a_large_scan_read_in_parallel(
    generated_scan: bytes, tmp_path: Path
) -> None:
    scan = tmp_path / "generated.xml"
    scan.write_bytes(generated_scan)
    one = _fingerprints(_sarif(scan, tmp_path, "--jobs", "1"))
    two = _fingerprints(_sarif(scan, tmp_path, "--jobs", "2"))
    assert one == two
    assert len(one) > 300 and len(set(one)) == len(one)


def test_sarif_fingerprints_do_not_depend_on_advisor_text(tmp_path: Path) -> None:
    """Server evidence changes what advisor says (severity, fixes, notes); the finding at
    each endpoint, and so its fingerprint, stays the same."""
    sample = MOTIVATING.parent
    plain = _sarif(MOTIVATING, tmp_path)
    evidence = _sarif(
        MOTIVATING,
        tmp_path,
        "--ss",
        str(sample / "ss-lnpt.txt"),
        "--postconf",
        str(sample / "postconf-n.txt"),
        "--postconf-master",
        str(sample / "postconf-M.txt"),
        "--mail-version",
        str(sample / "mail_version.txt"),
    )
    texts = [r["message"]["text"] for r in plain["runs"][0]["results"]]
    assert texts != [r["message"]["text"] for r in evidence["runs"][0]["results"]]
    assert sorted(_fingerprints(plain)) == sorted(_fingerprints(evidence))


def test_sarif_from_the_library_matches_the_cli(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Without the CLI's finding records, results are rebuilt from the report: the same
    findings, fingerprints and per-host verify commands."""
    cli = _sarif(MULTI_HOST, tmp_path)
    with MULTI_HOST.open("rb") as fh:
        report = explain(fh, kb, Options(), source=str(MULTI_HOST.relative_to(ROOT)))
    out = io.StringIO()
    render(Format.SARIF, report, out, kb)
    lib = json.loads(out.getvalue())
    assert sorted(_fingerprints(lib)) == sorted(_fingerprints(cli))
    assert sorted(r["message"]["text"] for r in lib["runs"][0]["results"]) == sorted(
        r["message"]["text"] for r in cli["runs"][0]["results"]
    )


def test_sarif_of_a_hostile_scan_keeps_scan_text_inert(tmp_path: Path) -> None:
    doc = _sarif(DATA / "hostile" / "hostile-output.xml", tmp_path)
    text = json.dumps(doc, ensure_ascii=False)
    assert "\x1b" not in text and "\u202e" not in text
    for rule in doc["runs"][0]["tool"]["driver"]["rules"]:
        markdown = rule["help"]["markdown"]
        assert "<script>" not in markdown.replace("`", "")


# -- CSV -------------------------------------------------------------------------------------
def _csv(path: Path, tmp_path: Path) -> tuple[bytes, list[list[str]]]:
    explain_to(path, "csv", tmp_path / "report.csv")
    raw = (tmp_path / "report.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    return raw, rows


@pytest.mark.parametrize("path", [MOTIVATING, MULTI_HOST, SCRIPT_ERRORS], ids=lambda p: p.name)
def test_csv_has_a_header_and_one_row_per_finding(path: Path, tmp_path: Path) -> None:
    raw, rows = _csv(path, tmp_path)
    assert rows[0] == list(COLUMNS)
    assert raw.count(b"\r\n") >= len(rows)  # CRLF line ends
    assert b"\n" not in raw.replace(b"\r\n", b"").replace(b"\n\n", b"") or b'"' in raw
    findings = json_findings(path, tmp_path)
    assert len(rows) - 1 == len(findings)
    col = {name: i for i, name in enumerate(COLUMNS)}
    assert Counter((r[col["host"]], r[col["port"]], r[col["script"]]) for r in rows[1:]) == Counter(
        (f["host"], str(f["port"]) if f["port"] is not None else "", f["script"]) for f in findings
    )
    assert all(len(r) == len(COLUMNS) for r in rows)
    for row in rows[1:]:
        assert "`" not in row[col["false_positive"]]
        assert row[col["severity"]] in LEVELS
        assert re.fullmatch(r"[0-9a-f]{64}", row[col["fingerprint"]])


def test_csv_parses_back_to_the_rows_written(kb: KnowledgeBase, tmp_path: Path) -> None:
    """The file read back with csv.reader gives exactly the cells advisor meant to write,
    line breaks, quotes and commas in cells included."""
    _, rows = _csv(MOTIVATING, tmp_path)
    with MOTIVATING.open("rb") as fh:
        report = explain(fh, kb, Options(), source=str(MOTIVATING))
    expected = [[safe_cell(c) for c in csv_row(f)] for f in endpoint_findings(report, kb)]
    assert sorted(rows[1:]) == sorted(expected)
    fp_cells = [r[COLUMNS.index("false_positive")] for r in rows[1:]]
    assert any('"' in c and "\n" in c for c in fp_cells)  # quoting and line breaks survived


def test_csv_verify_commands_name_each_rows_host(tmp_path: Path) -> None:
    _, rows = _csv(MULTI_HOST, tmp_path)
    col = {name: i for i, name in enumerate(COLUMNS)}
    hosts = {r[col["host"]] for r in rows[1:]}
    named = 0
    for row in rows[1:]:
        others = hosts - {row[col["host"]]}
        assert not any(re.search(rf"\b{re.escape(h)}\b", row[col["verify"]]) for h in others)
        named += row[col["host"]] in row[col["verify"]]
    assert len(hosts) > 1 and named == len(rows) - 1


def test_csv_neutralises_formulas_from_a_crafted_scan(formula_scan: Path, tmp_path: Path) -> None:
    _, rows = _csv(formula_scan, tmp_path)
    col = {name: i for i, name in enumerate(COLUMNS)}
    body = rows[1:]
    assert len(body) == 3
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    by_script = {r[col["script"]]: r for r in body}
    assert set(by_script) == {"ssl-dh-params", "'-evil-script", "'@evil2"}
    known = by_script["ssl-dh-params"]
    assert known[col["entry"]] == "ADV-1001"
    assert known[col["hostname"]] == '\'=HYPERLINK("http://evil.example/","x")'
    assert known[col["service"]] == "'@SUM(1+1)"
    evil = by_script["'-evil-script"]
    assert evil[col["entry"]] == "nse/-evil-script"  # starts with a letter: no apostrophe
    assert evil[col["nmap_title"]] == "'=1+2+cmd|' /C calc'!A0"
    assert evil[col["service"]] == "'+cmd"
    tabbed = by_script["'@evil2"]
    assert tabbed[col["state"]] == "'-VULNERABLE"
    assert tabbed[col["nmap_title"]] == "'=tab first"  # whitespace-collapsed title


def test_safe_cell() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell("\r=1") == "\\x0D=1"  # carriage return shown, no longer first
    assert safe_cell("1+1") == "1+1"
    assert safe_cell("a\x1b[31m") == "a\\x1B[31m"
    assert safe_cell(None) == ""


# -- DefectDojo ------------------------------------------------------------------------------
def _dojo(path: Path, tmp_path: Path) -> dict[str, Any]:
    return json.loads(explain_to(path, "defectdojo", tmp_path / "report.json"))


@pytest.mark.parametrize("path", SCANS, ids=lambda p: p.name)
def test_defectdojo_fields_and_one_finding_per_endpoint(path: Path, tmp_path: Path) -> None:
    doc = _dojo(path, tmp_path)
    assert set(doc) <= {"name", "type", "version", "description", "findings"}
    findings = doc["findings"]
    expected = json_findings(path, tmp_path)
    assert len(findings) == len(expected)
    ids = [f["unique_id_from_tool"] for f in findings]
    assert len(set(ids)) == len(ids)
    for finding in findings:
        assert DOJO_REQUIRED <= set(finding) <= DOJO_ALLOWED
        assert isinstance(finding["title"], str) and finding["title"]
        assert finding["severity"] in SEVERITIES.values()
        assert isinstance(finding["description"], str)
        assert "false_p" not in finding
        for key in ("mitigation", "impact", "references", "steps_to_reproduce"):
            assert isinstance(finding.get(key, ""), str)
        for url in finding.get("references", "").splitlines():
            assert url.startswith("https://") or url.startswith("http://")
        assert isinstance(finding["static_finding"], bool)
        for endpoint in finding.get("endpoints", []):
            assert set(endpoint) <= {"host", "port", "protocol"}
            assert isinstance(endpoint["host"], str)
            assert isinstance(endpoint.get("port", 0), int)
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9.+-]+", endpoint.get("protocol", "tcp"))
        if "cve" in finding:
            assert re.fullmatch(r"CVE-\d{4}-\d{4,}", finding["cve"])
        assert isinstance(finding["tags"], list)
    wanted = Counter((f["kb_id"] or f"nse/{f['script']}", f["host"], f["port"]) for f in expected)
    got = Counter(
        (
            f["vuln_id_from_tool"],
            f["endpoints"][0]["host"] if f.get("endpoints") else "(scan)",
            f["endpoints"][0].get("port") if f.get("endpoints") else None,
        )
        for f in findings
    )
    assert got == wanted


def test_defectdojo_markdown_and_fingerprint_match_sarif(tmp_path: Path) -> None:
    doc = _dojo(MOTIVATING, tmp_path)
    sarif = _sarif(MOTIVATING, tmp_path)
    assert sorted(f["unique_id_from_tool"] for f in doc["findings"]) == sorted(_fingerprints(sarif))
    by_port = {f["endpoints"][0]["port"]: f for f in doc["findings"]}
    port25 = by_port[25]
    assert port25["severity"] == "Info" and by_port[465]["severity"] == "Medium"
    assert port25["endpoints"] == [{"host": "127.0.0.1", "port": 25, "protocol": "smtp"}]
    assert port25["vuln_id_from_tool"] == "ADV-1001"
    assert port25["date"] == "2026-11-27"  # the scan's start, UTC
    assert "#### Possible false positive" in port25["description"]
    assert "**Expected on an MX (port 25).**" in port25["description"]
    assert "- Script: `ssl-dh-params`" in port25["description"]
    assert "```\nsmtpd_tls_exclude_ciphers = aNULL\n```" in port25["mitigation"]
    assert "postconf -e 'smtpd_tls_exclude_ciphers = aNULL'" in port25["mitigation"]
    assert (
        "```sh\nnmap -Pn --script ssl-dh-params -p 25 127.0.0.1\n```"
        in port25["steps_to_reproduce"]
    )
    assert port25["component_name"] == "postfix"


def test_defectdojo_hostile_scan_text_stays_in_code(tmp_path: Path) -> None:
    doc = _dojo(DATA / "hostile" / "hostile-output.xml", tmp_path)
    for finding in doc["findings"]:
        for key in ("description", "mitigation", "impact", "steps_to_reproduce"):
            text = finding.get(key, "")
            assert "\x1b" not in text and "\u202e" not in text
            outside = re.sub(r"(`+)(.+?)\1|```.*?```", "", text, flags=re.S)
            assert "<script>" not in outside and "](javascript:" not in outside
        assert "javascript:" not in finding.get("references", "")
