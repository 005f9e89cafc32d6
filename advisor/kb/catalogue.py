"""Entry documentation: ``advisor kb show``, ``kb list`` and the catalogue page.

The catalogue (``docs/catalogue.md``) is generated from the same entries and templates and is
checked for drift by a test, so the knowledge base can be read without running the tool.
"""

from __future__ import annotations

from typing import Any

from advisor.kb import KnowledgeBase
from advisor.kb.proof import proof_matrix, proof_status
from advisor.kb.schema import Entry
from advisor.render.env import environment


def entry_summary(entry: Entry, kb: KnowledgeBase) -> dict[str, Any]:
    """One row of ``advisor kb list --format json``."""
    proven = proof_status(kb).get(entry.id, [])
    return {
        "id": entry.id,
        "slug": entry.slug,
        "title": entry.title,
        "category": entry.category,
        "severity": entry.severity.level,
        "scripts": list(entry.match.scripts),
        "match": entry.match.kind,
        "cve": list(entry.cve),
        "fixable": entry.fixable,
        "fixes": [
            {"software": f.software, "versions": f.versions.describe(), "title": f.title}
            for f in entry.fixes
        ],
        "proven": proven,
    }


def entry_markdown(entry: Entry, kb: KnowledgeBase, level: int = 1) -> str:
    """An entry as a Markdown page (``advisor kb show``)."""
    template = environment(autoescape=False).get_template("entry.md.j2")
    return (
        str(
            template.render(
                e=entry,
                h="#" * level,
                proven=proof_status(kb).get(entry.id, []),
                summary=entry_summary(entry, kb),
            )
        ).strip()
        + "\n"
    )


def catalogue_markdown(kb: KnowledgeBase) -> str:
    """The whole knowledge base as one Markdown page."""
    template = environment(autoescape=False).get_template("catalogue.md.j2")
    entries = list(kb)
    body = [entry_markdown(e, kb, level=3) for e in entries]
    return (
        str(
            template.render(
                entries=entries, bodies=body, proofs=proof_status(kb), matrix=proof_matrix(kb)
            )
        ).strip()
        + "\n"
    )
