"""The command line, through click's CliRunner: exit codes, messages, atomic output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from tests.conftest import CORPUS, CORPUS_FILES, DATA, resolve

KIS = CORPUS / "kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml"


def run(*args: str, input: bytes | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_whole_corpus_in_every_format(path: Path, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"report.{fmt}"
    result = run("explain", str(path), "--format", fmt, "-o", str(out))
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        doc = resolve(json.loads(text))
        assert doc["schema"] == "advisor-report/3"
        assert len(doc["findings"]) == doc["summary"]["findings"]
    else:
        assert len(text) > 100


def test_findings_give_exit_1_and_summary_on_stderr() -> None:
    result = run("explain", str(KIS))
    assert result.exit_code == 1
    assert result.stdout.startswith("# nmap findings explained")
    assert re.match(
        r"advisor: \d+ finding\(s\) \(\d+ medium[^)]*\); \d+ kind\(s\); 1 host\(s\) read",
        result.stderr,
    )


def test_fail_on_threshold() -> None:
    assert run("explain", str(KIS), "--fail-on", "high").exit_code == 0
    assert run("explain", str(KIS), "--fail-on", "medium").exit_code == 1


def test_nothing_to_act_on_exit_0() -> None:
    result = run("explain", str(CORPUS / "defectdojo__issue12411_two-hosts-no-scripts_7.95.xml"))
    assert result.exit_code == 0
    assert "Nothing to act on" in result.stdout


def test_stdin() -> None:
    result = run("explain", "-", "--format", "json", input=KIS.read_bytes())
    assert result.exit_code == 1
    assert json.loads(result.stdout)["scan"]["source"] == "<stdin>"


def test_incomplete_scan_exit_3_and_warning() -> None:
    result = run("explain", str(DATA / "broken" / "truncated.xml"))
    assert result.exit_code == 3
    assert "advisor: warning: the scan is incomplete" in result.stderr
    assert "the scan is incomplete" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["explain", "/nonexistent/scan.xml"],
            "advisor: error: /nonexistent/scan.xml: no such file",
        ),
        (
            ["explain", str(DATA / "broken" / "empty.xml")],
            f"advisor: error: {DATA / 'broken' / 'empty.xml'}: the input is empty: "
            "expected nmap XML (-oX) or nmap normal output (-oN)",
        ),
        (
            ["explain", str(DATA / "broken" / "not-nmap-root.xml")],
            f"advisor: error: {DATA / 'broken' / 'not-nmap-root.xml'}: not an nmap XML file: "
            "no <nmaprun> element",
        ),
        (
            ["explain", "-"],
            "advisor: error: <stdin>: the input is empty: expected nmap XML (-oX) or nmap normal output (-oN)",
        ),
        (
            ["explain", str(KIS), "--ignore", "ADV-0000"],
            "advisor: error: --ignore ADV-0000: no such knowledge entry (see 'advisor kb list')",
        ),
        (
            ["kb", "show", "ADV-0000"],
            "advisor: error: no knowledge entry 'ADV-0000' (see 'advisor kb list')",
        ),
    ],
)
def test_bad_input_one_line_exit_2(args: list[str], message: str) -> None:
    result = run(*args, input=b"")
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_failed_run_leaves_previous_report_untouched(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("previous report")
    result = run("explain", str(DATA / "broken" / "empty.xml"), "-o", str(out))
    assert result.exit_code == 2
    assert out.read_text() == "previous report"
    assert list(tmp_path.iterdir()) == [out]


def test_render_crash_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor.render.markdown as md

    def half_then_crash(report, out, kb, catalog=None):  # type: ignore[no-untyped-def]
        out.write("# half a report")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(md, "render_markdown", half_then_crash)
    out = tmp_path / "r.md"
    with pytest.raises(RuntimeError):
        run("explain", str(KIS), "-o", str(out))
    assert list(tmp_path.iterdir()) == []


def test_ignore_drops_entry() -> None:
    result = run("explain", str(KIS), "--format", "json", "--ignore", "ADV-1002")
    doc = resolve(json.loads(result.stdout))
    assert "ADV-1002" not in {f["kb_id"] for f in doc["findings"]}


def test_json_finding_fields() -> None:
    doc = resolve(json.loads(run("explain", str(KIS), "--format", "json").stdout))
    f = next(x for x in doc["findings"] if x["kb_id"] == "ADV-1002")
    for key in (
        "host",
        "port",
        "protocol",
        "script",
        "title",
        "state",
        "kb_id",
        "severity",
        "false_positive",
        "fixes",
        "references",
    ):
        assert key in f
    assert (f["host"], f["port"], f["protocol"]) == ("192.168.1.1", 443, "tcp")
    assert f["state"] == "VULNERABLE" and f["severity"] in ("medium", "high", "low")
    assert f["fixes"] and f["references"]


def test_kb_list_json_has_proven_field() -> None:
    doc = json.loads(run("kb", "list", "--format", "json").stdout)
    assert doc["entries"] and all("proven" in e for e in doc["entries"])


def test_kb_show() -> None:
    result = run("kb", "show", "ADV-1001")
    assert result.exit_code == 0
    assert result.stdout.startswith("# ADV-1001: Anonymous Diffie-Hellman")


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["explain", "--help"],
        ["kb", "--help"],
        ["kb", "list", "--help"],
        ["kb", "show", "--help"],
        ["kb", "lint", "--help"],
    ):
        result = run(*args)
        assert result.exit_code == 0 and "Usage:" in result.stdout
    assert "Exit codes:" in run("explain", "--help").stdout


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from advisor.cli import _Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    bar = _Progress(100 << 20, "scan.xml")
    for done in (0, 50 << 20, 100 << 20):
        bar(done)
    bar.finish()
    assert "scan.xml: [" in tty.getvalue() and "100% (100/100 MiB)" in tty.getvalue()

    pipe = io.StringIO()  # not a terminal: silent
    monkeypatch.setattr(sys, "stderr", pipe)
    quiet = _Progress(100 << 20, "scan.xml")
    quiet(50 << 20)
    quiet.finish()
    assert pipe.getvalue() == ""
