"""advisor diff with explain's options (--ignore, --accept, evidence, --os) and contextual
severities, on real scans.

BEFORE is samples/motivating-case/scan.xml (Postfix 3.7.11, anonymous DH on 25, 465 and 587);
AFTER is tests/data/diff/after-submission-fix.xml, the same lab server after ADV-1001's
recommended fix (master.cf override on 465 and 587 only): port 25 still offers anonymous DH,
which is ``info`` there (see tests/data/diff/README.md).
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from advisor.api import Options
from advisor.cli import main
from advisor.diff import compare, read_side
from advisor.kb import KnowledgeBase
from advisor.render import Format
from advisor.render.diff import render_diff
from tests.conftest import DATA, ROOT

CASE = ROOT / "samples" / "motivating-case"
BEFORE = CASE / "scan.xml"
AFTER = DATA / "diff" / "after-submission-fix.xml"
SS = CASE / "ss-lnpt.txt"
MAIL_VERSION = CASE / "mail_version.txt"
MASTER = DATA / "diff" / "postconf-M.txt"
HTTP_MULTI = DATA / "text" / "http-multi.xml"  # openssl s_server, self-signed cert on 24465
DH_ENUM = DATA / "text" / "dh-enum.xml"
TITLE = r"Anonymous Diffie\-Hellman cipher suites offered \(TLS without server authentication\)"
EVIDENCE = ("--ss", SS, "--postconf-master", MASTER, "--mail-version", MAIL_VERSION)


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def diff_json(*args: object) -> tuple[int, dict[str, Any]]:
    result = run("diff", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def ports(doc: dict[str, Any], section: str) -> list[int]:
    return sorted(i["port"] for i in doc[section])


def accept_file(tmp_path: Path, expires: str, ports: str = "[25]", reason: str = "") -> Path:
    path = tmp_path / "accepted.toml"
    path.write_text(
        f"""
[[accept]]
id = "ADV-1001"
hosts = ["127.0.0.1"]
ports = {ports}
reason = "{reason or "Public MX: opportunistic TLS, Postfix's documented default."}"
accepted_by = "Alice Admin"
expires = {expires}
"""
    )
    return path


# -- severity in context -------------------------------------------------------------------
def test_markdown_groups_show_each_endpoints_own_severity() -> None:
    """The same entry is medium on 465/587 and info on 25 (its context rule): one group per
    severity, so the port-25 endpoint is never listed under a 'medium' heading."""
    result = run("diff", BEFORE, BEFORE)
    md = result.stdout
    medium = f"- **{TITLE}** (ADV\\-1001, medium): `127.0.0.1:465/tcp`, `127.0.0.1:587/tcp`\n"
    info = f"- **{TITLE}** (ADV\\-1001, info): `127.0.0.1:25/tcp`\n"
    assert medium in md and info in md
    note = md[md.index(info) + len(info) :].splitlines()[0]
    assert note.startswith("  - *Severity info here:* Port 25 is server\\-to\\-server mail")
    assert result.exit_code == 1  # 465 and 587 are medium


def test_html_groups_show_each_endpoints_own_severity() -> None:
    page = run("diff", BEFORE, BEFORE, "--format", "html").stdout
    assert "(ADV-1001, info): <code>127.0.0.1:25/tcp</code> \n" in page
    assert (
        "(ADV-1001, medium): <code>127.0.0.1:465/tcp</code> <code>127.0.0.1:587/tcp</code> \n"
        in page
    )
    assert "<em>Severity info here:</em> Port 25 is server-to-server mail" in page


def test_json_severity_is_contextual() -> None:
    _, doc = diff_json(BEFORE, AFTER)
    assert doc["schema"] == "advisor-diff/2"
    (item,) = doc["still_open"]
    assert (item["port"], item["severity"], item["severity_contextual"]) == (25, "info", True)
    assert item["severity_reason"].startswith("Port 25 is server-to-server mail")
    assert {(i["port"], i["severity"], i["severity_contextual"]) for i in doc["fixed"]} == {
        (465, "medium", False),
        (587, "medium", False),
    }


def test_fail_on_uses_the_contextual_severity() -> None:
    """After the submission-port fix only port 25 is left, at info: below the default
    --fail-on low (its default severity, medium, would have failed the ticket)."""
    result = run("diff", BEFORE, AFTER)
    assert result.exit_code == 0, result.output
    assert "## Still open (1)" in result.stdout and "## Fixed (2)" in result.stdout
    assert run("diff", BEFORE, AFTER, "--fail-on", "info").exit_code == 1
    assert run("diff", AFTER, BEFORE, "--fail-on", "medium").exit_code == 1  # 465/587 new


# -- --ignore ------------------------------------------------------------------------------
def test_ignore_removes_an_entry_from_both_sides() -> None:
    _, plain = diff_json(DH_ENUM, DH_ENUM)
    assert "ADV-1001" in {i["kb_id"] for i in plain["still_open"]}
    code, doc = diff_json(DH_ENUM, DH_ENUM, "--ignore", "adv-1001")
    assert doc["ignored"] == ["ADV-1001"]
    assert all(i["kb_id"] != "ADV-1001" for s in ("new", "still_open", "fixed") for i in doc[s])
    assert doc["counts"]["still_open"] == plain["counts"]["still_open"] - 1
    assert code == 1  # the other entries are still open

    code, doc = diff_json(BEFORE, AFTER, "--ignore", "ADV-1001", "--fail-on", "info")
    assert code == 0
    assert all(doc["counts"][s] == 0 for s in ("new", "still_open", "fixed", "accepted"))
    assert (
        "- **Left out (--ignore):** `ADV-1001`"
        in run("diff", BEFORE, AFTER, "--ignore", "ADV-1001").stdout
    )


def test_ignore_of_an_unknown_entry_is_a_usage_error() -> None:
    result = run("diff", BEFORE, AFTER, "--ignore", "ADV-0042")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "advisor: error: --ignore ADV-0042: no such knowledge entry (see 'advisor kb list')"
    )


# -- --accept ------------------------------------------------------------------------------
def test_accepted_finding_still_present_is_listed_apart_and_exit_0(tmp_path: Path) -> None:
    rules = accept_file(tmp_path, "2099-12-31")
    assert run("diff", BEFORE, AFTER, "--fail-on", "info").exit_code == 1
    result = run("diff", BEFORE, AFTER, "--accept", rules, "--fail-on", "info", "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counts"] == {
        "new": 0,
        "still_open": 0,
        "fixed": 2,
        "not_rechecked": 0,
        "accepted": 1,
        "expired_acceptances": 0,
    }
    (item,) = doc["accepted"]
    assert (item["port"], item["severity"]) == (25, "info")
    assert item["acceptance"] == {
        "reason": "Public MX: opportunistic TLS, Postfix's documented default.",
        "accepted_by": "Alice Admin",
        "expires": "2099-12-31",
        "expired": False,
    }
    assert result.stderr.strip().endswith("0 still open, 2 fixed, 0 not rechecked, 1 accepted")
    md = run("diff", BEFORE, AFTER, "--accept", rules).stdout
    assert "## Accepted (1)" in md and "## Still open" not in md
    assert "*Accepted:* accepted by Alice Admin, until 2099-12-31: Public MX\\:" in md


def test_accepted_self_signed_certificate_closes_the_ticket(tmp_path: Path) -> None:
    """The issue's case: a self-signed certificate someone accepted must not keep a ticket
    open forever (openssl s_server's self-signed certificate, a real capture)."""
    assert run("diff", HTTP_MULTI, HTTP_MULTI).exit_code == 1
    rules = tmp_path / "accepted.toml"
    rules.write_text(
        '[[accept]]\nid = "ADV-1051"\nports = [24465]\nreason = "lab certificate"\n'
        'accepted_by = "Bob"\nexpires = 2099-01-01\n'
    )
    code, doc = diff_json(HTTP_MULTI, HTTP_MULTI, "--accept", rules)
    assert code == 0
    assert [(i["kb_id"], i["port"]) for i in doc["accepted"]] == [("ADV-1051", 24465)]
    # What stays open is below --fail-on (the Server header's version, info), not the
    # accepted certificate.
    assert "ADV-1051" not in {i["kb_id"] for i in doc["still_open"]}
    assert {i["severity"] for i in doc["still_open"]} <= {"info"}


def test_acceptance_that_matches_nothing_changes_nothing(tmp_path: Path) -> None:
    rules = accept_file(tmp_path, "2099-12-31", ports="[2525]")
    code, doc = diff_json(BEFORE, AFTER, "--accept", rules, "--fail-on", "info")
    assert code == 1 and ports(doc, "still_open") == [25] and doc["accepted"] == []


def test_expired_acceptance_keeps_the_finding_open(tmp_path: Path) -> None:
    rules = accept_file(tmp_path, "2020-01-01")
    result = run("diff", BEFORE, AFTER, "--accept", rules, "--fail-on", "info", "-f", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["accepted"] == [] and ports(doc, "still_open") == [25]
    assert doc["still_open"][0]["acceptance"]["expired"] is True
    assert doc["counts"]["expired_acceptances"] == 1
    assert "(1 with an expired acceptance, counted again)" in result.stderr
    # as explain counts it: the finding again, with a note that the acceptance expired
    explained = json.loads(run("explain", AFTER, "--accept", rules, "-f", "json").stdout)
    assert explained["summary"]["expired_acceptances"] == 1
    md = run("diff", BEFORE, AFTER, "--accept", rules).stdout
    assert "*Acceptance expired on 2020-01-01, counts again:* accepted by Alice Admin" in md


def test_accept_text_is_escaped(tmp_path: Path) -> None:
    rules = accept_file(tmp_path, "2099-12-31", reason="<script>alert(1)</script> *bold*")
    page = run("diff", BEFORE, AFTER, "--accept", rules, "-f", "html").stdout
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = run("diff", BEFORE, AFTER, "--accept", rules).stdout
    assert "\\<script\\>alert\\(1\\)\\</script\\> \\*bold\\*" in md


def test_bad_accept_file_is_a_usage_error(tmp_path: Path) -> None:
    rules = tmp_path / "accepted.toml"
    rules.write_text('[[accept]]\nid = "ADV-1001"\nreason = "x"\n')
    result = run("diff", BEFORE, AFTER, "--accept", rules)
    assert result.exit_code == 2
    assert "accept[0]: accepted_by is required" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- evidence and --os -----------------------------------------------------------------------
def software(doc: dict[str, Any], section: str) -> set[tuple[Any, ...]]:
    return {tuple(i["software"].values()) for i in doc[section]}


def test_evidence_reaches_both_sides() -> None:
    _, plain = diff_json(BEFORE, AFTER)
    assert (
        software(plain, "fixed")
        == software(plain, "still_open")
        == {("postfix", None, "medium", "nmap -sV")}
    )
    _, doc = diff_json(BEFORE, AFTER, *EVIDENCE)
    server = {("postfix", "3.7.11", "high", "ss")}
    assert software(doc, "fixed") == server  # BEFORE's items
    assert software(doc, "still_open") == server  # AFTER's items
    assert doc["before"]["evidence"] == doc["after"]["evidence"]
    assert f"the scanned host: read {SS} (listeners)" in doc["after"]["evidence"]
    md = run("diff", BEFORE, AFTER, *EVIDENCE).stdout
    assert "- **Evidence used for both scans:**" in md
    assert "  - *Who answers:* Postfix 3\\.7\\.11 \\(confidence high, from ss\\)" in md


def test_no_evidence_before_applies_it_to_after_only() -> None:
    _, doc = diff_json(BEFORE, AFTER, *EVIDENCE, "--no-evidence-before")
    assert software(doc, "fixed") == {("postfix", None, "medium", "nmap -sV")}
    assert software(doc, "still_open") == {("postfix", "3.7.11", "high", "ss")}
    assert doc["before"]["evidence"] == [] and doc["after"]["evidence"]
    assert (
        "- **Evidence used for the after scan:**"
        in run("diff", BEFORE, AFTER, *EVIDENCE, "--no-evidence-before").stdout
    )


def test_evidence_dir_applies_per_host(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    (folder / "127.0.0.1").mkdir(parents=True)
    shutil.copy(SS, folder / "127.0.0.1" / "ss.txt")
    _, doc = diff_json(BEFORE, AFTER, "--evidence-dir", folder)
    assert (
        software(doc, "fixed") == software(doc, "still_open") == {("postfix", None, "high", "ss")}
    )
    other = tmp_path / "other"
    (other / "192.0.2.7").mkdir(parents=True)  # another host's evidence: never attached here
    shutil.copy(SS, other / "192.0.2.7" / "ss.txt")
    _, doc = diff_json(BEFORE, AFTER, "--evidence-dir", other)
    assert software(doc, "still_open") == {("postfix", None, "medium", "nmap -sV")}


def test_os_applies_to_both_sides() -> None:
    _, doc = diff_json(BEFORE, AFTER, "--os", "debian-11")
    assert {i["software"]["version"] for s in ("fixed", "still_open") for i in doc[s]} == {"3.5.25"}
    result = run("diff", BEFORE, AFTER, "--os", "plan9")
    assert result.exit_code == 2 and "--os plan9: unknown release" in result.stderr


def test_evidence_for_a_multi_host_scan_needs_host() -> None:
    multi = DATA / "corpus" / "libnmap__full_sudo6_multi-host_ssl-scripts_6.40.xml"
    result = run("diff", multi, multi, "--ss", SS)
    assert result.exit_code == 2
    assert "say which one the evidence files come from with --host" in result.stderr


# -- the command line ------------------------------------------------------------------------
def test_diff_rejects_formats_it_does_not_render() -> None:
    result = run("diff", BEFORE, AFTER, "--format", "sarif")
    assert result.exit_code == 2
    assert "'sarif' is not one of 'markdown', 'html', 'json'" in result.stderr
    assert "[markdown|html|json]" in run("diff", "--help").stdout


def _params(name: str) -> dict[str, click.Parameter]:
    command = main.commands[name]
    return {p.name: p for p in command.params if p.name}


def test_explain_and_diff_share_one_definition_of_the_advice_options() -> None:
    shared = [
        "ignore",
        "accept_file",
        "ss_file",
        "postconf_file",
        "master_file",
        "mail_version_file",
        "doveconf_file",
        "nginx_file",
        "evidence_host",
        "evidence_dir",
        "local",
        "os_id",
    ]
    explain, diff = _params("explain"), _params("diff")
    for name in shared:
        a, b = explain[name], diff[name]
        assert a.to_info_dict() == b.to_info_dict(), name
    order = [n for n in _params("explain") if n in shared]
    assert order == shared == [n for n in _params("diff") if n in shared]


def test_library_calls_keep_their_shape(kb: KnowledgeBase) -> None:
    """read_side / compare / render_diff as other commands call them, positionally."""
    with BEFORE.open("rb") as fh:
        before = read_side(fh, kb, Options(), str(BEFORE))
    with AFTER.open("rb") as fh:
        after = read_side(fh, kb, Options(ignore=frozenset({"ADV-9000"})), str(AFTER))
    diff = compare(before, after)
    assert [i.port for i in diff.still_open] == [25] and diff.ignored == {"ADV-9000"}
    out = io.StringIO()
    render_diff(diff, Format.MARKDOWN, out, "before.xml", "after.xml")
    assert re.search(r"\(ADV\\-1001, info\): `127\.0\.0\.1:25/tcp`", out.getvalue())


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_each_format_writes_the_accepted_section(tmp_path: Path, fmt: str) -> None:
    rules = accept_file(tmp_path, "2099-12-31")
    target = tmp_path / f"diff.{fmt}"
    result = run("diff", BEFORE, AFTER, "--accept", rules, "-f", fmt, "-o", target)
    assert result.exit_code == 0 and result.stdout == ""
    text = target.read_text()
    assert {"markdown": "## Accepted (1)", "html": "<h2>Accepted", "json": '"accepted": ['}[
        fmt
    ] in text


def test_local_commands_run_once_for_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    """--local: the read-only commands run once; their evidence serves both scans. (The
    commands are replaced by the motivating case's own `ss -lnpt` capture.)"""
    from advisor.evidence import gather
    from advisor.evidence.attach import HostEvidence

    calls = []

    def fake_run_local() -> tuple[HostEvidence, frozenset[str]]:
        calls.append(1)
        ev = HostEvidence.from_texts("this machine (--local)", listeners=SS.read_text())
        ev.sources.append("ran `ss -lnpt`")
        return ev, frozenset()

    monkeypatch.setattr(gather, "run_local", fake_run_local)
    _, doc = diff_json(BEFORE, AFTER, "--local")
    assert len(calls) == 1
    assert (
        software(doc, "fixed") == software(doc, "still_open") == {("postfix", None, "high", "ss")}
    )
    assert doc["before"]["evidence"] == ["this machine (--local): ran ss -lnpt"]
    assert doc["before"]["evidence_md"] == ["this machine (--local): ran `ss -lnpt`"]


def _with_port_state(src: Path, port: int, state: str, dest: Path) -> Path:
    """``src`` with ``port``'s state rewritten and its scripts dropped, as nmap writes a port
    that is no longer open."""
    text = src.read_text(encoding="utf-8")
    start = text.index(f'portid="{port}"')
    start = text.rindex("<port ", 0, start)
    end = text.index("</port>", start) + len("</port>")
    dest.write_text(
        text[:start]
        + f'<port protocol="tcp" portid="{port}"><state state="{state}" reason="reset" '
        'reason_ttl="64"/></port>' + text[end:],
        encoding="utf-8",
    )
    return dest


@pytest.mark.parametrize("state", ["closed", "filtered"])
def test_a_port_no_longer_open_is_not_rechecked_not_fixed(tmp_path: Path, state: str) -> None:
    """Stopping the server or firewalling the port makes the finding vanish from the scan,
    but nothing was fixed: it is *not rechecked*, and the fixed ports stay fixed."""
    after = _with_port_state(AFTER, 465, state, tmp_path / "after.xml")
    _, doc = diff_json(BEFORE, after)
    assert 465 in ports(doc, "not_rechecked")
    assert 465 not in ports(doc, "fixed")
    assert ports(doc, "fixed") == [587]
