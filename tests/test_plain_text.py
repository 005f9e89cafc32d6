"""Plain text and Markdown kept apart: messages hold structured text, each renderer formats it.

- advisor/advise and advisor/evidence build messages and never import advisor.render;
- :func:`advisor.render.plain.plain` turns knowledge-entry Markdown into readable plain text;
- messages give plain text (:func:`english`) or Markdown (:func:`english_md`), in English or
  another language (:class:`advisor.i18n.Catalog`), and stay hashable and picklable;
- JSON reports of real scans (the vendored corpus, the motivating case with its ``ss`` and
  Postfix evidence, the hostile sample) carry plain text in every prose field and the same
  text in Markdown in the ``*_md`` siblings.
"""

from __future__ import annotations

import ast
import json
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from string import Formatter
from typing import Any

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from advisor.cli import main
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.messages import (
    Code,
    _plain_skeleton,
    english,
    english_md,
    format_parts,
    msg,
    note_english,
    note_english_md,
    text,
)
from advisor.render.escape import code
from advisor.render.plain import plain, plain_inline, plain_line
from tests.conftest import DATA, ROOT

CORPUS = sorted((DATA / "corpus").glob("*.xml"))
CASE = ROOT / "samples" / "motivating-case"
EV = DATA / "evidence"
HOSTILE = DATA / "hostile" / "hostile-output.xml"


# -- the pipeline does not format -------------------------------------------------------------
def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


@pytest.mark.parametrize("stage", ["advise", "evidence"])
def test_advise_and_evidence_do_not_import_the_renderers(stage: str) -> None:
    files = sorted((ROOT / "advisor" / stage).glob("*.py"))
    assert files
    for path in files:
        bad = [
            m for m in _imports(path) if m == "advisor.render" or m.startswith("advisor.render.")
        ]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_import_check_sees_renderer_imports() -> None:
    """The check above would catch both import forms (it reads the real view module)."""
    found = set(_imports(ROOT / "advisor" / "render" / "view.py"))
    assert "advisor.render.escape" in found and "advisor.render.escape.md_text" in found


# -- plain() ------------------------------------------------------------------------------------
def test_plain_inline_markup() -> None:
    md = (
        "Set `smtpd_tls_ciphers = high` *and* **reload**; see\n"
        "[TLS_README](https://www.postfix.org/TLS_README.html) or <https://example.org/x>.\n"
        "Escapes \\*stay\\* literal, &amp; entities resolve, `` a `tick` ``."
    )
    assert plain(md) == (
        "Set smtpd_tls_ciphers = high and reload; see TLS_README "
        "(https://www.postfix.org/TLS_README.html) or https://example.org/x. "
        "Escapes *stay* literal, & entities resolve, a `tick`."
    )


def test_plain_blocks_and_lists() -> None:
    md = (
        "First paragraph\nwrapped.\n\n"
        "- one\n- two `x`\n  - nested *y*\n\n"
        "1. Upgrade.\n2. Restart\n   the service.\n\n"
        "```\nSubject commonName:\n  192.168.10.5\n```\n\n"
        "> quoted\n\n# Heading\n\nRaw <b>html</b> is text."
    )
    assert plain(md) == (
        "First paragraph wrapped.\n\n"
        "- one\n- two x\n  - nested y\n\n"
        "1. Upgrade.\n2. Restart the service.\n\n"
        "    Subject commonName:\n      192.168.10.5\n\n"
        "> quoted\n\nHeading\n\nRaw <b>html</b> is text."
    )


def test_plain_loose_list_and_start_number() -> None:
    assert plain("3. a\n\n4. b\n") == "3. a\n\n4. b"


def test_plain_edge_cases() -> None:
    assert plain(None) == plain("") == plain("  \n") == ""
    assert plain("a\x1b[31mb\u202e") == "a\\x1B[31mb\\u202E".replace("\\u202E", "\\x202E")
    assert plain("line one  \nline two") == "line one\nline two"  # hard break
    assert plain("![alt text](x.png)") == "alt text"
    assert plain("[https://a.example](https://a.example)") == "https://a.example"
    assert plain_line("a\n\n- b\n- c") == "a - b - c"


def test_plain_inline_keeps_surrounding_spaces() -> None:
    assert plain_inline(" (nmap: {name})") == " (nmap: {name})"
    assert plain_inline(". Postfix `master` owns it ") == ". Postfix master owns it "
    assert plain_inline("1. not a list") == "1. not a list"
    assert plain_inline("") == ""


def _code_spans(md: str) -> list[str]:
    def walk(node: SyntaxTreeNode) -> Iterator[SyntaxTreeNode]:
        yield node
        for child in node.children:
            yield from walk(child)

    tree = SyntaxTreeNode(MarkdownIt("commonmark").parse(md))
    return [n.content for n in walk(tree) if n.type == "code_inline"]


def test_every_knowledge_text_converts() -> None:
    """All Markdown of the knowledge base: markup gone, code-span contents kept."""
    kb = KnowledgeBase.load()
    seen = 0
    for e in kb:
        texts = [getattr(e.text, k) for k in ("summary", "meaning", "why", "detection")]
        texts += [e.severity.reason, *(r.reason for r in e.severity.context)]
        texts += [fp.note for fp in e.false_positives]
        texts += [n.why for n in e.not_fixes] + [v.expect for v in e.verify]
        texts += [f.notes for f in e.fixes if f.notes] + [e.title] + [f.title for f in e.fixes]
        for md in texts:
            out = plain(md)
            seen += 1
            assert out or not md.strip(), (e.id, md)
            assert "**" not in out, (e.id, out)
            spans = _code_spans(md)
            for span in spans:
                assert span in out, (e.id, span)
            if not any("`" in s for s in spans) and "\\`" not in md:
                assert "`" not in out, (e.id, out)
            # the shortcut for one-line texts without markup gives what the parser gives
            assert out == _parsed(md), (e.id, md)
    assert seen > 1000


def _parsed(md: str) -> str:
    from advisor.render import plain as module

    tree = module._tree(module._parser().parse(md))
    return module.neutralise(module._blocks(tree.children).strip("\n"))


@pytest.mark.parametrize(
    "md", ["1. x", "3) y", "- a", "+ b", "# h", "> q", "    code", "a  ", "x = y", "ok", "---"]
)
def test_plain_shortcut_agrees_with_the_parser(md: str) -> None:
    assert plain(md) == _parsed(md)


# -- messages -----------------------------------------------------------------------------------
HOSTILE_VALUE = "ngi`nx\x1b[2J **x** <b>"


def test_messages_plain_and_markdown() -> None:
    parts = (msg("clue_sv", product=Code(HOSTILE_VALUE)), msg("clue_nmap_name", name=Code("smtp")))
    assert english(parts) == "nmap -sV identified ngi`nx\\x1B[2J **x** <b> (nmap: smtp)"
    assert english_md(parts) == f"nmap -sV identified {code(HOSTILE_VALUE)} (nmap: `smtp`)"
    assert code(HOSTILE_VALUE).startswith("``")  # a longer fence than the value's backtick


def test_template_markup_is_dropped_in_plain_text() -> None:
    """``clue_ss_postfix_idle`` holds code spans in its English template."""
    parts = (msg("clue_ss_postfix_idle", endpoint=Code("0.0.0.0:465"), master_pid=7, workers=()),)
    assert english(parts) == (
        "0.0.0.0:465: Postfix: master (pid 7) owns the listening socket; "
        "it forks an smtpd for each client connection"
    )
    assert english_md(parts).startswith("`0.0.0.0:465`: Postfix: `master` (pid 7)")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_plain_templates_keep_their_placeholders(lang: str) -> None:
    """Every locale string, made plain, keeps its ``{placeholders}`` in order."""
    cat = Catalog.load(lang)
    for key, template in cat.strings.items():
        pieces, fields = _plain_skeleton((template,))
        names = [name for _, name, _, _ in Formatter().parse(template) if name is not None]
        assert [name for _, name, _ in fields] == names, (lang, key)
        assert len(pieces) == len(fields) + 1
        if "`" not in template and "*" not in template:
            assert "".join(pieces) == "".join(
                literal for literal, *_ in Formatter().parse(template)
            ), (lang, key)


def test_markup_across_messages_is_made_plain_as_a_whole() -> None:
    """Emphasis may open in one message and close in the next (around an argument)."""
    strings = {"a": "severity from **", "b": "{level}", "c": "** to **info**; `{name}` set"}
    parts = (msg("a"), msg("b", level="medium"), msg("c", name=Code("x*y")))
    assert format_parts(parts, strings.__getitem__, markdown=False) == (
        "severity from medium to info; x*y set"
    )
    assert format_parts(parts, strings.__getitem__, markdown=True) == (
        "severity from **medium** to **info**; ``x*y`` set"
    )


def test_untranslated_text_and_segments() -> None:
    said = text(Code("[::]:25"), ": ", "Postfix: ", Code("master"), " (pid 1) owns it")
    assert english((said,)) == "[::]:25: Postfix: master (pid 1) owns it"
    assert english_md((said,)) == "`[::]:25`: Postfix: `master` (pid 1) owns it"
    ja = Catalog.load("ja")
    assert ja.parts((said,)) == english((said,))  # the same in every language, no marker
    assert ja.parts_md((said,)) == english_md((said,))


def test_catalog_formats_in_its_language() -> None:
    ja = Catalog.load("ja")
    parts = (msg("note_now", name=Code("smtpd_tls_ciphers"), value=Code("high"), source="main.cf"),)
    assert ja.parts(parts) == "現在の値: smtpd_tls_ciphers = high（main.cf）"
    assert ja.parts_md(parts) == "現在の値: `smtpd_tls_ciphers` = `high`（main.cf）"
    assert Catalog.load("en").parts(parts) == english(parts)


def test_notes_in_both_forms() -> None:
    note = "**Risk acceptance expired** on 2026-01-01: this finding counts again."
    assert note_english(note) == "Risk acceptance expired on 2026-01-01: this finding counts again."
    assert note_english_md(note) == note
    parts = (msg("note_now", name=Code("a"), value="(empty)", source="x"),)
    assert note_english(parts) == "Now: a = (empty) (x)"
    assert note_english_md(parts) == "Now: `a` = (empty) (x)"


def test_messages_are_hashable_and_pickle() -> None:
    parts = (
        msg(
            "clue_ss_postfix", endpoint=Code("0.0.0.0:465"), master_pid=1, workers=(Code("smtpd"),)
        ),
        text("words ", Code("literal")),
    )
    assert hash(parts) == hash(pickle.loads(pickle.dumps(parts)))
    back = pickle.loads(pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == parts and isinstance(back[0][1][0][1], Code)
    assert Code("x") != "x"  # a literal is not the same argument as a word


# -- JSON reports of real scans ------------------------------------------------------------------
#: Fields holding plain prose, and their Markdown siblings (docs/json-schema.md).
PLAIN_WITH_MD = {
    "severity_reason": "severity_reason_md",
    "false_positive": "false_positive_md",
    "why": "why_md",
    "text": "text_md",
}


def _explain(*args: object) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["explain", *map(str, args), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["schema"] == "advisor-report/3"
    return doc


def _objects(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _objects(v)
    elif isinstance(value, list):
        for v in value:
            yield from _objects(v)


def _prose(doc: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(field, plain text, Markdown sibling or None) for every prose field of a report."""
    for advice in doc["advice"].values():
        for obj in _objects(advice):
            for key, md_key in PLAIN_WITH_MD.items():
                if key in obj and obj[key] is not None:
                    assert md_key in obj, f"{key} without {md_key}"
                    yield key, obj[key], obj[md_key]
        assert len(advice["notes"]) == len(advice["notes_md"])
        for note, note_md in zip(advice["notes"], advice["notes_md"], strict=True):
            yield "notes", note, note_md
        if advice["kb_title"] is not None:
            yield "kb_title", advice["kb_title"], None
        if advice["software"]["disagreement"] is not None:
            yield "disagreement", advice["software"]["disagreement"], None
        for fix in advice["fixes"]:
            for key in ("title", "applies", "already_applied"):
                if fix[key] is not None:
                    yield key, fix[key], None
    for finding in doc["findings"]:
        for step in finding["verify"]:
            yield "expect", step["expect"], None
    for line in doc["summary"]["evidence"]:
        yield "evidence", line, None


MARKUP = re.compile(r"`|\*\*|\\[\\`*_{}\[\]()#+\-.!|<>~&:]")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _check(doc: dict[str, Any]) -> int:
    checked = 0
    for field, value, md in _prose(doc):
        checked += 1
        assert not MARKUP.search(value), f"{field} holds Markdown: {value!r}"
        assert "\x1b" not in value
        if md is not None:
            assert _flat(plain(md)) == _flat(value), f"{field}: {md!r} is not {value!r}"
    return checked


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_reports_have_plain_prose(path: Path) -> None:
    doc = _explain(path)
    _check(doc)


def test_corpus_is_there() -> None:
    assert len(CORPUS) >= 20


def test_motivating_case_with_evidence_has_plain_prose() -> None:
    doc = _explain(
        CASE / "scan.xml",
        "--ss",
        EV / "seed" / "seed-ss-wide.txt",
        "--postconf",
        EV / "lab" / "ubuntu2004-like" / "postconf-n.txt",
        "--postconf-master",
        EV / "lab" / "ubuntu2004-like" / "postconf-M.txt",
        "--mail-version",
        CASE / "mail_version.txt",
    )
    assert _check(doc) > 50
    advice = next(
        a
        for a in doc["advice"].values()
        if any("pid 2078" in e["text"] for e in a["software"]["evidence"])
    )
    ss = next(e for e in advice["software"]["evidence"] if e["source"] == "ss")
    assert ss["text"].startswith("0.0.0.0:465: Postfix: master (pid 2078) owns the listening")
    assert ss["text_md"].startswith("`0.0.0.0:465`: Postfix: `master` (pid 2078) owns the")
    assert any(n.startswith("Now: smtpd_tls_") for n in advice["notes"])
    assert any(n.startswith("Now: `smtpd_tls_") for n in advice["notes_md"])
    fp = next(a["false_positive"] for a in doc["advice"].values() if a["false_positive"])
    assert "\n" not in fp.split("\n\n")[0]  # paragraphs reflowed, not the TOML's line breaks


#: One lab host (127.0.0.1) with an ssl-dh-params finding on ports of the lab's ``ss``
#: capture, in the shape of tests/test_evidence_advice.py's scans.
LAB_SCAN = """<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap" start="1700000000" version="7.94">
<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>{ports}</ports></host>
<runstats><finished time="1700000001"/><hosts up="1" down="0" total="1"/></runstats></nmaprun>"""
LAB_PORT = """<port protocol="tcp" portid="{port}"><state state="open"/><service name="{service}"/>
<script id="ssl-dh-params" output="x"><table key="NMAP-1">
<elem key="title">Anonymous Diffie-Hellman Key Exchange MitM Vulnerability</elem>
<elem key="state">VULNERABLE</elem></table></script></port>"""


def test_lab_evidence_has_plain_prose(tmp_path: Path) -> None:
    """nginx (master and workers), Dovecot, Postfix and an unknown program on the lab's
    ports, with the lab's ss, doveconf and nginx -T captures."""
    ports = {8443: "https", 1993: "imaps", 2525: "smtp", 7070: "http", 9999: "https"}
    scan = tmp_path / "lab.xml"
    scan.write_text(
        LAB_SCAN.format(ports="".join(LAB_PORT.format(port=p, service=s) for p, s in ports.items()))
    )
    doc = _explain(
        scan,
        "--ss",
        EV / "lab" / "ss-lnpt.txt",
        "--doveconf",
        EV / "lab" / "doveconf-n.txt",
        "--nginx",
        EV / "lab" / "nginx-T.txt",
    )
    assert _check(doc) > 20
    ss = {
        e["text"]: e["text_md"]
        for a in doc["advice"].values()
        for e in a["software"]["evidence"]
        if e["source"] == "ss"
    }
    said = " | ".join(ss)
    assert (
        "127.0.0.1:8443: nginx: nginx (pid 13639) holds the socket; 2 more nginx process(es)"
        in said
    )
    assert "python3 (pid 14905)" in said and "does not know" in said
    assert "no socket in the listener evidence matches 127.0.0.1 port 9999" in said
    said_md = " | ".join(ss.values())
    assert (
        "`127.0.0.1:8443`: nginx: `nginx` (pid 13639) holds the socket; 2 more `nginx`" in said_md
    )
    assert "`python3` (pid 14905)" in said_md


def test_hostile_values_are_verbatim_in_plain_text() -> None:
    """The hostile sample's -sV product holds HTML and quotes: plain text keeps it as it is,
    the Markdown sibling fences it."""
    doc = _explain(HOSTILE)
    clues = [e for a in doc["advice"].values() for e in a["software"]["evidence"]]
    sv = next(e for e in clues if e["source"] == "nmap -sV")
    assert sv["text"] == 'nmap -sV identified nginx"><script>alert(3)</script> 1.0'
    assert sv["text_md"] == 'nmap -sV identified `nginx"><script>alert(3)</script> 1.0`'
