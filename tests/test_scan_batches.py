"""Runs of hosts parsed off the main thread must read exactly like the streaming parser.

Every test compares the threaded reader (``XmlScan(threaded=True)``, the default) with the
plain streaming one on the same bytes: hosts, scan info (including the line an incomplete scan
stops at), pre- and postscripts.
"""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

import pytest

from advisor.scan import batches
from advisor.scan.xml import XmlScan
from tests.conftest import CORPUS_FILES


def _read(data: bytes, threaded: bool) -> tuple[XmlScan, list[object]]:
    scan = XmlScan(io.BytesIO(data), threaded=threaded)
    return scan, list(scan)


def assert_same(data: bytes, exact: bool = True) -> XmlScan:
    """Read ``data`` both ways; return the threaded scan for further checks.

    After some errors (an undefined entity) libxml2 goes on differently depending on how
    the input was fed; ``exact=False`` then compares the hosts and completeness only."""
    try:
        seq, seq_hosts = _read(data, threaded=False)
    except Exception as exc:  # the plain reader refuses it: so must the threaded one
        with pytest.raises(type(exc)) as info:
            _read(data, threaded=True)
        assert str(info.value) == str(exc)
        raise _Refused from None
    thr, thr_hosts = _read(data, threaded=True)
    assert thr_hosts == seq_hosts
    if exact:
        assert thr.info == seq.info
    else:
        assert thr.info.complete == seq.info.complete
        assert bool(thr.info.problem) == bool(seq.info.problem)
    assert thr.prescripts == seq.prescripts
    assert thr.postscripts == seq.postscripts
    assert thr.hosts_read == seq.hosts_read
    return thr


class _Refused(Exception):
    pass


@pytest.fixture
def generated(generated_scan: bytes) -> bytes:
    return generated_scan


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut runs of a few kilobytes, so that small files are split many times."""
    monkeypatch.setattr(batches, "RUN_BYTES", 4096)
    monkeypatch.setattr("advisor.scan.xml.RUN_BYTES", 4096)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_reads_the_same(path: Path, small_runs: None) -> None:
    assert_same(path.read_bytes())


def test_generated_scan_reads_the_same_and_uses_runs(generated: bytes, small_runs: None) -> None:
    scan = assert_same(generated)
    assert scan.info.complete
    assert scan.hosts_read == 300
    assert scan._splitter is not None and scan._splitter.active
    assert scan._lines_elsewhere > 1000  # most hosts came from runs


def test_default_run_size_reads_the_same(generated: bytes) -> None:
    assert_same(generated)


def test_cut_off_anywhere_reads_the_same(generated: bytes, small_runs: None) -> None:
    """A scan cut at any byte: same hosts, same 'incomplete at line N' message."""
    rng = random.Random(5)
    end = generated.rindex(b"</nmaprun>")
    cuts = [rng.randrange(200, end) for _ in range(40)] + [end + 3, end - 1, end - 30]
    for cut in cuts:
        try:
            scan = assert_same(generated[:cut])
        except _Refused:
            continue
        assert not scan.info.complete, cut
        assert scan.info.problem and "line" in scan.info.problem


HOST = (
    '<host><status state="up"/><address addr="10.0.0.{n}" addrtype="ipv4"/><ports>'
    '<port protocol="tcp" portid="25"><state state="open"/><service name="smtp"/>'
    '<script id="ssl-enum-ciphers" output="x"><table key="TLSv1.0"><table key="ciphers">'
    '<table><elem key="name">TLS_RSA_WITH_RC4_128_SHA</elem></table></table>'
    '<table key="warnings"><elem>Broken cipher RC4 is deprecated by RFC 7465</elem></table>'
    '</table><elem key="least strength">C</elem></script></port></ports></host>\n'
)
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n'
    '<?xml-stylesheet href="file:///usr/share/nmap/nmap.xsl" type="text/xsl"?>\n'
    "<!-- Nmap 7.93 scan initiated as: nmap -oX - -->\n"
    '<nmaprun scanner="nmap" args="nmap" start="1700000000" version="7.93">\n'
)
TAIL = (
    '<runstats><finished time="1"/><hosts up="{n}" down="0" total="{n}"/></runstats>\n</nmaprun>\n'
)


def _doc(*middle: str, n: int = 60) -> bytes:
    hosts = [HOST.format(n=i) for i in range(n)]
    for i, text in enumerate(middle):
        hosts.insert((i + 1) * n // (len(middle) + 1), text)
    return (HEAD + "".join(hosts) + TAIL.format(n=n)).encode()


@pytest.mark.parametrize(
    "odd",
    [
        "<!-- a comment between hosts -->\n",
        "<!-- <host><status state='up'/></host> -->\n",
        "<![CDATA[ <host></host> ]]>\n",
        "<?advisor odd?>\n",
        '<host><address addr="10.9.9.9" addrtype="ipv4"/><host><status state="up"/></host></host>\n',
        '<host><address addr="10.9.9.9" addrtype="ipv4"/>&undefined;</host>\n',
        '<taskprogress task="NSE" percent="50.00"/>\n<hosthint><status state="up"/></hosthint>\n',
        '<postscript><script id="p" output="post"/></postscript>\n',
        '<runstats><finished time="0"/></runstats>\n',
        "</nmaprun>\n<nmaprun>\n",
        '<host><address addr="10.9.9.9" addrtype="ipv4"/></host junk>\n',
    ],
)
def test_odd_markup_between_hosts_reads_the_same(odd: str, small_runs: None) -> None:
    with contextlib.suppress(_Refused):
        assert_same(_doc(odd), exact="undefined" not in odd)


@pytest.mark.parametrize(
    "head",
    [
        HEAD.replace("<!DOCTYPE nmaprun>", '<!DOCTYPE nmaprun [<!ENTITY x "<host>">]>'),
        HEAD.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
        HEAD + "<!-- open comment\n",
        HEAD.replace("<nmaprun ", "<!-- <nmaprun> --><scan "),
        HEAD + '<prescript><script id="pre" output="pre-scan"/></prescript>\n',
    ],
)
def test_odd_prologues_read_the_same(head: str, small_runs: None) -> None:
    data = _doc().replace(HEAD.encode(), head.encode(), 1)
    with contextlib.suppress(_Refused):
        assert_same(data)


def test_unusual_input_turns_splitting_off(small_runs: None) -> None:
    scan = assert_same(_doc("<!-- a comment between hosts -->\n"))
    assert scan._splitter is not None and not scan._splitter.active
    assert scan.hosts_read == 60


def test_runs_parsed_ahead_are_bounded(generated: bytes, small_runs: None) -> None:
    """Memory stays flat: at most two runs wait to be read."""
    scan = XmlScan(io.BytesIO(generated))
    most = 0
    for _ in scan:
        most = max(most, sum(1 for p in scan._pieces if p.run is not None))
    assert 0 < most <= 2
