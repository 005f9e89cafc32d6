"""The committed proof matrix must not claim more than this run proved (runs after
test_proof.py, which fills the log)."""

from __future__ import annotations

import json
import os

import pytest

from tests.proof.conftest import _LOG, MATRIX

pytestmark = pytest.mark.lab


def test_committed_matrix_matches_this_run() -> None:
    if not _LOG.rows:
        pytest.skip("the proof cases did not run in this session (lab unavailable or deselected)")
    if os.environ.get("ADVISOR_WRITE_PROOF") == "1":
        pytest.skip("regenerating knowledge/proof-matrix.json in this run")
    committed = json.loads(MATRIX.read_text())
    claimed = {
        (r["entry"], r["software"], r["fix"])
        for r in committed["results"]
        if r["status"] == "proven"
    }
    proven = {(r.entry, r.software, r.fix) for r in _LOG.rows if r.status == "proven"}
    assert claimed <= proven, f"claimed but not proven in this run: {sorted(claimed - proven)}"
    assert proven <= claimed, (
        f"proven now but missing from knowledge/proof-matrix.json: {sorted(proven - claimed)} "
        "(regenerate with ADVISOR_WRITE_PROOF=1 python -m pytest tests/proof)"
    )
