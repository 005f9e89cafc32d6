"""A large file read by several processes gives exactly the report one process gives."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor import parallel
from advisor.api import Options, explain
from advisor.cli import main
from advisor.kb import KnowledgeBase
from advisor.render import Format, render
from advisor.render.json import FindingSpool
from tests.test_scan_batches import HEAD, HOST, TAIL

TODAY = Options().today


@pytest.fixture(autouse=True)
def small_files_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split files of any size, so that test files are read in parallel."""
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)


def _render(path: Path, kb: KnowledgeBase, jobs: int) -> dict[Format, str]:
    out: dict[Format, str] = {}
    for fmt in Format:
        spool = FindingSpool() if fmt is Format.JSON else None
        options = Options(today=TODAY)
        if spool is not None:
            options.on_advice, options.on_repeat = spool.add, spool.repeat
        report = parallel.explain_file(str(path), kb, options, "scan.xml", jobs, spool)
        buf = io.StringIO()
        render(fmt, report, buf, kb, findings=spool)
        if spool is not None:
            spool.close()
        out[fmt] = buf.getvalue()
    return out


def _write(tmp_path: Path, data: bytes, name: str = "scan.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_parts_give_the_same_report(
    generated_scan: bytes, kb: KnowledgeBase, tmp_path: Path, jobs: int
) -> None:
    path = _write(tmp_path, generated_scan)
    cut = parallel.plan(str(path), jobs)
    assert cut is not None and len(cut.parts) == jobs
    assert _render(path, kb, jobs) == _render(path, kb, 1)


def test_cut_off_file_says_the_same_line(
    generated_scan: bytes, kb: KnowledgeBase, tmp_path: Path
) -> None:
    for fraction in (0.9, 0.55):
        path = _write(tmp_path, generated_scan[: int(len(generated_scan) * fraction)])
        report = parallel.explain_file(str(path), kb, Options(today=TODAY), "x", 3)
        with path.open("rb") as fh:
            alone = explain(fh, kb, Options(today=TODAY), "x")
        assert not report.scan.complete
        assert report.scan == alone.scan and report.warnings == alone.warnings
        assert report.hosts_read == alone.hosts_read
        assert _render(path, kb, 3) == _render(path, kb, 1)


def _hosts(n: int, first: int = 0) -> str:
    return "".join(HOST.format(n=i % 250) for i in range(first, first + n))


@pytest.mark.parametrize(
    "middle",
    [
        "<!-- " + _hosts(40) + " -->\n",  # a comment across the cut
        "<![CDATA[ " + _hosts(40) + " ]]>\n",
        '<host><address addr="10.9.9.9" addrtype="ipv4"/><extra>'
        + _hosts(40)
        + "</extra></host>\n",
        "</nmaprun>\n" + _hosts(40),  # hosts after the end: never read
        '<postscript><script id="p" output="post"/></postscript>\n' + _hosts(40),
    ],
    ids=["comment", "cdata", "nested-hosts", "hosts-after-end", "postscript-between"],
)
def test_odd_files_are_read_as_one(middle: str, kb: KnowledgeBase, tmp_path: Path) -> None:
    data = (HEAD + _hosts(40) + middle + _hosts(40, 100) + TAIL.format(n=120)).encode()
    path = _write(tmp_path, data)
    assert _render(path, kb, 2) == _render(path, kb, 1)


def test_prescripts_are_read_once(kb: KnowledgeBase, tmp_path: Path) -> None:
    pre = '<prescript><script id="broadcast-x" output="found something"/></prescript>\n'
    data = (HEAD + pre + _hosts(120) + TAIL.format(n=120)).encode()
    path = _write(tmp_path, data)
    report = parallel.explain_file(str(path), kb, Options(today=TODAY), "x", 4)
    assert report.unknown["broadcast-x"].count == 1
    assert _render(path, kb, 4) == _render(path, kb, 1)


def test_a_failing_worker_means_one_process_reads_it(
    generated_scan: bytes, kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = parallel.explain_part

    def fail_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not kwargs.get("prescripts", True):
            raise MemoryError("worker died")
        return real(*args, **kwargs)

    path = _write(tmp_path, generated_scan)
    expected = _render(path, kb, 1)
    monkeypatch.setattr(parallel, "explain_part", fail_second)
    calls: list[int] = []
    real_explain = parallel.explain

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real_explain(*args, **kwargs)

    monkeypatch.setattr(parallel, "explain", counting)
    assert _render(path, kb, 2) == expected
    assert calls  # the sequential reader was used


def test_when_not_to_split(
    generated_scan: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, generated_scan)
    assert parallel.plan(str(path), 1) is None
    odd = generated_scan.replace(b"<verbose ", b"<!-- after the root --><verbose ", 1)
    assert parallel.plan(str(_write(tmp_path, odd, "odd.xml")), 2) is None
    monkeypatch.setattr(parallel, "MIN_BYTES", len(generated_scan) + 1)
    assert parallel.plan(str(path), 2) is None


def test_progress_counts_every_part(
    generated_scan: bytes, kb: KnowledgeBase, tmp_path: Path
) -> None:
    path = _write(tmp_path, generated_scan)
    seen: list[int] = []
    parallel.explain_file(str(path), kb, Options(progress=seen.append), "x", 2)
    assert seen and seen[-1] >= len(generated_scan) * 0.95


def test_cli_jobs_gives_the_same_files(generated_scan: bytes, tmp_path: Path) -> None:
    path = _write(tmp_path, generated_scan)
    outputs = []
    for jobs in ("1", "3"):
        out = tmp_path / f"out-{jobs}.json"
        result = CliRunner().invoke(
            main, ["explain", str(path), "-f", "json", "-o", str(out), "--jobs", jobs]
        )
        assert result.exit_code in (0, 1), result.output
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]


def test_no_part_files_are_left(
    generated_scan: bytes, kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    made: list[str] = []
    real = tempfile.mkstemp

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        fd, name = real(*args, **kwargs)
        made.append(name)
        return fd, name

    monkeypatch.setattr(parallel.tempfile, "mkstemp", recording)
    path = _write(tmp_path, generated_scan)
    parallel.explain_file(str(path), kb, Options(today=TODAY), "x", 3)
    half = len(generated_scan) // 2
    odd = generated_scan[:half] + generated_scan[half:].replace(b"<host ", b"<!-- --><host ")
    bad = _write(tmp_path, odd, "bad.xml")
    parallel.explain_file(str(bad), kb, Options(today=TODAY), "x", 3)  # comments between hosts
    parts = [name for name in made if "advisor-part-" in name]
    assert len(parts) == 6
    assert not [name for name in parts if Path(name).exists()]
