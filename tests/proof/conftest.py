"""The proof log: what the proof suite showed, and the proof matrix written from it.

``ADVISOR_WRITE_PROOF=1 python -m pytest tests/proof`` rewrites knowledge/proof-matrix.json
(entry x software x version -> proven, not a fix, or not provable here and why). Without it,
tests/proof/test_zz_matrix.py checks that every row the committed matrix calls proven was
proven again by this run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.kb.proof import DEBIAN_PACKAGES, MATRIX_NAME, unproven_reason
from advisor.kb.schema import UNPROVEN_REASONS

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "knowledge" / MATRIX_NAME


@dataclass(frozen=True)
class Row:
    entry: str
    software: str
    version: str
    fix: str
    ports: tuple[int, ...]
    status: str
    how: str


@dataclass
class ProofLog:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)


_LOG = ProofLog()


@pytest.fixture(scope="session")
def proof_log() -> Iterator[ProofLog]:
    yield _LOG


def debian_version(software: str, lab: dict[str, str]) -> str | None:
    """The version of ``software`` the lab ran, else the one Debian 12 installs (dpkg, then
    apt's candidate), else None."""
    if software in lab:
        return lab[software]
    package = DEBIAN_PACKAGES.get(software)
    if not package:
        return None
    for cmd in (
        ["dpkg-query", "-W", "-f", "${Version}", package],
        ["apt-cache", "policy", package],
    ):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if cmd[0] == "apt-cache":
            found = re.search(r"Candidate:\s*(\S+)", out)
            out = found.group(1) if found and found.group(1) != "(none)" else ""
        upstream = re.sub(r"^\d+:", "", out.strip()).split("-")[0].split("+")[0]
        if upstream:
            return upstream
    return None


def not_provable(
    kb: KnowledgeBase, proven: set[tuple[str, str, str]], versions: dict[str, str]
) -> list[dict[str, str]]:
    """A row for every fix not proven, with its reason from the closed list
    (:data:`advisor.kb.schema.UNPROVEN_REASONS`); reason "" when none applies (lint fails)."""
    out = []
    known: dict[str, str | None] = {}
    for entry in kb:
        for fix in entry.fixes:
            if (entry.id, fix.software, fix.title) in proven:
                continue
            if fix.software not in known:
                known[fix.software] = debian_version(fix.software, versions)
            code, detail = unproven_reason(fix, known[fix.software])
            out.append(
                {
                    "entry": entry.id,
                    "software": fix.software,
                    "versions": fix.versions.describe(),
                    "fix": fix.title,
                    "status": "not provable here",
                    "reason": code,
                    "why": UNPROVEN_REASONS.get(code, "no reason from the closed list"),
                    "detail": detail,
                }
            )
    return out


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _LOG.rows:
        return
    results = [asdict(r) | {"ports": list(r.ports)} for r in _LOG.rows]
    (Path(session.config.rootpath) / ".proof-run.json").write_text(json.dumps(results, indent=2))
    if os.environ.get("ADVISOR_WRITE_PROOF") != "1" or exitstatus != 0:
        return
    kb = KnowledgeBase.load()
    versions = {r.software: r.version for r in _LOG.rows}
    proven = {(r.entry, r.software, r.fix) for r in _LOG.rows if r.status == "proven"}
    doc = {
        "schema": "advisor-proof-matrix/1",
        "generated": date.today().isoformat(),
        "by": "ADVISOR_WRITE_PROOF=1 python -m pytest tests/proof (real servers on 127.0.0.1, nmap)",
        "lab": versions,
        "results": results,
        "not_provable": not_provable(kb, proven, versions),
    }
    MATRIX.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def refresh_not_provable() -> int:
    """Recompute the matrix's ``not_provable`` rows from its committed results (after a fix
    gained an ``unproven`` key, say) without rerunning the servers; how many lack a reason.

    ``python -c 'from tests.proof.conftest import refresh_not_provable as r; r()'``
    """
    doc = json.loads(MATRIX.read_text(encoding="utf-8"))
    proven = {
        (r["entry"], r["software"], r["fix"]) for r in doc["results"] if r["status"] == "proven"
    }
    doc["not_provable"] = not_provable(KnowledgeBase.load(), proven, doc["lab"])
    MATRIX.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return sum(1 for row in doc["not_provable"] if not row["reason"])
