"""Every ``<script>`` of the public corpus, printed the way nmap prints it and read back.

nmap's normal output prints a script's ``output`` attribute as ``| id: first line`` ...
``|_last line`` (output.cc ``formatScriptOutput``: split at newlines, the final newline
dropped). Rendering the corpus XML that way and reading it with the text reader checks the
rebuilt tables (vulns library, ssl-enum-ciphers, ssl-cert, vulners) and the findings drawn
from them against real files from many nmap versions (4.x to 7.9x). The corpus is vendored
in ``tests/data/corpus/`` (``$ADVISOR_CORPUS`` points elsewhere).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from advisor.model import NseElem, NseNode, NseTable, ScriptResult
from advisor.scan.text import read_text
from tests.conftest import corpus_dir

from .test_pairs import _is_vulns, _node, _normalise, _sorted_ciphers, compare_cert

CORPUS = corpus_dir()  # tests/data/corpus (vendored), or $ADVISOR_CORPUS
FILES = sorted(CORPUS.glob("*.xml")) if CORPUS.is_dir() else []


def nmap_text_block(script_id: str, output: str) -> list[str]:
    """The lines nmap's normal output prints for one script (output.cc formatScriptOutput)."""
    body = output[:-1] if output.endswith("\n") else output
    pieces = body.split("\n")
    lines = []
    for i, piece in enumerate(pieces):
        prefix = "|_" if i == len(pieces) - 1 else "| "
        lines.append(prefix + (f"{script_id}: " if i == 0 else "") + piece)
    return lines


def _scripts(path: Path) -> list[ScriptResult]:
    parser = etree.XMLParser(recover=True, huge_tree=True, resolve_entities=False)
    root = etree.parse(str(path), parser).getroot()
    if root is None:
        return []
    return [
        ScriptResult(
            el.get("id") or "",
            el.get("output") or "",
            tuple(_node(c) for c in el if c.tag in ("elem", "table")),
        )
        for el in root.iter("script")
        if el.get("output")
    ]


def _without_empty_tables(node: NseNode) -> NseNode | None:
    """Drop tables nmap printed nothing for (``exploit_results = {}``): the text has no trace."""
    if not isinstance(node, NseTable):
        return node
    children = tuple(c for c in (_without_empty_tables(c) for c in node.children) if c)
    if not children and node.key in ("exploit_results", "extra_info", "check_results"):
        return None
    return NseTable(node.key, children)


def _rows(script: ScriptResult) -> list[tuple[str | None, list[list[tuple[str, str]]]]]:
    """vulners' tables with each row's elems in key order (a Lua table: any order)."""
    return [
        (
            table.key,
            [
                sorted((e.key or "", e.value) for e in row.children if isinstance(e, NseElem))
                for row in table.tables()
            ],
        )
        for table in script.as_table().tables()
    ]


def _structure(script: ScriptResult) -> tuple[NseNode | None, ...]:
    return tuple(_without_empty_tables(_sorted_ciphers(_normalise(c))) for c in script.children)


@pytest.mark.skipif(not FILES, reason="shared corpus not available")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:60])
def test_corpus_scripts_read_back(path: Path) -> None:
    for xml in _scripts(path):
        lines = nmap_text_block(xml.id, xml.output)
        # Through the whole reader, under a port line, as a user would paste it.
        (host,) = list(read_text(["443/tcp open  https", *lines]))
        (script,) = host.ports[0].scripts
        assert script.id == xml.id
        # Only a final newline can be lost (nmap drops it in text); see parse_script.
        assert script.output.rstrip("\n") == xml.output.rstrip("\n"), xml.id
        if xml.id == "ssl-cert" and script.children:
            compare_cert(script, xml)
        elif xml.id == "vulners" and xml.children:
            assert _rows(script) == _rows(xml)
        elif _is_vulns(xml) or (xml.id == "ssl-enum-ciphers" and xml.children):
            assert _structure(script) == _structure(xml), xml.id
            if _is_vulns(xml):
                assert script.output == xml.output, xml.id
        else:
            assert script.children == (), xml.id


@pytest.mark.skipif(not FILES, reason="shared corpus not available")
def test_corpus_covers_the_reconstructed_shapes() -> None:
    kinds: set[str] = set()
    for path in FILES:
        for xml in _scripts(path):
            if _is_vulns(xml):
                kinds.update(t.text("state") or "" for t in xml.as_table().tables())
            if xml.id == "ssl-enum-ciphers" and xml.children:
                kinds.add("ssl-enum-ciphers")
    assert {"VULNERABLE", "NOT VULNERABLE", "LIKELY VULNERABLE", "ssl-enum-ciphers"} <= kinds


@pytest.mark.skipif(not FILES, reason="shared corpus not available")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:60])
def test_corpus_same_findings_from_text(path: Path) -> None:
    """advisor.findings reads the same findings from the printed text as from the XML.

    Known gap: ssl-cert run without ``-v`` prints no issuer, key or signature line, so the
    text cannot show "self-signed" or "weak-signature" (nmap's own text does not say it).
    """
    findings = pytest.importorskip("advisor.findings")
    from datetime import UTC, datetime

    from advisor.findings.model import Location

    when = datetime(2026, 1, 1, tzinfo=UTC)
    where = Location("192.0.2.1", port=443, protocol="tcp")

    def comparable(items: list[Any]) -> list[Any]:
        return [replace(f, table_key=None, output=f.output.rstrip("\n")) for f in items]

    for xml in _scripts(path):
        (host,) = list(read_text(["443/tcp open  https", *nmap_text_block(xml.id, xml.output)]))
        (text,) = host.ports[0].scripts
        got = comparable(findings.extract_script(text, where, when))
        want = comparable(findings.extract_script(xml, where, when))
        if xml.id == "ssl-cert" and "\nIssuer: " not in xml.output:
            assert {f.title for f in got} <= {f.title for f in want}
            continue
        assert got == want, xml.id
