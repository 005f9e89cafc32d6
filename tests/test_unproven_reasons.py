"""Every fix the proof matrix does not list as proven has one reason from the closed list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.kb.lint import lint
from advisor.kb.proof import MATRIX_NAME, unproven_reason
from advisor.kb.schema import UNPROVEN_REASONS, Fix

ROOT = Path(__file__).resolve().parents[1]
KB = KnowledgeBase.load()


def _fix(entry_id: str, software: str) -> Fix:
    entry = KB.get(entry_id)
    assert entry is not None
    return next(f for f in entry.fixes if f.software == software)


def test_the_closed_list_is_the_issue_s_list() -> None:
    assert set(UNPROVEN_REASONS.values()) == {
        "needs an old vulnerable build",
        "Debian 12 OpenSSL cannot produce the state",
        "not Debian software",
        "procedure, not configuration",
        "another release",
    }


def test_rc4_fixes_say_openssl_cannot_produce_the_state() -> None:
    for software in ("postfix", "dovecot", "nginx", "apache"):
        assert unproven_reason(_fix("ADV-1013", software), "1.22.1")[0] == "openssl-cannot"


def test_reasons_the_suite_decides_by_itself() -> None:
    assert unproven_reason(_fix("ADV-1013", "windows"), None)[0] == "not-debian"
    openssl = [f for e in KB for f in e.fixes if f.software == "openssl" and not f.unproven]
    assert openssl and unproven_reason(openssl[0], "3.0.15")[0] == "old-build"
    # A Dovecot 2.3-only fix on a release outside its range is "another release".
    dovecot_23 = next(
        f
        for e in KB
        for f in e.fixes
        if f.software == "dovecot" and f.versions.describe() == ">=2.3,<2.4"
    )
    code, detail = unproven_reason(dovecot_23, "2.4.1")
    assert (code, "Debian 12 has 2.4.1" in detail) == ("other-release", True)
    procedure = next(f for e in KB for f in e.fixes if f.software == "nginx" and not f.settings)
    assert unproven_reason(procedure, "1.22.1")[0] == "procedure"


def test_an_unknown_unproven_code_is_a_schema_error(tmp_path: Path) -> None:
    src = (ROOT / "knowledge" / "entries" / "ADV-1013.toml").read_text()
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "ADV-1013.toml").write_text(
        src.replace('unproven = "openssl-cannot"', 'unproven = "too-hard"', 1)
    )
    problems, _ = lint(tmp_path, tmp_path / "no-samples")
    assert any("unproven" in p and "too-hard" in p for p in problems), problems


@pytest.mark.parametrize("row_change", [{"reason": ""}, {"reason": "lazy", "why": "lazy"}])
def test_lint_flags_a_matrix_row_without_a_reason(
    tmp_path: Path, row_change: dict[str, str]
) -> None:
    shutil.copytree(ROOT / "knowledge" / "entries", tmp_path / "entries")
    doc = json.loads((ROOT / "knowledge" / MATRIX_NAME).read_text(encoding="utf-8"))
    doc["not_provable"] = [doc["not_provable"][0] | row_change]
    (tmp_path / MATRIX_NAME).write_text(json.dumps(doc))
    problems, _ = lint(tmp_path, tmp_path / "no-samples")
    row = doc["not_provable"][0]
    assert any("no reason from the closed list" in p and row["entry"] in p for p in problems), (
        problems
    )
