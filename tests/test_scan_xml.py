"""The streaming XML reader: real files, odd files, hostile files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from libnmap.parser import NmapParser

from advisor.model import NseElem, NseTable
from advisor.scan import ScanError, open_scan
from tests.conftest import CORPUS, CORPUS_FILES, DATA


def read(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        scan = open_scan(fh)
        hosts = list(scan)
    return scan, hosts


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_matches_libnmap_counts(path: Path) -> None:
    """Correctness gate: the same hosts, ports and scripts as python-libnmap reads."""
    scan, hosts = read(path)
    assert scan.info.complete
    try:
        report = NmapParser.parse_fromfile(str(path))
    except Exception as exc:  # libnmap rejects e.g. a comment before <?xml?>
        pytest.skip(f"python-libnmap cannot read this file: {exc}")
    assert len(hosts) == len(report.hosts)
    ours = sorted((h.address, p.portid, p.protocol, len(p.scripts)) for h in hosts for p in h.ports)
    theirs = sorted(
        (h.address, s.port, s.protocol, len(s.scripts_results))
        for h in report.hosts
        for s in h.services
    )
    assert ours == theirs


def test_structure_kept_order_keys_nesting() -> None:
    _scan, hosts = read(CORPUS / "kis__tlsnmap-test_ssl-enum-ciphers_7.91.xml")
    script = next(s for p in hosts[0].ports for s in p.scripts if s.id == "ssl-enum-ciphers")
    keys = [c.key for c in script.children]
    assert keys[:2] == ["TLSv1.0", "TLSv1.1"] and keys[-1] == "least strength"
    tls10 = script.children[0]
    assert isinstance(tls10, NseTable)
    ciphers = tls10.table("ciphers")
    assert ciphers is not None
    first = next(ciphers.tables())
    assert first.key is None  # unkeyed list item kept as such
    assert [c.key for c in first.children] == ["strength", "name", "kex_info"]  # as in the file
    compressors = tls10.table("compressors")
    assert compressors is not None and compressors.values() == ["NULL"]


def test_check_results_keep_newlines_and_indentation() -> None:
    _, hosts = read(CORPUS / "kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml")
    script = next(s for p in hosts[0].ports for s in p.scripts if s.id == "ssl-dh-params")
    table = script.children[0]
    assert isinstance(table, NseTable) and table.key == "NMAP-3"
    check = table.table("check_results")
    assert check is not None
    assert check.values()[0].startswith("WEAK DH GROUP 1\n      Cipher Suite: TLS_DHE_RSA")
    assert script.output.startswith("\n  VULNERABLE:")


_WHITESPACE_VALUES = b"""<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap" start="1" version="7.94" xmloutputversion="1.05">
<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="25"><state state="open" reason="syn-ack"/>
<script id="x" output="o">
  <elem key="space"> </elem>
  <elem key="newline">
</elem>
  <elem key="reference">&#xa;</elem>
  <elem key="padded">  a  </elem>
  <elem key="empty"></elem>
  <table key="t">
    <elem>  </elem>
  </table>
</script></port></ports></host>
</nmaprun>
"""


@pytest.mark.parametrize("threaded", [False, True])
def test_whitespace_values_kept(threaded: bool) -> None:
    """The parser drops whitespace between elements (half of a scan's nodes), never a
    value: whitespace-only ``<elem>`` text is data."""
    (host,) = list(open_scan(io.BytesIO(_WHITESPACE_VALUES), None, None, threaded))
    script = host.ports[0].scripts[0]
    values = [(c.key, c.value) for c in script.children if isinstance(c, NseElem)]
    assert values == [
        ("space", " "),
        ("newline", "\n"),
        ("reference", "\n"),
        ("padded", "  a  "),
        ("empty", ""),
    ]
    table = script.children[-1]
    assert isinstance(table, NseTable) and table.values() == ["  "]


def test_prescript_hostscript_postscript() -> None:
    scan, hosts = read(CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml")
    assert len(scan.prescripts) == 6 and len(scan.postscripts) == 1
    assert {s.id for s in hosts[0].hostscripts} >= {
        "smb-vuln-ms17-010",
        "smb-double-pulsar-backdoor",
    }


def test_ipv6_and_comment_before_declaration() -> None:
    scan, hosts = read(CORPUS / "securecodebox__scanme-ipv6_7.93.xml")
    assert hosts[0].address.startswith("2600:") and ":" in hosts[0].address
    assert scan.info.complete


def test_zero_hosts_and_host_down() -> None:
    scan, hosts = read(CORPUS / "nmap__ndiff-empty_no-hosts_4.90RC2.xml")
    assert hosts == [] and scan.info.complete and scan.info.hosts_total == 0
    scan, hosts = read(CORPUS / "libnmap__1_hosts_down.xml")
    assert scan.info.complete


def test_old_nmap_4_script_ids() -> None:
    _, hosts = read(CORPUS / "nmap__zenmap-radialnet-example_old-script-ids_4.53.xml")
    ids = {s.id for h in hosts for p in h.ports for s in p.scripts}
    assert {"SSLv2", "HTML title"} <= ids


def test_udp_and_port_without_service() -> None:
    data = b"""<?xml version="1.0"?><nmaprun scanner="nmap" version="7.94" args="nmap -sU">
<host><status state="up"/><address addr="::1" addrtype="ipv6"/><ports>
<port protocol="udp" portid="53"><state state="open|filtered"/></port>
<port protocol="tcp" portid="40000"><state state="open"/></port></ports></host></nmaprun>"""
    scan = open_scan(io.BytesIO(data))
    (host,) = list(scan)
    assert [(p.protocol, p.portid, p.service) for p in host.ports] == [
        ("udp", 53, None),
        ("tcp", 40000, None),
    ]
    assert host.address == "::1"


def test_truncated_scan_reports_hosts_read_and_says_incomplete() -> None:
    src = (CORPUS / "libnmap__full_sudo6_multi-host_ssl-scripts_6.40.xml").read_bytes()
    cut = src[: len(src) // 2]
    scan = open_scan(io.BytesIO(cut))
    hosts = list(scan)
    assert 0 < len(hosts) < 256
    assert not scan.info.complete
    assert scan.info.problem is not None
    assert "incomplete" in scan.info.problem and "cut off" in scan.info.problem


def test_control_characters_become_visible_escapes() -> None:
    _scan, hosts = read(DATA / "broken" / "control-chars.xml")
    script = hosts[0].ports[0].scripts[0]
    assert script.output.startswith("\\x01\\x1B[31mred\\x07")
    assert "\x1b" not in script.output


def test_invalid_utf8_is_kept_as_escapes() -> None:
    data = (
        b'<?xml version="1.0"?><nmaprun scanner="nmap"><host><status state="up"/>'
        b'<address addr="10.0.0.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="80">'
        b'<state state="open"/><script id="http-title" output="caf\xe9 \xff"/></port></ports>'
        b"</host></nmaprun>"
    )
    (host,) = list(open_scan(io.BytesIO(data)))
    assert host.ports[0].scripts[0].output == "caf\\xe9 \\xff"


def test_script_without_output_keeps_tables() -> None:
    _, hosts = read(DATA / "broken" / "script-without-output.xml")
    script = hosts[0].ports[0].scripts[0]
    assert script.output == ""
    assert isinstance(script.children[0], NseTable)
    assert script.children[0].children[0] == NseElem(
        "title", "Diffie-Hellman Key Exchange Insufficient Group Strength"
    )


def test_external_entities_never_resolved() -> None:
    with pytest.raises(ScanError, match="refusing XML entity references"):
        read(DATA / "broken" / "xxe.xml")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.xml", "the input is empty: expected nmap XML (-oX) or nmap normal output (-oN)"),
        ("not-nmap-root.xml", "not an nmap XML file: no <nmaprun> element"),
        (
            "not-xml.txt",
            "not nmap output: expected nmap XML (-oX) or nmap normal output (-oN / terminal text)",
        ),
    ],
)
def test_unreadable_inputs_have_one_clear_message(name: str, message: str) -> None:
    with pytest.raises(ScanError) as info:
        read(DATA / "broken" / name)
    assert str(info.value) == message


def test_memory_does_not_keep_hosts() -> None:
    """Elements are dropped as we go: the tree holds at most one input chunk of hosts."""
    one = (
        '<host><status state="up"/><address addr="10.0.{a}.{b}" addrtype="ipv4"/><ports>'
        '<port protocol="tcp" portid="443"><state state="open"/>'
        '<script id="x" output="y"><elem key="k">v</elem></script></port></ports></host>'
    )
    body = "".join(one.format(a=i // 250, b=i % 250) for i in range(20000))
    data = f'<?xml version="1.0"?><nmaprun scanner="nmap">{body}</nmaprun>'.encode()
    scan = open_scan(io.BytesIO(data))
    count = 0
    largest = 0
    for _ in scan:
        count += 1
        largest = max(largest, len(scan._root))  # type: ignore[attr-defined]
    assert count == 20000
    assert largest < 1000  # one 64 KiB chunk holds ~300 of these hosts
