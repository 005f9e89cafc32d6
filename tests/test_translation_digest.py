"""Translations record the English they translate; ``kb lint`` reports stale ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase, knowledge_dir
from advisor.kb.lint import lint
from advisor.kb.translation import DIGEST_KEY, current, english_digest, main

ENTRY = "ADV-1001"


@pytest.fixture()
def kbdir(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), root)
    return root


def _overlay_problems(root: Path) -> list[str]:
    problems, _ = lint(root, samples=root / "no-samples")
    return [p for p in problems if p.startswith("i18n/")]


def test_every_bundled_translation_is_current() -> None:
    kb = KnowledgeBase.load()
    overlays = sorted((knowledge_dir() / "i18n").glob("*/*.toml"))
    assert overlays
    for path in overlays:
        entry = kb.get(path.stem)
        assert entry is not None
        assert current(path, entry), f"{path.name} is stale"


def test_changed_english_makes_the_translation_stale(kbdir: Path) -> None:
    assert _overlay_problems(kbdir) == []
    entry_file = kbdir / "entries" / f"{ENTRY}.toml"
    text = entry_file.read_text(encoding="utf-8")
    assert "meaning = " in text
    entry_file.write_text(
        text.replace('meaning = """', 'meaning = """\nA sentence added since.\n', 1),
        encoding="utf-8",
    )
    problems = _overlay_problems(kbdir)
    assert problems == [
        f"i18n/ja/{ENTRY}.toml: stale translation: entries/{ENTRY}.toml changed since it was "
        f"translated (update the translation, then run python -m advisor.kb.translation "
        f"stamp knowledge/i18n/ja/{ENTRY}.toml)"
    ]
    # The translator updates the text, then stamps: current again.
    overlay = kbdir / "i18n" / "ja" / f"{ENTRY}.toml"
    assert main(["check", str(overlay), "--knowledge", str(kbdir)]) == 1
    assert main(["stamp", str(overlay), "--knowledge", str(kbdir)]) == 0
    assert _overlay_problems(kbdir) == []
    assert overlay.read_text(encoding="utf-8").count(DIGEST_KEY) == 1


def test_a_new_fix_makes_the_translation_stale(kbdir: Path) -> None:
    kb = KnowledgeBase.load(kbdir)
    entry = kb.get(ENTRY)
    assert entry is not None
    before = english_digest(entry)
    entry_file = kbdir / "entries" / f"{ENTRY}.toml"
    entry_file.write_text(
        entry_file.read_text(encoding="utf-8")
        + '\n[[fixes]]\nsoftware = "generic"\ntitle = "A fix added since"\n'
        'notes = "Not translated yet."\n',
        encoding="utf-8",
    )
    changed = KnowledgeBase.load(kbdir).get(ENTRY)
    assert changed is not None and len(changed.fixes) == len(entry.fixes) + 1
    assert english_digest(changed) != before
    assert any("stale translation" in p for p in _overlay_problems(kbdir))


def test_commands_are_not_part_of_the_digest(kbdir: Path) -> None:
    """Commands and settings are never translated: changing them keeps translations current."""
    kb = KnowledgeBase.load(kbdir)
    entry = kb.get(ENTRY)
    assert entry is not None and entry.fixes[0].commands
    entry_file = kbdir / "entries" / f"{ENTRY}.toml"
    text = entry_file.read_text(encoding="utf-8")
    command = entry.fixes[0].commands[0]
    assert command in text
    entry_file.write_text(text.replace(command, command + " # changed", 1), encoding="utf-8")
    changed = KnowledgeBase.load(kbdir).get(ENTRY)
    assert changed is not None and changed.fixes[0].commands[0].endswith("# changed")
    assert english_digest(changed) == english_digest(entry)
    assert _overlay_problems(kbdir) == []


def test_missing_digest_is_reported(kbdir: Path) -> None:
    overlay = kbdir / "i18n" / "ja" / f"{ENTRY}.toml"
    lines = overlay.read_text(encoding="utf-8").splitlines(keepends=True)
    overlay.write_text("".join(ln for ln in lines if not ln.startswith(DIGEST_KEY)), "utf-8")
    problems = _overlay_problems(kbdir)
    assert len(problems) == 1 and f"no {DIGEST_KEY}" in problems[0]
