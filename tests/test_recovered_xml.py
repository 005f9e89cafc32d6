"""Damage the XML reader reads past is reported, never silently repaired.

nmap's XML is ASCII (``protect_xml`` writes every other byte as ``\\xNN``) with nothing but
whitespace between elements. Bytes that are not UTF-8, NUL bytes and text between top-level
elements therefore mean the file was damaged after nmap wrote it: the reader still reads the
rest (the scan stays complete, exit code 0 or 1), and says where, on stderr, in every report
format and in JSON ``scan.recovered``. The files are real scans with damage put in
(tests/data/broken/README.md says which).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor import parallel
from advisor.api import Options, explain
from advisor.cli import main
from advisor.kb import KnowledgeBase
from advisor.model import Repair
from advisor.render import Format, render
from advisor.scan import open_scan
from advisor.scan.xml import XmlScan
from tests.conftest import CORPUS, CORPUS_FILES, DATA

DAMAGED = DATA / "broken" / "damaged-mid-file.xml"
ORIGINAL = CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml"
TODAY = Options().today


class _Pipe(io.RawIOBase):
    """A stream that cannot be read again, as stdin from a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)


def _recovered(data: bytes, threaded: bool = True, seekable: bool = True) -> tuple[Repair, ...]:
    stream = io.BytesIO(data) if seekable else io.BufferedReader(_Pipe(data))
    scan = XmlScan(stream, threaded=threaded)  # type: ignore[arg-type]
    list(scan)
    assert scan.info.complete
    return scan.info.recovered


def _report(path: Path, kb: KnowledgeBase) -> tuple[object, dict[Format, str]]:
    with path.open("rb") as fh:
        report = explain(fh, kb, Options(today=TODAY), "scan.xml")
    out: dict[Format, str] = {}
    for fmt in Format:
        buf = io.StringIO()
        render(fmt, report, buf, kb)
        out[fmt] = buf.getvalue()
    return report, out


def test_fixture_is_the_corpus_file_with_one_block_added() -> None:
    damaged = DAMAGED.read_bytes().split(b"\n")
    original = ORIGINAL.read_bytes().split(b"\n")
    assert damaged[:175] + damaged[176:] == original
    block = damaged[175]
    assert block.startswith(b"\x00" * 16) and not set(block) & set(b"<&>")


def test_garbage_mid_file_is_read_past_and_located() -> None:
    """The first NUL and the first byte that is not UTF-8, each with line and column."""
    got = _recovered(DAMAGED.read_bytes())
    line = DAMAGED.read_bytes().split(b"\n")[175]
    first_bad = next(i for i, b in enumerate(line) if b >= 0x80 and not _utf8_at(line, i))
    assert [(r.kind, r.line, r.column) for r in got] == [
        ("nul", 176, 1),
        ("not-utf8", 176, first_bad + 1),
    ]
    nul = got[0]
    assert nul.excerpt.startswith("\\x00\\x00") and nul.offset == len(
        b"\n".join(DAMAGED.read_bytes().split(b"\n")[:175]) + b"\n"
    )


def _utf8_at(line: bytes, i: int) -> bool:
    """Whether a UTF-8 character of ``line`` covers byte ``i`` (as the decoder sees it)."""
    text = line.decode("utf-8", "surrogateescape")
    pos = 0
    for ch in text:
        size = len(ch.encode("utf-8", "surrogateescape"))
        if pos <= i < pos + size:
            return not ("\udc80" <= ch <= "\udcff")
        pos += size
    return False


def test_damaged_file_reads_the_same_hosts_and_findings(kb: KnowledgeBase) -> None:
    """The garbage sits between two rows of a vulners table: nothing of the scan is lost."""
    damaged, _ = _report(DAMAGED, kb)
    original, _ = _report(ORIGINAL, kb)
    assert damaged.hosts_read == original.hosts_read == 1  # type: ignore[attr-defined]
    assert damaged.severity_counts == original.severity_counts  # type: ignore[attr-defined]
    assert sorted(damaged.groups) == sorted(original.groups)  # type: ignore[attr-defined]
    assert damaged.scan.complete  # type: ignore[attr-defined]


def test_every_format_says_where(kb: KnowledgeBase) -> None:
    _, out = _report(DAMAGED, kb)
    md, html = out[Format.MARKDOWN], out[Format.HTML]
    assert "**Warning:** the XML is damaged at line 176, column 1\\: NUL bytes" in md
    assert '<p class="warn"><strong>Warning:</strong> the XML is damaged at line 176' in html
    doc = json.loads(out[Format.JSON])
    first = doc["scan"]["recovered"][0]
    assert (first["kind"], first["line"], first["column"], first["bound"]) == ("nul", 176, 1, None)
    assert doc["scan"]["complete"] is True
    assert any(w.startswith("the XML is damaged at line 176") for w in doc["summary"]["warnings"])
    # scan bytes stay escaped: no raw NUL or undecodable byte reaches any format
    for text in out.values():
        assert "\x00" not in text and "\udcff" not in text


def test_japanese_report_says_it_in_japanese(kb: KnowledgeBase) -> None:
    from advisor.i18n import Catalog

    with DAMAGED.open("rb") as fh:
        report = explain(fh, kb, Options(today=TODAY), "scan.xml")
    buf = io.StringIO()
    render(Format.MARKDOWN, report, buf, kb, Catalog.load("ja"))
    assert "XML が壊れています（176 行目 1 桁）" in buf.getvalue()
    assert "the XML is damaged" not in buf.getvalue()


def test_cli_warns_on_stderr_and_keeps_the_exit_code(tmp_path: Path) -> None:
    """Recovered damage is a warning: the exit code follows --fail-on as for the original
    file (0 or 1), never 3 (that is for a scan that stops being readable)."""
    runner = CliRunner()
    for fail_on, code in (("info", 1), ("critical", None)):
        args = ["--fail-on", fail_on, "-o", str(tmp_path / "out.md")]
        damaged = runner.invoke(main, ["explain", str(DAMAGED), *args])
        original = runner.invoke(main, ["explain", str(ORIGINAL), *args])
        assert damaged.exit_code == original.exit_code != 3
        assert code is None or damaged.exit_code == code
        warning = [line for line in damaged.stderr.splitlines() if "damaged" in line]
        assert len(warning) == 1
        assert warning[0].startswith(
            "advisor: warning: the XML is damaged at line 176, column 1: NUL bytes, which nmap"
            ' never writes (read as \\x00 text), starting "\\x00\\x00\\x00'
        )
        assert "(also bytes that are not UTF-8 text at line 176, column " in warning[0]
        assert "\x00" not in damaged.stderr
        assert "damaged" not in original.stderr


def test_pipe_gives_the_byte_offset() -> None:
    data = DAMAGED.read_bytes()
    got = _recovered(data, seekable=False)
    nul = data.index(b"\x00")
    assert got[0].line is None and got[0].offset == nul
    assert got[0].where() == f"at byte {nul}"


def test_text_between_hosts_is_found_with_its_line() -> None:
    """Text where nmap writes only whitespace: between two hosts, read by both readers."""
    data = (CORPUS / "libnmap__full_sudo6_multi-host_ssl-scripts_6.40.xml").read_bytes()
    cut = data.index(b"<host", data.index(b"</host>"))
    damaged = data[:cut] + b"\n  lost+found: block 1234 \n" + data[cut:]
    line = damaged[:cut].count(b"\n") + 2
    for threaded in (True, False):
        (got,) = _recovered(damaged, threaded=threaded)
        assert (got.kind, got.line, got.excerpt) == ("stray-text", line, "lost+found: bloc…")


def test_text_after_the_last_element_is_found() -> None:
    """No element follows to count its line from: a file is read again to find the text;
    from a pipe the line is the one it comes after."""
    data = ORIGINAL.read_bytes()
    cut = data.index(b"</nmaprun>")
    damaged = data[:cut] + b"oops" + data[cut:]
    (got,) = _recovered(damaged)
    assert (got.kind, got.excerpt, got.bound) == ("stray-text", "oops", "")
    assert got.line == damaged[:cut].count(b"\n") + 1
    (piped,) = _recovered(damaged, seekable=False)
    # after the last line of <runstats>' content, which ends on the line before "oops"
    assert (piped.line, piped.bound) == (got.line - 2, "after")
    assert piped.where() == f"after line {got.line - 2}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_real_scans_are_not_damaged(path: Path) -> None:
    with path.open("rb") as fh:
        scan = open_scan(fh)
        list(scan)
    assert scan.info.recovered == ()


def test_unreadable_xml_still_stops_at_its_line() -> None:
    """Markup-like garbage cannot be read past (libxml2's own recovery silently drops a third
    of this file's scripts after it): the scan is incomplete (exit 3), and the warning names
    the line and libxml2's message, which quotes the scan's element name."""
    data = ORIGINAL.read_bytes().split(b"\n")
    data.insert(175, b"</bogus>")
    scan = XmlScan(io.BytesIO(b"\n".join(data)))
    list(scan)
    assert not scan.info.complete and scan.info.recovered == ()
    assert scan.info.problem == (
        "the scan is incomplete: the XML stops being readable at line 176 (Opening and ending"
        " tag mismatch: table line 145 and bogus, line 176, column 9); showing the hosts read"
        " before that"
    )


@pytest.fixture
def split_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)


@pytest.mark.usefixtures("split_small_files")
def test_parallel_reading_reports_the_same_place(
    generated_scan: bytes, kb: KnowledgeBase, tmp_path: Path
) -> None:
    """Damage in the second and third part of a file read by three processes: the same
    warning, JSON and lines as one process gives."""
    third = len(generated_scan) // 3
    a = generated_scan.index(b"<host", third + third // 2)
    b = generated_scan.index(b"</host>", 2 * third + third // 3)
    damaged = (
        generated_scan[:a]
        + b"stray words\n"
        + generated_scan[a:b]
        + b"\xff\xfe\x00garbage"
        + generated_scan[b:]
    )
    path = tmp_path / "scan.xml"
    path.write_bytes(damaged)
    cut = parallel.plan(str(path), 3)
    assert cut is not None and len(cut.parts) == 3
    with path.open("rb") as fh:
        alone = explain(fh, kb, Options(today=TODAY), "scan.xml")
    split = parallel.explain_file(str(path), kb, Options(today=TODAY), "scan.xml", 3)
    assert split.scan.recovered == alone.scan.recovered
    garbage = damaged.index(b"\xff\xfe")
    assert [(r.kind, r.line) for r in split.scan.recovered] == [
        ("stray-text", damaged[:a].count(b"\n") + 1),
        ("not-utf8", damaged[:garbage].count(b"\n") + 1),
        ("nul", damaged[:garbage].count(b"\n") + 1),
    ]
    assert split.warnings == alone.warnings and len(split.warnings) == 1
    runner = CliRunner()
    one = runner.invoke(main, ["explain", str(path), "--jobs", "1", "--format", "json"])
    two = runner.invoke(main, ["explain", str(path), "--jobs", "2", "--format", "json"])
    assert one.exit_code == two.exit_code == 1
    assert json.loads(one.stdout)["scan"] == json.loads(two.stdout)["scan"]
    assert one.stderr == two.stderr and "stray words" in one.stderr
