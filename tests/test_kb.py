"""The knowledge base: schema errors, lint, and every entry's positive/negative samples."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase, knowledge_dir
from advisor.kb.lint import lint, sample_matches
from advisor.kb.schema import EntryError, parse_entry
from advisor.kb.versions import VersionRange, parse_version

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "kb_samples"
ENTRY_IDS = sorted(p.stem for p in (ROOT / "knowledge" / "entries").glob("ADV-*.toml"))


def exemplar() -> dict:  # type: ignore[type-arg]
    with (ROOT / "knowledge" / "entries" / "ADV-1001.toml").open("rb") as fh:
        return tomllib.load(fh)


def problems_of(data: dict) -> list[str]:  # type: ignore[type-arg]
    with pytest.raises(EntryError) as info:
        parse_entry(data, "X.toml")
    return info.value.problems


def test_kb_lint_is_clean() -> None:
    problems, checked = lint(knowledge_dir())
    assert checked == len(ENTRY_IDS)
    assert problems == []


def test_missing_and_unknown_keys_are_named() -> None:
    data = exemplar()
    del data["references"]
    data["colour"] = "red"
    data["fixes"][0]["sttings"] = {}
    assert sorted(problems_of(data)) == sorted(
        [
            "colour: unknown key (allowed here: category, cve, false_positives, fixable, fixes, id, "
            "match, not_fixes, references, severity, slug, text, title, verify)",
            "references: missing (required)",
            "fixes[0].sttings: unknown key (allowed here: commands, config, notes, ports, recommended, "
            "references, reload, scope, settings, software, target, title, unproven, versions)",
        ]
    )


def test_friendly_value_errors() -> None:
    data = exemplar()
    data["severity"]["level"] = "severe"
    data["fixes"][1]["versions"] = ">=3.x"
    data["match"]["warnings"] = ["("]
    data["references"] = []
    problems = problems_of(data)
    assert "severity.level: 'severe' is not one of: info, low, medium, high, critical" in problems
    assert (
        "fixes[1].versions: bad version range '>=3.x': write comparisons like '>=3.4,<3.6'"
        in problems
    )
    assert any(p.startswith("match.warnings[0]: bad regular expression '('") for p in problems)
    assert (
        "match: give exactly one of titles, warnings, grades, protocols, output, vulners, error, cert (found: titles, warnings)"
        in problems
    )
    assert "references: include at least one URL in [[references]]" in problems


def test_retired_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    src = ROOT / "knowledge" / "entries" / "ADV-1001.toml"
    (tmp_path / "entries" / "ADV-1001.toml").write_bytes(src.read_bytes())
    (tmp_path / "retired.txt").write_text("ADV-1001  # replaced\n")
    _, errors = KnowledgeBase.load_collecting(tmp_path)
    assert errors[0].problems == ["id: ADV-1001 is retired (knowledge/retired.txt): never reuse it"]


def test_versions() -> None:
    r = VersionRange.parse(">=3.4,<3.6")
    assert r.contains(parse_version("3.4.13-0ubuntu1.4") or ())
    assert not r.contains(parse_version("3.7.11") or ())
    assert parse_version("2.3.19.1 (9b53102964)") == (2, 3, 19, 1)


@pytest.mark.parametrize("entry_id", ENTRY_IDS)
def test_entry_samples(entry_id: str, kb: KnowledgeBase) -> None:
    folder = SAMPLES / entry_id
    positives = sorted(folder.glob("positive-*"))
    negatives = sorted(folder.glob("negative-*"))
    assert positives, f"{entry_id}: no positive sample"
    assert negatives, f"{entry_id}: no negative sample"
    for path in positives:
        assert entry_id in sample_matches(path, kb), f"{path.name} should match {entry_id}"
    for path in negatives:
        assert entry_id not in sample_matches(path, kb), f"{path.name} should not match {entry_id}"


def test_lint_refuses_a_fix_that_is_also_listed_as_not_a_fix(tmp_path: Path) -> None:
    """The lab notes' non-fixes (smtpd_tls_ciphers = high ...) can never be offered as fixes."""
    src = (ROOT / "knowledge" / "entries" / "ADV-1001.toml").read_text()
    bad = (
        src
        + """
[[fixes]]
software = "postfix"
title = "Use the high cipher grade"
target = "postfix-main"
settings = { smtpd_tls_ciphers = "high", smtpd_tls_mandatory_ciphers = "high" }
config = "smtpd_tls_ciphers = high"
"""
    )
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "ADV-1001.toml").write_text(bad)
    problems, _ = lint(tmp_path, tmp_path / "no-samples")
    assert any("applies the same settings as not_fixes[1]" in p for p in problems), problems


def test_not_fixes_from_the_lab_notes_are_never_offered(kb: KnowledgeBase) -> None:
    entry = kb.get("ADV-1001")
    assert entry is not None
    offered = [dict(f.settings) for f in entry.fixes]
    assert {"smtpd_tls_ciphers": "high", "smtpd_tls_mandatory_ciphers": "high"} not in offered
    assert {"smtpd_tls_security_level": "encrypt"} not in offered
    only_protocols = [f for f in entry.fixes if set(dict(f.settings)) == {"smtpd_tls_protocols"}]
    assert all(f.ports and 465 not in f.ports for f in only_protocols)
