"""Shared test fixtures. The loopback lab (real Postfix, Dovecot, nginx, nmap) lives in
tests/lab/ and is registered here as a plugin."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase

pytest_plugins = ["tests.lab.fixtures"]

# The knowledge base cache (advisor/kb/cache.py) of this test run, not the user's; the CLI
# subprocesses the tests start inherit it.
_CACHE = tempfile.TemporaryDirectory(prefix="advisor-test-cache-")
os.environ["ADVISOR_CACHE_DIR"] = _CACHE.name

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def corpus_dir() -> Path:
    """The public nmap XML corpus vendored in the repository (tests/data/corpus, see its
    SOURCES.md). ``ADVISOR_CORPUS`` points the tests at another folder instead."""
    env = os.environ.get("ADVISOR_CORPUS")
    return Path(env) if env else DATA / "corpus"


def _extra_corpus() -> list[Path]:
    """Files of the workplace's shared corpus (``../shared/corpus/public``) that the vendored
    copy does not have yet: an extra when it is there, never needed."""
    vendored = {p.name for p in CORPUS.glob("*.xml")}
    for base in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        folder = base / "corpus" / "public"
        if folder.is_dir():
            return sorted(p for p in folder.glob("*.xml") if p.name not in vendored)
    return []


CORPUS = corpus_dir()
CORPUS_FILES = sorted(CORPUS.glob("*.xml")) + _extra_corpus()


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS_FILES:
        pytest.skip(f"public corpus not found at {CORPUS} (set ADVISOR_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def generated_scan(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 300-host scan from the benchmark generator (about 3 MB, every script shape)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("gen") / "scan.xml"
    generator = ROOT / "bench" / "generate.py"
    subprocess.run(
        [sys.executable, str(generator), "--hosts", "300", "--seed", "7", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.fixture(scope="session")
def generated_diverse_scan(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 300-host scan from the benchmark generator with ``--diversity 1``: cipher lists,
    DH groups, certificates and releases that differ from host to host."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("gen") / "diverse.xml"
    generator = ROOT / "bench" / "generate.py"
    args = ["--hosts", "300", "--seed", "7", "--diversity", "1", "-o", str(out)]
    subprocess.run(
        [sys.executable, str(generator), *args],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def resolve(doc: dict) -> dict:  # type: ignore[type-arg]
    """An ``advisor-report/3`` document with each finding's advice merged into it (the
    self-contained shape of version 1), for tests that look at fixes or software."""
    shared = doc["advice"]
    for f in doc["findings"]:
        assert f["advice"] in shared, f"finding refers to unknown advice {f['advice']}"
    doc["findings"] = [f | shared[f["advice"]] for f in doc["findings"]]
    return doc
