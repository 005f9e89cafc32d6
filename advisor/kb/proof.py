"""Which knowledge-entry fixes have been proven against real software.

``knowledge/proof-matrix.json`` is written by the proof suite (``tests/proof/``): for each
entry, software and version, whether the advised change removed the finding in a real nmap
scan while a normal TLS client still connected. The file is data, committed with the entries.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from advisor.kb import KnowledgeBase

MATRIX_NAME = "proof-matrix.json"


@cache
def _read(path: Path) -> dict[str, list[dict[str, str]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, list[dict[str, str]]] = {}
    for row in data.get("results", []):
        if (
            isinstance(row, dict)
            and row.get("status") == "proven"
            and isinstance(row.get("entry"), str)
        ):
            out.setdefault(row["entry"], []).append(
                {
                    "software": str(row.get("software", "")),
                    "version": str(row.get("version", "")),
                    "fix": str(row.get("fix", "")),
                    "ports": str(row.get("ports", "")),
                }
            )
    return out


@cache
def _doc(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def proof_matrix(kb: KnowledgeBase) -> dict[str, object]:
    """The whole committed matrix (results, not-provable rows, lab versions), or {}."""
    return _doc(kb.root / MATRIX_NAME) if kb.root is not None else {}


def proof_status(kb: KnowledgeBase) -> dict[str, list[dict[str, str]]]:
    """Entry id -> the software/version/fix combinations proven (empty when none)."""
    if kb.root is None:
        return {}
    return _read(kb.root / MATRIX_NAME)
