"""The proof log: what the proof suite showed, and the proof matrix written from it.

``ADVISOR_WRITE_PROOF=1 python -m pytest tests/proof`` rewrites knowledge/proof-matrix.json
(entry x software x version -> proven, not a fix, or not provable here and why). Without it,
tests/proof/test_zz_matrix.py checks that every row the committed matrix calls proven was
proven again by this run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.kb.proof import MATRIX_NAME

ROOT = Path(__file__).resolve().parents[2]
MATRIX = ROOT / "knowledge" / MATRIX_NAME

#: Why a fix for this software cannot be proven in the lab.
UNAVAILABLE = {
    "apache": "Apache httpd is not part of the lab (Postfix, Dovecot and nginx are)",
    "haproxy": "HAProxy is not part of the lab",
    "exim": "Exim is not part of the lab (it conflicts with Postfix as the system MTA package)",
    "sendmail": "Sendmail is not part of the lab",
    "openssl": "a library upgrade, not a configuration change",
    "windows": "Microsoft Windows cannot run here",
    "samba": "Samba is not part of the lab",
    "vendor": "vendor firmware or appliance: cannot run here",
    "generic": "a procedure, not a setting that can be applied automatically",
}


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


def not_provable(
    kb: KnowledgeBase, proven: set[tuple[str, str, str]], versions: dict[str, str]
) -> list[dict[str, str]]:
    out = []
    for entry in kb:
        for fix in entry.fixes:
            if (entry.id, fix.software, fix.title) in proven:
                continue
            if fix.software in versions and fix.settings and fix.target != "none":
                why = f"needs {fix.software} {fix.versions.describe()}; the lab runs {versions[fix.software]}"
                if fix.versions.contains(
                    tuple(int(x) for x in versions[fix.software].split(".")[:3])
                ):
                    why = "no proof case for this entry and software yet"
            elif fix.software in versions:
                why = "no machine-applicable settings (a procedure: certificate, upgrade, ...)"
            else:
                why = UNAVAILABLE.get(fix.software, f"{fix.software} is not part of the lab")
            out.append(
                {
                    "entry": entry.id,
                    "software": fix.software,
                    "versions": fix.versions.describe(),
                    "fix": fix.title,
                    "status": "not provable here",
                    "why": why,
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
