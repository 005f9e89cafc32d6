"""``--lang ja`` covers every entry: no field falls back to English, and each entry's own
positive sample, explained in Japanese, shows no fallback marker in its section.

And the seed (the Japanese question that started the project: nmap's normal text output for
port 465, ``tests/data/text/seed-paste.txt``), explained with ``--lang ja`` in Markdown, has no
English sentence outside what stays as it is: code spans and blocks (commands, configuration,
nmap's output), URLs, nmap's strings quoted in 「」, and product names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.kb.schema import Entry
from tests.conftest import ROOT

MARKER = "[英語]"
SAMPLES = ROOT / "tests" / "kb_samples"
SEED = ROOT / "tests" / "data" / "text" / "seed-paste.txt"
SEED_SS = ROOT / "tests" / "data" / "evidence" / "seed" / "seed-ss.txt"
ENTRY_IDS = sorted(p.stem for p in (ROOT / "knowledge" / "entries").glob("ADV-*.toml"))


def _fields(entry: Entry) -> list[tuple[str, int | None, str | None]]:
    """Every translatable field of ``entry`` as Catalog.entry arguments."""
    out: list[tuple[str, int | None, str | None]] = [
        (k, None, None)
        for k in ("title", "severity_reason", "summary", "meaning", "why", "detection")
    ]
    out += [("severity_context", i, "reason") for i in range(len(entry.severity.context))]
    out += [("false_positives", i, "note") for i in range(len(entry.false_positives))]
    for i in range(len(entry.fixes)):
        out += [("fixes", i, "title"), ("fixes", i, "notes")]
    out += [("not_fixes", i, "why") for i in range(len(entry.not_fixes))]
    out += [("verify", i, "expect") for i in range(len(entry.verify))]
    return out


@pytest.fixture(scope="module")
def ja() -> Catalog:
    return Catalog.load("ja")


@pytest.mark.parametrize("entry_id", ENTRY_IDS)
def test_every_field_of_every_entry_is_japanese(
    entry_id: str, kb: KnowledgeBase, ja: Catalog
) -> None:
    entry = kb.get(entry_id)
    assert entry is not None
    assert ja.translated(entry), f"{entry_id}: no knowledge/i18n/ja/{entry_id}.toml"
    untranslated = [
        f"{key}[{index}].{sub}" if index is not None else key
        for key, index, sub in _fields(entry)
        if ja.entry(entry, key, index, sub).startswith(MARKER)
    ]
    assert untranslated == [], f"{entry_id}: English fallback for {untranslated}"


def _explain(*args: str) -> str:
    result = CliRunner().invoke(main, ["explain", *args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def _section(markdown: str, entry_id: str) -> str | None:
    for part in re.split(r"^---$", markdown, flags=re.M):
        if re.search(rf"^## \d+\. \[[^]]+\] .*\({entry_id}\)$", part, re.M):
            return part
    return None


def _positive(entry_id: str) -> Path | None:
    found = sorted((SAMPLES / entry_id).glob("positive-*"))
    return found[0] if found else None


@pytest.mark.parametrize("entry_id", ENTRY_IDS)
def test_every_entry_renders_in_japanese(entry_id: str) -> None:
    sample = _positive(entry_id)
    if sample is None:
        pytest.fail(f"{entry_id}: no positive sample under tests/kb_samples/{entry_id}/")
    report = _explain(str(sample), "--lang", "ja")
    section = _section(report, entry_id)
    assert section is not None, f"{entry_id}: {sample.name} gave no section of the entry"
    assert MARKER not in section, f"{entry_id}: English fallback in the Japanese report"
    assert "### どういう意味か" in section
    # Reference titles name documents (most are English); everything above them is Japanese.
    body = section.split("### 参考資料")[0]
    assert english_runs(body) == [], f"{entry_id}: English sentences in the Japanese report"


# -- the seed, in Japanese -----------------------------------------------------------------

#: Names that stay as they are in Japanese text (software, protocols, products).
PRODUCT_NAMES = (
    "Let's Encrypt",
    "Oh My Zsh",
    "Microsoft Exchange",
    "Windows Server",
    "Intel Active Management Technology",
    "Cisco Webex Meetings Desktop App",
    "Default Domain Controllers Policy",  # the name of a Group Policy object Windows creates
    "Microsoft SQL Server",
)
_WORD = r"[A-Za-z][A-Za-z0-9.+/'_-]*"
_ENGLISH_RUN = re.compile(rf"{_WORD}(?:[ ,:;()]+{_WORD}){{3,}}")


def english_runs(markdown: str) -> list[str]:
    """Runs of four or more English words left in ``markdown`` once what is never translated
    is taken out: fenced blocks, code spans, link targets and bare URLs, nmap's strings quoted
    in 「」 and product names."""
    text = re.sub(r"^([ \t]*)(`{3,})[a-z]*\n.*?\n\1\2$", "", markdown, flags=re.M | re.S)
    text = re.sub(r"`[^`]*`", "", text)  # a code span may wrap onto the next line
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+", "", text)
    text = re.sub(r"「[^」]*」", "", text)
    for name in PRODUCT_NAMES:
        text = text.replace(name, "")
    return [m.group(0) for m in _ENGLISH_RUN.finditer(text)]


def test_the_check_finds_english_sentences() -> None:
    """The checker itself: English prose is found, what stays English is not."""
    assert english_runs("対象: any software, where: TLS configuration of the service") == [
        "any software, where: TLS configuration of the service"
    ]
    assert english_runs("`postconf -e 'smtpd_tls_exclude_ciphers = aNULL'` を実行します") == []
    assert english_runs("「Modulus Source: Unknown/Custom-generated」は問題ありません") == []
    assert english_runs("- [RFC 2246](https://www.ietf.org/rfc/rfc2246.txt)") == []
    assert english_runs("```\nState: VULNERABLE and more words here\n```") == []


@pytest.mark.parametrize(
    "extra",
    [(), ("--ss", str(SEED_SS), "--os", "ubuntu-20.04")],
    ids=["scan-only", "with-ss-and-os"],
)
def test_seed_in_japanese_has_no_english_sentence(extra: tuple[str, ...]) -> None:
    assert SEED.exists(), "tests/data/text/seed-paste.txt is part of the repository"
    en = _explain(str(SEED), *extra)
    assert english_runs(en), "the English report should fail the same check"
    ja = _explain(str(SEED), "--lang", "ja", *extra)
    assert MARKER not in ja
    assert "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability" in ja  # nmap's own title
    assert english_runs(ja) == []


def test_shared_scope_translations_are_of_english_values_in_use(kb: KnowledgeBase) -> None:
    """``advisor/locales/scope/ja.toml`` is keyed by English scopes: a key no entry uses any
    more (its English changed) is a stale translation."""
    import tomllib

    with (ROOT / "advisor" / "locales" / "scope" / "ja.toml").open("rb") as fh:
        table = tomllib.load(fh)
    used = {fix.scope for entry in kb for fix in entry.fixes}
    assert table, "no shared scope translations"
    assert sorted(set(table) - used) == []
    assert all(isinstance(v, str) and v.strip() for v in table.values())


CORPUS_SCANS = sorted((ROOT / "tests" / "data" / "corpus").glob("*.xml")) + sorted(
    (ROOT / "tests" / "data" / "text").glob("*.nmap")
)


@pytest.mark.parametrize("scan", CORPUS_SCANS, ids=lambda p: p.name)
def test_real_scans_in_japanese_have_no_english_sentence(scan: Path) -> None:
    """Real scans (the vendored corpus, captured text outputs) bring the fixed strings an entry
    section does not: warnings, the summary, informational scripts, other script output,
    findings without an entry. Reference lists name documents and are left out."""
    report = _explain(str(scan), "--lang", "ja")
    assert MARKER not in report
    body = "\n".join(part.split("### 参考資料")[0] for part in report.split("\n---\n"))
    assert english_runs(body) == [], scan.name


def test_reference_remark_is_translated(kb: KnowledgeBase, ja: Catalog) -> None:
    """A document keeps its own title; advisor's remark about it is said in Japanese."""
    found = [
        (entry, i)
        for entry in kb
        for i, ref in enumerate(entry.references)
        if ref.title.endswith("(reference given by nmap)")
    ]
    assert found
    for entry, i in found:
        title = ja.reference_title(entry, i)
        assert title.endswith("（nmap が示している参考資料）"), title
        assert title.startswith(entry.references[i].title.split(" (")[0])
    en = Catalog.load("en")
    entry, i = found[0]
    assert en.reference_title(entry, i) == entry.references[i].title
