"""The knowledge base cache: the same entries as parsing the TOML, used only for the same
files, never in the way."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase, knowledge_dir
from advisor.kb import cache as kb_cache


@pytest.fixture
def kb_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the knowledge base and an empty cache directory of its own."""
    root = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir() / "entries", root / "entries")
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _no_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_text: str) -> None:
        raise AssertionError("parsed TOML although the cache was valid")

    monkeypatch.setattr(tomllib, "loads", refuse)


def test_cached_entries_equal_parsed_ones(kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = KnowledgeBase.load(kb_copy)
    (made,) = (kb_copy.parent / "cache").glob("knowledge-*.json")
    _no_toml(monkeypatch)
    cached = KnowledgeBase.load(kb_copy)
    assert cached.entries == parsed.entries
    assert len(cached) == len(parsed) > 100
    assert list((kb_copy.parent / "cache").glob("knowledge-*.json")) == [made]


def test_an_edited_entry_is_parsed_again(kb_copy: Path) -> None:
    KnowledgeBase.load(kb_copy)
    path = kb_copy / "entries" / "ADV-1001.toml"
    text = path.read_text()
    path.write_text(text.replace('title = "', 'title = "Edited: ', 1))
    assert KnowledgeBase.load(kb_copy).entries["ADV-1001"].title.startswith("Edited: ")
    assert len(list((kb_copy.parent / "cache").glob("knowledge-*.json"))) == 2
    path.write_text(text)  # back: the first cache file serves again
    assert not KnowledgeBase.load(kb_copy).entries["ADV-1001"].title.startswith("Edited: ")


def test_a_damaged_cache_is_ignored(kb_copy: Path) -> None:
    expected = KnowledgeBase.load(kb_copy).entries
    (made,) = (kb_copy.parent / "cache").glob("knowledge-*.json")
    for damage in (b"", b"{not json", b'{"version": 1, "files": [1, 2]}', b"[]"):
        made.write_bytes(damage)
        assert KnowledgeBase.load(kb_copy).entries == expected


def test_invalid_toml_is_reported_and_not_cached(kb_copy: Path) -> None:
    (kb_copy / "entries" / "ADV-1001.toml").write_text('id = "ADV-1001"\ntitle = \n')
    (kb_copy / "entries" / "ADV-1002.toml").write_bytes(b'id = "\xff"\n')
    _, errors = KnowledgeBase.load_collecting(kb_copy)
    problems = {e.source: e.problems[0] for e in errors}
    assert problems["ADV-1001.toml"].startswith("not valid TOML: ")
    assert problems["ADV-1002.toml"].startswith("not valid TOML: not UTF-8")
    assert not list((kb_copy.parent / "cache").glob("knowledge-*.json"))


def test_cache_off_or_unwritable(kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_CACHE_DIR", "")
    assert kb_cache.cache_dir() is None
    assert len(KnowledgeBase.load(kb_copy)) > 100
    blocker = kb_copy.parent / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(blocker / "cache"))
    assert len(KnowledgeBase.load(kb_copy)) > 100


def test_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ADVISOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert kb_cache.cache_dir() == tmp_path / "advisor"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert kb_cache.cache_dir() == Path.home() / ".cache" / "advisor"

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    assert kb_cache.cache_dir() is None


def test_old_cache_files_are_pruned(kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb_cache, "KEEP", 2)
    path = kb_copy / "entries" / "ADV-1001.toml"
    text = path.read_text()
    for n in range(4):
        path.write_text(text + f"\n# edit {n}\n")
        KnowledgeBase.load(kb_copy)
    assert len(list((kb_copy.parent / "cache").glob("knowledge-*.json"))) == 2
