"""Breadth for ``nmap -sC`` / ``-A``: every script of nmap 7.93's default, safe and auth
categories has a knowledge entry or an informational line (knowledge/informational.toml), and
real scans render the describing ones as informational, never as "without an entry"."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.advise.report import Report, split_unknown
from advisor.api import Options, explain
from advisor.cli import main
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.kb.informational import (
    FILE_NAME,
    InformationalError,
    frozen_scripts,
    lint_informational,
    load_informational,
)
from advisor.kb.lint import lint
from advisor.render import Format, render
from tests.conftest import CORPUS, DATA, ROOT

SCRIPT_DB = Path("/usr/share/nmap/scripts/script.db")
FROZEN = DATA / "nmap-default-safe-auth-7.93.txt"
KNOWLEDGE = ROOT / "knowledge"

#: Real public scans made with -sC (tests/data/corpus/SOURCES.md has their provenance).
SC_FILES = [
    *sorted(CORPUS.glob("htb__*.xml")),
    CORPUS / "dradis-nmap__nse-01_smtp-commands_6.00.xml",
    *sorted(CORPUS.glob("libnmap__dionaea_*.xml")),
    *sorted(CORPUS.glob("nmap__ndiff-complex_*.xml")),
]


def _frozen() -> list[str]:
    return frozen_scripts(FROZEN)


def _with_entries(kb: KnowledgeBase) -> set[str]:
    return {script for entry in kb for script in entry.match.scripts}


# -- the list ------------------------------------------------------------------------------
def test_frozen_list_is_the_369_scripts_sorted_once() -> None:
    scripts = _frozen()
    assert len(scripts) == 369
    assert scripts == sorted(set(scripts))
    assert {"http-title", "nbstat", "ssh-hostkey", "ftp-anon", "broadcast-ping"} <= set(scripts)
    assert "ssl-enum-ciphers" not in scripts  # discovery + intrusive: not -sC


def test_frozen_list_equals_installed_script_db() -> None:
    if not SCRIPT_DB.exists():
        pytest.skip(f"nmap is not installed here ({SCRIPT_DB} missing; .ci/run installs it)")
    rows = re.findall(r'filename = "([^"]+)\.nse", categories = \{([^}]*)\}', SCRIPT_DB.read_text())
    assert len(rows) > 500
    installed = sorted(n for n, cats in rows if re.search(r'"(default|safe|auth)"', cats))
    assert installed == _frozen()


# -- coverage ------------------------------------------------------------------------------
def test_every_default_safe_auth_script_has_a_line() -> None:
    info = load_informational(KNOWLEDGE)
    missing = sorted(set(_frozen()) - set(info.scripts))
    assert not missing, f"{len(missing)} script(s) without a line in {FILE_NAME}: {missing}"
    assert sorted(info.scripts) == _frozen()
    for line in info:
        assert line.lines["en"] and line.lines["ja"], line.script
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", line.lines["ja"]), line.script


BACKLOG = DATA / "coverage-backlog-7.93.txt"


def _backlog() -> set[str]:
    """Weakness scripts known to have no entry yet (the list only shrinks)."""
    lines = BACKLOG.read_text(encoding="utf-8").splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def test_every_script_that_can_state_a_weakness_has_an_entry(kb: KnowledgeBase) -> None:
    """Scripts whose output can state a weakness need a knowledge entry; a script with an
    entry cannot be listed as one that only describes."""
    info = load_informational(KNOWLEDGE)
    entries = _with_entries(kb)
    weakness = {line.script for line in info if line.weakness}
    missing = sorted(weakness - entries)
    backlog = _backlog()
    unlisted = [s for s in missing if s not in backlog]
    assert not unlisted, (
        f"{len(unlisted)} script(s) marked weakness = true in {FILE_NAME} without a knowledge "
        f"entry (match.script) and not in {BACKLOG.name}: {unlisted}"
    )
    done = sorted(backlog - set(missing))
    assert not done, f"{BACKLOG.name} lists scripts that have an entry now: remove {done}"
    describing_with_entry = sorted(s for s in entries & set(info.scripts) if s not in weakness)
    assert not describing_with_entry, (
        f"script(s) with a knowledge entry but weakness = false in {FILE_NAME}: "
        f"{describing_with_entry}"
    )


def test_knowledge_informational_lints_clean() -> None:
    assert lint_informational(KNOWLEDGE) == []


# -- rendering real -sC scans --------------------------------------------------------------
def _report(path: Path, kb: KnowledgeBase) -> Report:
    with path.open("rb") as fh:
        return explain(fh, kb, Options(guess_os=False), source=path.name)


def _render(report: Report, kb: KnowledgeBase, fmt: Format, lang: str = "en") -> str:
    out = io.StringIO()
    render(fmt, report, out, kb, Catalog.load(lang, kb.root))
    return out.getvalue()


def _section(text: str, heading: str) -> str:
    """The Markdown section under ``## heading`` (up to the next rule)."""
    start = text.index(f"## {heading}\n")
    end = text.find("\n---\n", start)
    return text[start : end if end != -1 else None]


@pytest.fixture(scope="session")
def minimal_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The real informational.toml with a single (TLS) entry: every listed script of a -sC
    scan then matches no entry, so each one must come out as informational."""
    tmp = tmp_path_factory.mktemp("minimal")
    return KnowledgeBase.load(
        _knowledge_copy(tmp, (KNOWLEDGE / FILE_NAME).read_text(encoding="utf-8"))
    )


@pytest.mark.parametrize("which", ["real", "minimal"])
@pytest.mark.parametrize("path", SC_FILES, ids=lambda p: p.name)
def test_sc_scans_show_describing_scripts_as_informational(
    path: Path, which: str, kb: KnowledgeBase, minimal_kb: KnowledgeBase
) -> None:
    assert path.exists(), path
    kb = kb if which == "real" else minimal_kb
    info = load_informational(kb.root)
    report = _report(path, kb)
    shown, unknown = split_unknown(report, info)
    if which == "minimal":
        assert shown, f"{path.name}: no informational script"
    elif not shown:
        return  # every listed script of this scan matched an entry
    assert all(u.script not in info for u in unknown)
    en = Catalog.load("en", kb.root)
    ja = Catalog.load("ja", kb.root)

    md = _render(report, kb, Format.MARKDOWN)
    section = _section(md, en.t("informational_heading"))
    md_ja = _render(report, kb, Format.MARKDOWN, "ja")
    section_ja = _section(md_ja, ja.t("informational_heading"))
    html = _render(report, kb, Format.HTML)
    html_ja = _render(report, kb, Format.HTML, "ja")
    doc = json.loads(_render(report, kb, Format.JSON))
    rows = {r["script"]: r for r in doc["summary"]["informational"]}
    unknown_json = {u["script"] for u in doc["summary"]["unknown_scripts"]}

    other = md.split(f"## {en.t('other_output')}\n", 1)[1] if unknown else ""
    for row in shown:
        line = row.info
        where = en.t("where_count", n=row.count, hosts=row.hosts)
        assert f"- `{row.script}` ({en.t('sev_info')}; {where}): {line.line('en')}" in section
        assert f"`{row.script}`" in section_ja and line.line("ja") in section_ja
        assert f"### `{row.script}`" not in other  # not with the scripts without an entry
        assert f"<code>{row.script}</code>" in html
        assert line.line("ja") in html_ja
        assert row.script not in unknown_json
        assert rows[row.script] == {
            "script": row.script,
            "severity": "info",
            "count": row.count,
            "hosts": row.hosts,
            "weakness_entries": line.weakness,
            "text": line.line("en"),
            "translations": {"ja": line.line("ja")},
        }
    assert len(rows) == len(shown)
    # the output itself is not repeated: one line per script
    assert sum(1 for ln in section.splitlines() if ln.startswith("- `")) == len(shown)


def test_describing_script_counts_endpoints_and_hosts(kb: KnowledgeBase) -> None:
    """dionaea: http-title on two ports of one host; beep: http-title on 80 and 443."""
    for name in (
        "libnmap__dionaea_prescript-hostscript-many-scripts.xml",
        "htb__beep_smtp-imap-pop3-capabilities_7.80.xml",
    ):
        report = _report(CORPUS / name, kb)
        shown, _ = split_unknown(report, load_informational(kb.root))
        title = next(r for r in shown if r.script == "http-title")
        assert (title.count, title.hosts) == (2, 1), name


def test_cli_summary_counts_informational_and_exit_code_stays_0(tmp_path: Path) -> None:
    """With a knowledge base where no entry matches the scan (one TLS entry), every script
    is informational: none is "without an entry", and even --fail-on info exits 0."""
    root = _knowledge_copy(tmp_path, (KNOWLEDGE / FILE_NAME).read_text(encoding="utf-8"))
    scan = CORPUS / "dradis-nmap__nse-01_smtp-commands_6.00.xml"
    out = tmp_path / "r.md"
    result = CliRunner().invoke(
        main,
        ["explain", str(scan), "--knowledge", str(root), "--fail-on", "info", "-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert summary == (
        "advisor: 0 finding(s); 0 kind(s); 1 host(s) read; 7 script(s) informational; "
        f"report written to {out}"
    )
    text = out.read_text(encoding="utf-8")
    assert "## Informational script output" in text
    assert "## Other script output" not in text
    assert "- `http-title` (info; 1 endpoint(s) on 1 host(s)): the title of the web " in text


def test_scripts_outside_the_list_stay_without_an_entry(
    kb: KnowledgeBase, minimal_kb: KnowledgeBase
) -> None:
    """nmap 4.90's ``html-title`` and ``whois`` are no scripts of 7.93: no line, so they are
    still listed with their output."""
    report = _report(CORPUS / "nmap__ndiff-complex_hostscript_4.90RC2.xml", kb)
    shown, unknown = split_unknown(report, load_informational(kb.root))
    assert {u.script for u in unknown} == {"html-title", "whois"}
    assert {r.script for r in shown} <= {"dns-recursion", "ssh-hostkey"}  # as entries match
    md = _render(report, kb, Format.MARKDOWN)
    assert "### `html-title`" in md and "### `whois`" in md
    report = _report(CORPUS / "nmap__ndiff-complex_hostscript_4.90RC2.xml", minimal_kb)
    shown, unknown = split_unknown(report, load_informational(minimal_kb.root))
    assert {u.script for u in unknown} == {"html-title", "whois"}
    assert [r.script for r in shown] == ["dns-recursion", "ssh-hostkey"]


# -- bad data ------------------------------------------------------------------------------
def _knowledge_copy(tmp_path: Path, informational: str) -> Path:
    """A knowledge directory with one real entry and the given informational.toml, next to a
    copy of the frozen list (as in the source tree)."""
    root = tmp_path / "knowledge"
    (root / "entries").mkdir(parents=True)
    shutil.copy(KNOWLEDGE / "entries" / "ADV-1001.toml", root / "entries")
    (root / FILE_NAME).write_text(informational, encoding="utf-8")
    frozen = tmp_path / "tests" / "data"
    frozen.mkdir(parents=True)
    shutil.copy(FROZEN, frozen)
    return root


BAD = """\
[[script]]
id = "http-title"
en = "the title of the page; no weakness."
ja = "ページのタイトルです。"

[[script]]
id = "http-title"
en = "again"
ja = "再び"

[[script]]
id = "nbstat"
en = "   "

[[script]]
id = "no-such-script"
en = "made up"
ja = "架空"
colour = "red"

[[script]]
id = "banner"
weakness = "yes"
en = "the `banner`"
ja = "バナー"
"""


def test_lint_names_file_and_key_of_each_problem(tmp_path: Path) -> None:
    root = _knowledge_copy(tmp_path, BAD)
    problems, _ = lint(root, tmp_path / "no-samples")
    mine = [p for p in problems if p.startswith(FILE_NAME)]
    assert mine == [
        "informational.toml: script[1] (http-title).id: 'http-title' is listed twice",
        "informational.toml: script[2] (nbstat).en: must be a non-empty line",
        "informational.toml: script[2] (nbstat).ja: the line in 'ja' is missing",
        "informational.toml: script[3] (no-such-script).colour: unknown key (allowed: id, "
        "weakness, en, ja)",
        "informational.toml: script[4] (banner).weakness: must be true or false",
        "informational.toml: script[4] (banner).en: plain text only (no `*<>\\[\\]|\\\\): the "
        "line is shown as it is in Markdown, HTML and JSON",
        "informational.toml: script[3] (no-such-script).id: not a script of nmap 7.93's "
        "default, safe or auth categories (tests/data/nmap-default-safe-auth-7.93.txt)",
    ]


def test_loading_bad_data_raises_with_file_and_key(tmp_path: Path) -> None:
    root = _knowledge_copy(tmp_path, BAD)
    with pytest.raises(InformationalError) as err:
        load_informational(root)
    assert err.value.source == FILE_NAME
    assert "script[1] (http-title).id: 'http-title' is listed twice" in err.value.problems


def test_explain_refuses_bad_informational_file(tmp_path: Path) -> None:
    root = _knowledge_copy(tmp_path, 'script = "nope"\n')
    scan = CORPUS / "dradis-nmap__nse-01_smtp-commands_6.00.xml"
    result = CliRunner().invoke(
        main, ["explain", str(scan), "--knowledge", str(root)], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "advisor: error: knowledge base is invalid: informational.toml: script: must be "
        "[[script]] tables (run 'advisor kb lint')"
    )
    assert result.stdout == ""


def test_knowledge_without_the_file_shows_scripts_as_before(tmp_path: Path) -> None:
    root = _knowledge_copy(tmp_path, "")
    (root / FILE_NAME).unlink()
    kb = KnowledgeBase.load(root)
    report = _report(CORPUS / "dradis-nmap__nse-01_smtp-commands_6.00.xml", kb)
    shown, unknown = split_unknown(report, load_informational(root))
    assert shown == [] and "http-title" in {u.script for u in unknown}
    assert lint_informational(root) == []
