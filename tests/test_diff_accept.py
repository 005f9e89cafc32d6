"""advisor diff on real before/after scans of the same server, and accepted-risk files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from tests.conftest import ROOT, resolve

BEFORE = ROOT / "tests" / "kb_samples" / "ADV-1001" / "positive-postfix-default.xml"
AFTER = ROOT / "tests" / "kb_samples" / "ADV-1001" / "negative-postfix-exclude-anull.xml"
CASE = ROOT / "samples" / "motivating-case" / "scan.xml"


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, [str(a) for a in args])


def test_fix_shows_as_fixed_and_exit_0() -> None:
    """Real Postfix 3.7.11 scans before and after smtpd_tls_exclude_ciphers = aNULL."""
    result = run("diff", BEFORE, AFTER, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "advisor-diff/2"
    assert doc["counts"] == {
        "new": 0,
        "still_open": 0,
        "fixed": 3,
        "not_rechecked": 0,
        "accepted": 0,
        "expired_acceptances": 0,
    }
    assert {f["kb_id"] for f in doc["fixed"]} == {"ADV-1001"}
    assert (
        result.stderr.strip()
        == "advisor: 0 new, 0 still open, 3 fixed, 0 not rechecked, 0 accepted"
    )


def test_regression_shows_as_new_and_exit_1() -> None:
    result = run("diff", AFTER, BEFORE)
    assert result.exit_code == 1
    assert "## New (3)" in result.stdout


def test_same_scan_is_still_open() -> None:
    result = run("diff", BEFORE, BEFORE, "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["counts"]["still_open"] == 3


def test_smaller_after_scan_is_not_a_fix(tmp_path: Path) -> None:
    """Ports the after scan did not look at are 'not rechecked', never 'fixed'."""
    text = AFTER.read_text()
    start = text.index('<port protocol="tcp" portid="11465">')
    end = text.index("</port>", start) + len("</port>")
    partial = tmp_path / "partial.xml"
    partial.write_text(text[:start] + text[end:])
    doc = json.loads(run("diff", BEFORE, partial, "--format", "json").stdout)
    assert doc["counts"]["fixed"] == 2 and doc["counts"]["not_rechecked"] == 1
    assert doc["not_rechecked"][0]["port"] == 11465


def test_diff_html_is_escaped_and_self_contained() -> None:
    page = run("diff", BEFORE, AFTER, "--format", "html").stdout
    assert "Content-Security-Policy" in page and "<script" not in page


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accepted.toml"
    path.write_text(text)
    return path


def test_accepted_risk_is_listed_apart_and_not_counted(tmp_path: Path) -> None:
    rules = write(
        tmp_path,
        """
[[accept]]
id = "ADV-1001"
hosts = ["127.0.0.*"]
ports = [25]
reason = "Public MX: opportunistic TLS, Postfix's documented default."
accepted_by = "Alice Admin"
expires = 2099-12-31
""",
    )
    doc = resolve(json.loads(run("explain", CASE, "--accept", rules, "--format", "json").stdout))
    assert {f["port"] for f in doc["findings"]} == {465, 587}
    (acc,) = doc["summary"]["accepted"]
    assert acc["endpoints"] == ["127.0.0.1:25/tcp"] and acc["accepted_by"] == "Alice Admin"
    md = run("explain", CASE, "--accept", rules).stdout
    assert "## Accepted risks" in md and "accepted by Alice Admin, until 2099-12-31" in md


def test_expired_acceptance_counts_again(tmp_path: Path) -> None:
    rules = write(
        tmp_path,
        """
[[accept]]
id = "ADV-1001"
reason = "temporary"
accepted_by = "Bob"
expires = 2020-01-01
""",
    )
    result = run("explain", CASE, "--accept", rules, "--format", "json")
    doc = resolve(json.loads(result.stdout))
    assert result.exit_code == 1
    assert len(doc["findings"]) == 3 and doc["summary"]["expired_acceptances"] == 3
    assert all("Risk acceptance expired" in f["notes"][-1] for f in doc["findings"])


def test_everything_accepted_gives_exit_0(tmp_path: Path) -> None:
    rules = write(
        tmp_path,
        """
[[accept]]
id = "ADV-1001"
reason = "lab"
accepted_by = "Carol"
expires = 2099-01-01
""",
    )
    assert run("explain", CASE, "--accept", rules).exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[accept]]\nid = "ADV-1001"\nreason = "x"\n',
            "accept[0]: accepted_by is required (a non-empty string)",
        ),
        (
            '[[accept]]\nid = "ADV-1001"\nreason = "x"\naccepted_by = "y"\nport = [25]\n',
            "accept[0]: unknown key 'port'",
        ),
        (
            '[[accept]]\nid = "ADV-0042"\nreason = "x"\naccepted_by = "y"\n',
            "no knowledge entry ADV-0042",
        ),
        (
            '[[accept]]\nid = "ADV-1001"\nreason = "x"\naccepted_by = "y"\nexpires = "soon"\n',
            "expires must be a TOML date",
        ),
    ],
)
def test_bad_accept_file_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    result = run("explain", CASE, "--accept", write(tmp_path, text))
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_fail_on_default_and_documented_codes() -> None:
    assert run("explain", CASE).exit_code == 1  # default --fail-on low; medium findings
    assert run("explain", CASE, "--fail-on", "high").exit_code == 0
    help_text = run("explain", "--help").stdout
    for code in (
        "0  nothing at or above --fail-on",
        "1  findings at or above --fail-on",
        "2  usage or input error",
        "3  scan incomplete",
        "4  internal error",
    ):
        assert code in help_text
