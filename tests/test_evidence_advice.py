"""Evidence joined to findings: the motivating case with the seed's ss line, version-aware
syntax, fixes already applied, multi-host scans, IPv6 and docker-proxy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from tests.conftest import DATA, ROOT, resolve

CASE = ROOT / "samples" / "motivating-case"
EV = DATA / "evidence"
U2004 = EV / "lab" / "ubuntu2004-like"
SEED_SS = EV / "seed" / "seed-ss-wide.txt"

ONE_HOST = """<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap" start="1700000000" version="7.94">{hosts}
<runstats><finished time="1700000001"/><hosts up="1" down="0" total="1"/></runstats></nmaprun>"""
HOST = """<host><status state="up"/><address addr="{addr}" addrtype="{kind}"/><ports>
<port protocol="tcp" portid="{port}"><state state="open"/><service name="{service}"/>
<script id="ssl-dh-params" output="x"><table key="NMAP-1">
<elem key="title">Anonymous Diffie-Hellman Key Exchange MitM Vulnerability</elem>
<elem key="state">VULNERABLE</elem></table></script></port></ports></host>"""


def scan_file(tmp_path: Path, *hosts: tuple[str, str, int, str]) -> Path:
    body = "".join(HOST.format(addr=a, kind=k, port=p, service=s) for a, k, p, s in hosts)
    path = tmp_path / "scan.xml"
    path.write_text(ONE_HOST.format(hosts=body))
    return path


def explain_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["explain", *map(str, args), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return resolve(json.loads(result.stdout))


def finding_on(doc: dict, port: int, kb_id: str = "ADV-1001") -> dict:  # type: ignore[type-arg]
    return next(f for f in doc["findings"] if f["port"] == port and f["kb_id"] == kb_id)


def commands(f: dict) -> str:  # type: ignore[type-arg]
    return (
        "\n".join(c for fix in f["fixes"] for c in fix["commands"])
        + "\n"
        + "\n".join(fix["config"] or "" for fix in f["fixes"])
    )


@pytest.fixture()
def mail_version_3413(tmp_path: Path) -> Path:
    path = tmp_path / "mail_version.txt"
    path.write_text("mail_version = 3.4.13\n")
    return path


def explain_ubuntu2004(master: Path, mail_version: Path) -> dict:  # type: ignore[type-arg]
    """The motivating case with the seed's ss line and an Ubuntu 20.04-like Postfix."""
    return explain_json(
        CASE / "scan.xml",
        "--ss",
        SEED_SS,
        "--postconf",
        U2004 / "postconf-n.txt",
        "--postconf-master",
        master,
        "--mail-version",
        mail_version,
    )


def test_motivating_case_names_postfix_master_and_smtpd(mail_version_3413: Path) -> None:
    doc = explain_ubuntu2004(U2004 / "postconf-M.txt", mail_version_3413)
    f = finding_on(doc, 465)
    sw = f["software"]
    assert (sw["name"], sw["version"], sw["confidence"]) == ("postfix", "3.4.13", "high")
    evidence = " ".join(e["text"] for e in sw["evidence"])  # plain text
    assert "master (pid 2078) owns the listening socket" in evidence
    assert "smtpd (pid 586529): the per-connection SMTP server that master forked" in evidence
    assert "master.cf service smtps" in evidence and "wrapper mode" in evidence
    evidence_md = " ".join(e["text_md"] for e in sw["evidence"])  # the same, in Markdown
    assert "`master` (pid 2078) owns the listening socket" in evidence_md
    assert "`smtpd` (pid 586529): the per-connection SMTP server that master forked" in evidence_md
    assert "master.cf service `smtps`" in evidence_md
    cmds = commands(f)
    assert "postconf -P 'smtps/inet/smtpd_tls_exclude_ciphers=aNULL'" in cmds
    # Postfix 3.4 syntax: the '!' exclusion list, never '>=TLSv1.3'
    assert "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2" in cmds and ">=TLSv1.3" not in cmds
    # what the configuration holds now, per service
    assert any("smtpd_tls_exclude_ciphers" in n for n in f["notes"])
    assert "Dovecot is not involved" in evidence


def test_os_release_gives_34_syntax() -> None:
    doc = explain_json(CASE / "scan.xml", "--os", "ubuntu-20.04")
    f = finding_on(doc, 465)
    assert f["software"]["version"] == "3.4.13"
    cmds = commands(f)
    assert "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2" in cmds and ">=TLSv1.3" not in cmds
    assert any(
        "Ubuntu 20.04" in e["text"] and "--os" in e["text"] for e in f["software"]["evidence"]
    )


def test_postfix_37_evidence_gives_36_syntax() -> None:
    doc = explain_json(
        CASE / "scan.xml", "--ss", CASE / "ss-lnpt.txt", "--mail-version", CASE / "mail_version.txt"
    )
    f = finding_on(doc, 465)
    assert f["software"]["version"] == "3.7.11"
    cmds = commands(f)
    assert ">=TLSv1.3" in cmds and "!TLSv1.2" not in cmds


def test_fix_already_applied_is_reported(mail_version_3413: Path) -> None:
    doc = explain_ubuntu2004(U2004 / "postconf-M-smtps-fixed.txt", mail_version_3413)
    f = finding_on(doc, 465)
    master_fix = next(x for x in f["fixes"] if x["scope"] == "master.cf service")
    assert master_fix["already_applied"] and "scan predates it" in master_fix["already_applied"]
    # port 25 has no such override: not applied there
    f25 = finding_on(doc, 25)
    assert all(x["already_applied"] is None for x in f25["fixes"] if x["scope"] == "main.cf")


def test_main_cf_fix_already_applied(tmp_path: Path) -> None:
    doc = explain_json(
        CASE / "scan.xml",
        "--postconf",
        EV / "lab" / "postconf-n.txt",
        "--postconf-master",
        CASE / "postconf-M.txt",
    )
    f = finding_on(doc, 25)
    main_fix = next(
        x
        for x in f["fixes"]
        if x["commands"] == ["postconf -e 'smtpd_tls_exclude_ciphers = aNULL'"]
    )
    assert main_fix["already_applied"]


def test_multi_host_scan_needs_host_for_evidence(tmp_path: Path) -> None:
    scan = scan_file(
        tmp_path, ("192.0.2.10", "ipv4", 465, "smtps"), ("192.0.2.11", "ipv4", 465, "smtps")
    )
    result = CliRunner().invoke(main, ["explain", str(scan), "--ss", str(SEED_SS)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "advisor: error: the scan has 2 hosts: say which one the evidence files come from "
        "with --host ADDRESS, or use --evidence-dir"
    )


def test_evidence_attaches_only_to_its_host(tmp_path: Path) -> None:
    scan = scan_file(
        tmp_path, ("192.0.2.10", "ipv4", 465, "smtps"), ("192.0.2.11", "ipv4", 465, "smtps")
    )
    doc = explain_json(scan, "--ss", SEED_SS, "--host", "192.0.2.10")
    by_host = {f["host"]: f for f in doc["findings"]}
    assert by_host["192.0.2.10"]["software"]["confidence"] == "high"
    assert by_host["192.0.2.11"]["software"]["confidence"] == "low"
    assert "2078" not in json.dumps(by_host["192.0.2.11"])


def test_evidence_dir_per_host(tmp_path: Path) -> None:
    scan = scan_file(
        tmp_path, ("192.0.2.10", "ipv4", 465, "smtps"), ("192.0.2.11", "ipv4", 443, "https")
    )
    evdir = tmp_path / "evidence"
    (evdir / "192.0.2.10").mkdir(parents=True)
    (evdir / "192.0.2.10" / "ss.txt").write_text(SEED_SS.read_text())
    (evdir / "192.0.2.11.ss.txt").write_text(
        'LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=900,fd=6),("nginx",pid=901,fd=6))\n'
    )
    doc = explain_json(scan, "--evidence-dir", evdir)
    by_host = {f["host"]: f["software"] for f in doc["findings"]}
    assert by_host["192.0.2.10"]["name"] == "postfix"
    assert by_host["192.0.2.11"]["name"] == "nginx"
    assert any("192.0.2.11.ss.txt" in line for line in doc["summary"]["evidence"])


def test_ipv6_listener_matches_ipv6_host_only(tmp_path: Path) -> None:
    ss = tmp_path / "ss.txt"
    ss.write_text(
        'LISTEN 0 100 [::1]:465 [::]:* users:(("master",pid=77,fd=20))\n'
        'LISTEN 0 100 127.0.0.1:465 0.0.0.0:* users:(("stunnel4",pid=88,fd=3))\n'
    )
    scan6 = scan_file(tmp_path, ("::1", "ipv6", 465, "smtps"))
    f = explain_json(scan6, "--ss", ss)["findings"][0]
    assert f["software"]["name"] == "postfix" and "pid 77" in json.dumps(f)
    scan4 = tmp_path / "v4.xml"
    scan4.write_text(
        ONE_HOST.format(hosts=HOST.format(addr="127.0.0.1", kind="ipv4", port=465, service="smtps"))
    )
    f4 = explain_json(scan4, "--ss", ss)["findings"][0]
    assert f4["software"]["name"] == "stunnel" and "pid 88" in json.dumps(f4)


def test_docker_proxy_is_explained(tmp_path: Path) -> None:
    scan = scan_file(tmp_path, ("192.0.2.20", "ipv4", 8443, "https-alt"))
    ss = tmp_path / "ss.txt"
    ss.write_text('LISTEN 0 4096 0.0.0.0:8443 0.0.0.0:* users:(("docker-proxy",pid=4242,fd=4))\n')
    f = explain_json(scan, "--ss", ss)["findings"][0]
    text = json.dumps(f["software"])
    assert "docker-proxy" in text and "container" in text


def test_no_evidence_says_which_commands_to_run() -> None:
    result = CliRunner().invoke(main, ["explain", str(CASE / "scan.xml")])
    out = result.stdout
    assert "## Get evidence from the server" in out
    for cmd in ("sudo ss -lnpt > ss.txt", "postconf -n > postconf.txt", "postconf -M > master.txt"):
        assert cmd in out
    assert "--ss ss.txt --postconf postconf.txt --postconf-master master.txt" in out


def test_unknown_release_is_an_input_error() -> None:
    result = CliRunner().invoke(main, ["explain", str(CASE / "scan.xml"), "--os", "plan9"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "advisor: error: --os plan9: unknown release (known: ubuntu-18.04"
    )


def test_local_runs_only_the_listed_read_only_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor.evidence.gather as gather

    assert gather.LOCAL_COMMANDS == {
        "listeners": ["ss", "-lnpt"],
        "postconf": ["postconf", "-n"],
        "master": ["postconf", "-M"],
        "mail_version": ["postconf", "mail_version"],
        "doveconf": ["doveconf", "-n"],
    }
    canned = {"listeners": SEED_SS, "mail_version": CASE / "mail_version.txt"}
    monkeypatch.setattr(
        gather,
        "LOCAL_COMMANDS",
        {kind: ["cat", str(path)] for kind, path in canned.items()} | {"doveconf": ["false"]},
    )
    scan = tmp_path / "scan.xml"
    scan.write_text(
        ONE_HOST.format(hosts=HOST.format(addr="127.0.0.1", kind="ipv4", port=465, service="smtps"))
    )
    doc = explain_json(scan, "--local")
    f = doc["findings"][0]
    assert f["software"]["name"] == "postfix" and f["software"]["version"] == "3.7.11"
    ran = doc["summary"]["evidence"]
    assert any(f"ran cat {SEED_SS}" in line for line in ran)
    assert any("false: exit 1" in line for line in ran)
    # evidence from this machine never applies to another host
    other = tmp_path / "other.xml"
    other.write_text(
        ONE_HOST.format(hosts=HOST.format(addr="192.0.2.7", kind="ipv4", port=465, service="smtps"))
    )
    assert explain_json(other, "--local")["findings"][0]["software"]["confidence"] == "low"
