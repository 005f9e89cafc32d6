"""Japanese (``--lang ja``): template strings, knowledge-entry overlays, and the rendered report.

What is checked:

- ``advisor/locales/ja.toml`` has every key of ``en.toml`` with the same ``{placeholders}``;
- every overlay in ``knowledge/i18n/ja/`` belongs to an existing entry, uses only the documented
  keys, and its lists have exactly the English entry's lengths (translations go by position);
- code spans (commands, settings, nmap's strings) of the English text survive in the translation;
- ``explain --lang ja`` on a real scan: Japanese headings, every code block (configuration,
  commands, nmap evidence) byte-for-byte identical to the English report, and no fallback marker
  in the section of a fully translated entry;
- an entry without a translation falls back to English with the visible marker.
"""

from __future__ import annotations

import re
import shutil
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.i18n import LOCALES, Catalog
from advisor.kb import KnowledgeBase
from advisor.kb.translation import DIGEST_KEY
from tests.conftest import CORPUS, ROOT

JA_DIR = ROOT / "knowledge" / "i18n" / "ja"
OVERLAYS = sorted(JA_DIR.glob("ADV-*.toml"))
MARKER = "[英語]"

TEXT_KEYS = ("title", "severity_reason", "summary", "meaning", "why", "detection")
LIST_KEYS = {
    "severity_context": ("reason",),
    "false_positives": ("note",),
    "fixes": ("title", "notes", "scope"),
    "not_fixes": ("why", "change"),
    "verify": ("expect",),
    "references": ("title",),
}
#: Optional fields (half prose, half literal): an overlay may leave them in English.
OPTIONAL = {("fixes", "scope"), ("not_fixes", "change"), ("references", "title")}

MOTIVATING = ROOT / "samples" / "motivating-case" / "scan.xml"
KIS = CORPUS / "kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml"

# Headings of the Markdown report, as they must read in Japanese.
JA_HEADINGS = ("# nmap の検出結果の解説", "## 概要", "### どういう意味か", "### なぜ問題なのか")
EN_HEADINGS = ("## Summary", "### What it means", "### Why it matters", "#### How to fix")


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _spans(text: str) -> set[str]:
    """Inline code spans (single backticks) of a Markdown text, whitespace collapsed as
    Markdown does (a span may wrap onto the next line)."""
    return {" ".join(s.split()) for s in re.findall(r"(?<!`)`([^`]+)`(?!`)", text)}


# -- (a) template strings ----------------------------------------------------------------------


def test_ja_locale_has_every_english_key_with_the_same_placeholders() -> None:
    en = _toml(LOCALES / "en.toml")
    ja = _toml(LOCALES / "ja.toml")
    assert set(en) - set(ja) == set(), "untranslated template strings"
    assert set(ja) - set(en) == {"fallback_marker"}, "keys en.toml does not have"
    for key, text in en.items():
        assert isinstance(ja[key], str) and ja[key].strip(), key
        assert _placeholders(ja[key]) == _placeholders(text), key
        # the formatted string must not fail with the English placeholders
        ja[key].format(**{name: "X" for name in _placeholders(text)})
    assert ja["fallback_marker"] == MARKER


def test_ja_locale_strings_are_japanese() -> None:
    ja = _toml(LOCALES / "ja.toml")
    en = _toml(LOCALES / "en.toml")
    kana = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    # Strings identical in both languages ("POP3", "CPE {cpe}") are deliberate, not forgotten.
    english_only = [
        k
        for k, v in ja.items()
        if re.search("[A-Za-z]", re.sub(r"\{[a-z_]+\}", "", v))
        and not kana.search(v)
        and k != "fallback_marker"
        and v != en.get(k)
    ]
    assert english_only == []


def test_template_keys_used_by_the_templates_exist_in_ja() -> None:
    ja = _toml(LOCALES / "ja.toml")
    templates = ROOT / "advisor" / "render" / "templates"
    used: set[str] = set()
    for path in templates.glob("report.*.j2"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", path.read_text()))
    # keys built at render time: t("tls_" + mode), t("conf_" + confidence)
    dynamic = {k for k in used if k.endswith("_")}
    for prefix in dynamic:
        assert any(k.startswith(prefix) for k in ja), prefix
    assert (used - dynamic) - set(ja) == set()


# -- (b) entry overlays --------------------------------------------------------------------------


def test_there_are_japanese_overlays() -> None:
    assert OVERLAYS, "knowledge/i18n/ja/ is empty"


@pytest.mark.parametrize("path", OVERLAYS, ids=lambda p: p.stem)
def test_overlay_matches_its_english_entry(path: Path, kb: KnowledgeBase) -> None:
    entry = kb.get(path.stem)
    assert entry is not None, f"{path.name}: no knowledge entry {path.stem}"
    data = _toml(path)
    unknown = set(data) - set(TEXT_KEYS) - set(LIST_KEYS) - {DIGEST_KEY}
    assert unknown == set(), f"{path.name}: unknown keys {unknown}"
    for key in TEXT_KEYS:
        if key in data:
            assert isinstance(data[key], str), f"{path.name}: {key}"
    for key, subs in LIST_KEYS.items():
        english = entry.severity.context if key == "severity_context" else getattr(entry, key)
        items = data.get(key)
        if items is None:
            continue
        assert isinstance(items, list), f"{path.name}: {key} must be a list"
        assert len(items) == len(english), (
            f"{path.name}: {key} has {len(items)} items, the English entry {len(english)}"
        )
        for i, item in enumerate(items):
            assert isinstance(item, dict), f"{path.name}: {key}[{i}]"
            assert set(item) <= set(subs), f"{path.name}: {key}[{i}] keys {set(item)}"


def _pairs(entry: Any, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field name, English, Japanese) for every translated field of an overlay."""
    out: list[tuple[str, str, str]] = []
    for key in TEXT_KEYS:
        ja = data.get(key)
        if isinstance(ja, str) and ja.strip():
            if key == "title":
                en = entry.title
            elif key == "severity_reason":
                en = entry.severity.reason
            else:
                en = getattr(entry.text, key)
            out.append((key, en, ja))
    for key, subs in LIST_KEYS.items():
        pairs = zip(
            data.get(key, []),
            (entry.severity.context if key == "severity_context" else getattr(entry, key)),
            strict=False,
        )
        for i, (item, en_item) in enumerate(pairs):
            for sub in subs:
                ja = item.get(sub)
                if isinstance(ja, str) and ja.strip():
                    out.append((f"{key}[{i}].{sub}", getattr(en_item, sub), ja))
    return out


@pytest.mark.parametrize("path", OVERLAYS, ids=lambda p: p.stem)
def test_overlay_keeps_code_spans_untranslated(path: Path, kb: KnowledgeBase) -> None:
    """Commands, settings, paths and nmap's strings (code spans) are copied, never translated."""
    entry = kb.get(path.stem)
    assert entry is not None
    for name, en, ja in _pairs(entry, _toml(path)):
        missing = _spans(en) - _spans(ja)
        assert not missing, f"{path.name} {name}: code spans changed or lost: {missing}"
        assert ja.count("**") % 2 == 0, f"{path.name} {name}: unbalanced bold"


@pytest.mark.parametrize("path", OVERLAYS, ids=lambda p: p.stem)
def test_overlay_emphasis_renders(path: Path, kb: KnowledgeBase) -> None:
    """CommonMark's flanking rules treat CJK text differently from English: ``**…**`` next to
    Japanese punctuation can stay literal. Every ``*`` outside code must become emphasis."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    entry = kb.get(path.stem)
    assert entry is not None
    for name, _, ja in _pairs(entry, _toml(path)):
        html = re.sub(r"<code>.*?</code>", "", md.render(ja), flags=re.S)
        assert "*" not in html, f"{path.name} {name}: emphasis did not render: {html[:200]}"


def _fully_translated(entry: Any, data: dict[str, Any]) -> bool:
    for key in TEXT_KEYS:
        if key == "title":
            en = entry.title
        elif key == "severity_reason":
            en = entry.severity.reason
        else:
            en = getattr(entry.text, key)
        if en.strip() and not str(data.get(key, "")).strip():
            return False
    for key, subs in LIST_KEYS.items():
        items = data.get(key, [])
        for i, en_item in enumerate(
            entry.severity.context if key == "severity_context" else getattr(entry, key)
        ):
            for sub in subs:
                if (key, sub) in OPTIONAL:
                    continue
                if str(getattr(en_item, sub) or "").strip() and not (
                    i < len(items) and str(items[i].get(sub, "")).strip()
                ):
                    return False
    return True


# -- (c) the rendered report --------------------------------------------------------------------


def _scan() -> Path:
    if MOTIVATING.exists():
        return MOTIVATING
    if not KIS.exists():
        pytest.skip("neither the motivating-case sample nor the corpus file is present")
    return KIS


def _explain(*args: str) -> str:
    result = CliRunner().invoke(main, ["explain", *args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def _fences(markdown: str) -> list[str]:
    """Every fenced block (configuration, commands, nmap evidence), indentation removed."""
    blocks = re.findall(r"^([ \t]*)(`{3,})[a-z]*\n(.*?)\n\1\2$", markdown, re.M | re.S)
    return [re.sub(r"^[ \t]+", "", body, flags=re.M) for _, _, body in blocks]


def _sections(markdown: str) -> dict[str, str]:
    """Report section per entry id (``## n. [LEVEL] title (ADV-nnnn)``)."""
    out: dict[str, str] = {}
    for part in re.split(r"^---$", markdown, flags=re.M):
        m = re.search(r"^## \d+\. \[[^]]+\] .*\((ADV-\d{4})\)$", part, re.M)
        if m:
            out[m.group(1)] = part
    return out


@pytest.fixture(scope="module")
def reports() -> tuple[Path, str, str]:
    scan = _scan()
    return scan, _explain(str(scan), "--lang", "en"), _explain(str(scan), "--lang", "ja")


def test_ja_report_has_japanese_headings(reports: tuple[Path, str, str]) -> None:
    _, en, ja = reports
    for heading in JA_HEADINGS:
        assert heading in ja, heading
    for heading in EN_HEADINGS:
        assert heading in en
        assert heading not in ja, heading
    if "#### How to fix" in en:
        assert "#### 修正方法" in ja
    if "#### How to verify" in en:
        assert "#### 確認方法" in ja


def test_ja_report_keeps_commands_and_config_lines(reports: tuple[Path, str, str]) -> None:
    scan, en, ja = reports
    en_blocks, ja_blocks = _fences(en), _fences(ja)
    assert en_blocks, "the English report has no code blocks to compare"
    assert ja_blocks == en_blocks
    if scan == MOTIVATING:
        assert "smtpd_tls_exclude_ciphers" in ja
        assert "postconf -P '" in ja or "postconf -e 'smtpd_tls_exclude_ciphers = aNULL'" in ja
    # inline code spans (hosts, ports, nmap titles, settings) are all still there, but for
    # the not-fix changes that an overlay translates (English shows the whole change as one
    # literal; the translation is a sentence with the settings in code spans of their own)
    assert _spans(en) - _spans(ja) - _translated_changes() == set()


def _translated_changes() -> set[str]:
    kb = KnowledgeBase.load()
    out: set[str] = set()
    for path in OVERLAYS:
        entry = kb.get(path.stem)
        items = _toml(path).get("not_fixes", [])
        if entry is None:
            continue
        for nf, item in zip(entry.not_fixes, items, strict=False):
            if str(item.get("change", "")).strip():
                out.add(" ".join(nf.change.split()))
    return out


def test_ja_report_has_no_marker_for_translated_entries(
    reports: tuple[Path, str, str], kb: KnowledgeBase
) -> None:
    _, _, ja = reports
    sections = _sections(ja)
    assert sections, "no entry sections in the report"
    checked = []
    for entry_id, body in sections.items():
        path = JA_DIR / f"{entry_id}.toml"
        entry = kb.get(entry_id)
        if entry is None or not path.exists() or not _fully_translated(entry, _toml(path)):
            continue
        assert MARKER not in body, f"{entry_id}: fallback marker in a fully translated entry"
        checked.append(entry_id)
    assert checked, "no fully translated entry in the sample report"
    # every fixed template string is translated, so the marker appears nowhere else either
    head = ja.split("\n---\n", 1)[0]
    assert MARKER not in head


def test_motivating_case_answers_the_question(reports: tuple[Path, str, str]) -> None:
    scan, _, ja = reports
    if scan != MOTIVATING:
        pytest.skip("samples/motivating-case/scan.xml not captured yet")
    section = _sections(ja)["ADV-1001"]
    assert "匿名 Diffie-Hellman" in section
    assert "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability" in section
    assert "smtpd_tls_exclude_ciphers" in section
    assert MARKER not in section


def test_seed_paste_explained_in_japanese() -> None:
    """The seed's own terminal output (plain text, no -oX), as the admin pasted it."""
    paste = ROOT / "tests" / "data" / "text" / "seed-paste.txt"
    if not paste.exists():
        pytest.skip("tests/data/text/seed-paste.txt not present")
    en = _explain(str(paste), "--lang", "en")
    ja = _explain(str(paste), "--lang", "ja")
    section = _sections(ja)["ADV-1001"]
    assert MARKER not in section
    for text in ("### どういう意味か", "#### 修正方法", "#### 確認方法", "#### 効果のない対処"):
        assert text in section, text
    assert "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability" in section
    assert "Modulus Source: Unknown/Custom-generated" in section
    assert "smtpd_tls_exclude_ciphers = aNULL" in section
    assert _fences(ja) == _fences(en)


def test_ja_html_report_is_japanese(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    _explain(str(_scan()), "--lang", "ja", "--format", "html", "-o", str(out))
    html = out.read_text(encoding="utf-8")
    assert '<html lang="ja">' in html
    assert "どういう意味か" in html


# -- (d) fallback ----------------------------------------------------------------------------


def test_untranslated_entry_falls_back_to_english_with_marker(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    scan = _scan()
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    en = _explain(str(scan), "--lang", "en")
    victim = next(iter(_sections(en)))
    (knowledge / "i18n" / "ja" / f"{victim}.toml").unlink(missing_ok=True)
    ja = _explain(str(scan), "--lang", "ja", "--knowledge", str(knowledge))
    section = _sections(ja)[victim]
    entry = kb.get(victim)
    assert entry is not None
    assert f"{MARKER} {entry.text.summary.strip()}" in section
    assert f"{MARKER} {entry.title}" in section
    # the headings around it are still Japanese
    assert "### どういう意味か" in section


def test_one_missing_field_falls_back_alone(tmp_path: Path, kb: KnowledgeBase) -> None:
    entry = kb.get("ADV-1001")
    assert entry is not None
    ja = tmp_path / "i18n" / "ja"
    ja.mkdir(parents=True)
    (ja / "ADV-1001.toml").write_text(
        'summary = "要約"\nfixes = [{ title = "" }]\n', encoding="utf-8"
    )
    cat = Catalog.load("ja", tmp_path)
    assert cat.entry(entry, "summary") == "要約"
    assert cat.entry(entry, "why") == f"{MARKER} {entry.text.why}"
    assert cat.entry(entry, "fixes", 0, "title") == f"{MARKER} {entry.fixes[0].title}"
    assert cat.t("how_to_fix") == "修正方法"


def test_missing_template_string_falls_back_with_marker() -> None:
    cat = Catalog.load("ja")
    del cat.strings["how_to_fix"]
    assert cat.t("how_to_fix") == f"{MARKER} How to fix"
