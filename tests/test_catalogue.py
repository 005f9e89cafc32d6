"""docs/catalogue.md is generated from the knowledge base and must not drift from it."""

from __future__ import annotations

from advisor.kb import KnowledgeBase
from advisor.kb.catalogue import catalogue_markdown
from tests.conftest import ROOT


def test_catalogue_is_current(kb: KnowledgeBase) -> None:
    page = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    assert page == catalogue_markdown(kb), (
        "docs/catalogue.md is stale: run 'advisor kb catalogue -o docs/catalogue.md'"
    )


def test_catalogue_lists_every_entry_and_the_proof_matrix(kb: KnowledgeBase) -> None:
    page = catalogue_markdown(kb)
    for entry in kb:
        assert f"### {entry.id}: " in page
    assert "## Proof matrix" in page
