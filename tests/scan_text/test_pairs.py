"""The text reader against the XML of the same scan (``nmap -oA``: one run, both files).

The XML is read here with lxml directly (a small helper), so these tests depend only on the
text reader. See tests/data/text/README.md for how each pair was made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from advisor.model import Host, NseElem, NseNode, NseTable, ScriptResult
from advisor.scan.text import TextScan, read_text

DATA = Path(__file__).resolve().parents[1] / "data" / "text"
PAIRS = sorted(p.stem for p in DATA.glob("*.xml") if p.with_suffix(".nmap").exists())


# -- a tiny XML helper ----------------------------------------------------------------------


def _node(el: etree._Element) -> NseNode:
    if el.tag == "elem":
        return NseElem(el.get("key"), el.text or "")
    return NseTable(el.get("key"), tuple(_node(c) for c in el if c.tag in ("elem", "table")))


def _script(el: etree._Element) -> ScriptResult:
    children = tuple(_node(c) for c in el if c.tag in ("elem", "table"))
    return ScriptResult(el.get("id") or "", el.get("output") or "", children)


@dataclass
class XPort:
    protocol: str
    portid: int
    state: str
    reason: str
    service: dict[str, str]
    scripts: list[ScriptResult]


@dataclass
class XHost:
    addresses: list[tuple[str, str]]
    hostnames: list[str]
    status: str
    ports: list[XPort] = field(default_factory=list)
    hostscripts: list[ScriptResult] = field(default_factory=list)


@dataclass
class XScan:
    hosts: list[XHost]
    prescripts: list[ScriptResult]
    postscripts: list[ScriptResult]
    args: str
    version: str
    up: int
    total: int


def read_xml(path: Path) -> XScan:
    root = etree.parse(str(path)).getroot()
    hosts = []
    for h in root.iter("host"):
        status = h.find("status")
        host = XHost(
            [(a.get("addr", ""), a.get("addrtype", "")) for a in h.iter("address")],
            [n.get("name", "") for n in h.iter("hostname")],
            status.get("state", "") if status is not None else "",
        )
        for p in h.iter("port"):
            state = p.find("state")
            service = p.find("service")
            host.ports.append(
                XPort(
                    p.get("protocol", ""),
                    int(p.get("portid", "0")),
                    state.get("state", "") if state is not None else "",
                    state.get("reason", "") if state is not None else "",
                    {str(k): str(v) for k, v in service.items()} if service is not None else {},
                    [_script(s) for s in p.iter("script")],
                )
            )
        host.hostscripts = [_script(s) for hs in h.iter("hostscript") for s in hs.iter("script")]
        hosts.append(host)
    pre = [_script(s) for p in root.iter("prescript") for s in p.iter("script")]
    post = [_script(s) for p in root.iter("postscript") for s in p.iter("script")]
    counts = root.find("runstats/hosts")
    assert counts is not None
    return XScan(
        hosts,
        pre,
        post,
        root.get("args", ""),
        root.get("version", ""),
        int(counts.get("up", "0")),
        int(counts.get("total", "0")),
    )


def read_pair(stem: str) -> tuple[TextScan, list[Host], XScan]:
    with open(DATA / f"{stem}.nmap", encoding="utf-8", errors="surrogateescape") as f:
        scan = read_text(f)
        hosts = list(scan)
    return scan, hosts, read_xml(DATA / f"{stem}.xml")


# -- comparisons -------------------------------------------------------------------------


def _is_vulns(script: ScriptResult) -> bool:
    return bool(script.children) and all(
        isinstance(c, NseTable) and c.text("state") is not None for c in script.children
    )


def _values(table: NseTable | None) -> list[str]:
    return table.values() if table is not None else []


def compare_vulns(text: ScriptResult, xml: ScriptResult) -> None:
    assert len(text.children) == len(xml.children), text.id
    for t, x in zip(text.children, xml.children, strict=True):
        assert isinstance(t, NseTable) and isinstance(x, NseTable)
        if x.key is not None and x.key.startswith("NMAP-"):
            # A per-run counter that the text does not print (nse-facts.md 1b).
            assert t.key is not None and re.fullmatch(r"NMAP-\d+", t.key)
        else:
            assert t.key == x.key
        for key in ("title", "state", "disclosure"):
            assert t.text(key) == x.text(key), (text.id, key)
        for key in ("ids", "description", "check_results", "exploit_results", "extra_info"):
            assert _values(t.table(key)) == _values(x.table(key)), (text.id, t.text("title"), key)
        # refs come from a Lua set: the text prints them in the same order as the XML.
        assert _values(t.table("refs")) == _values(x.table("refs"))
        assert [c.key for c in t.children] == [c.key for c in x.children]
        # Everything else is equal too, node for node (``dates`` is a Lua table: any order).
        assert _normalise(t) == _normalise(x)


def _normalise(node: NseNode) -> NseNode:
    if isinstance(node, NseElem):
        return node
    key = "NMAP-n" if node.key is not None and re.fullmatch(r"NMAP-\d+", node.key) else node.key
    children = tuple(_normalise(c) for c in node.children)
    if node.key in ("dates", "disclosure", "scores"):
        children = tuple(sorted(children, key=repr))
    return NseTable(key, children)


def _ciphers(proto: NseTable) -> list[tuple[str | None, str | None, str | None]]:
    ciphers = proto.table("ciphers")
    assert ciphers is not None
    return [(c.text("name"), c.text("kex_info"), c.text("strength")) for c in ciphers.tables()]


def compare_enum_ciphers(text: ScriptResult, xml: ScriptResult) -> None:
    t_table, x_table = text.as_table(), xml.as_table()
    assert t_table.text("least strength") == x_table.text("least strength")
    t_protos = {p.key: p for p in t_table.tables()}
    x_protos = {p.key: p for p in x_table.tables()}
    assert t_protos.keys() == x_protos.keys()
    for key, x in x_protos.items():
        t = t_protos[key]
        assert _ciphers(t) == _ciphers(x), key
        assert _values(t.table("warnings")) == _values(x.table("warnings")), key
        assert _values(t.table("compressors")) == _values(x.table("compressors")), key
        assert t.text("cipher preference") == x.text("cipher preference"), key
    # The whole structure matches; only the key order inside each cipher (a Lua table) may
    # differ between nmap runs.
    assert _sorted_ciphers(t_table) == _sorted_ciphers(x_table)


def _sorted_ciphers(node: NseNode) -> NseNode:
    if isinstance(node, NseElem):
        return node
    children = tuple(_sorted_ciphers(c) for c in node.children)
    if node.key is None and all(isinstance(c, NseElem) and c.key for c in children):
        children = tuple(sorted(children, key=lambda c: c.key or ""))
    return NseTable(node.key, children)


_CERT_KEYS = ("subject", "issuer", "pubkey", "sig_algo", "validity", "md5", "sha1", "pem")


def cert_view(script: ScriptResult, shown: ScriptResult) -> list[tuple[str, object]]:
    """The parts of ssl-cert's table that its text shows (fields as ``shown`` has them)."""
    table, shown_table = script.as_table(), shown.as_table()
    view: list[tuple[str, object]] = []
    for key in _CERT_KEYS:
        node, shown_node = table.get(key), shown_table.get(key)
        if node is None or shown_node is None:
            continue
        if isinstance(node, NseTable) and isinstance(shown_node, NseTable):
            keys = {c.key for c in shown_node.children}
            view.append(
                (
                    key,
                    sorted(
                        (c.key or "", c.value)
                        for c in node.children
                        if isinstance(c, NseElem) and c.key in keys
                    ),
                )
            )
        elif isinstance(node, NseElem):
            view.append((key, node.value))
    return view


def compare_cert(text: ScriptResult, xml: ScriptResult) -> None:
    assert text.children, "ssl-cert table not rebuilt"
    shown = {c.key for c in text.children}
    assert shown <= {c.key for c in xml.children}
    assert cert_view(text, text) == cert_view(xml, text)


def compare_scripts(texts: tuple[ScriptResult, ...], xmls: list[ScriptResult]) -> None:
    assert [s.id for s in texts] == [s.id for s in xmls]
    for t, x in zip(texts, xmls, strict=True):
        assert t.output == x.output, t.id
        if _is_vulns(x):
            compare_vulns(t, x)
        elif t.id == "ssl-enum-ciphers" and x.children:
            compare_enum_ciphers(t, x)
        elif t.id == "ssl-cert" and x.children:
            compare_cert(t, x)
        else:
            assert t.children == (), t.id


def compare_service(text: Host, port_index: int, xml: XPort, reason_column: bool) -> None:
    port = text.ports[port_index]
    assert (port.protocol, port.portid, port.state) == (xml.protocol, xml.portid, xml.state)
    if reason_column:
        assert port.reason == xml.reason
    svc = port.service
    x = xml.service
    if not x:
        assert svc is None
        return
    assert svc is not None
    assert svc.name == x.get("name", "")
    assert svc.tunnel == x.get("tunnel", "")
    assert svc.method == x.get("method", "")
    assert svc.product == x.get("product", "")
    assert svc.version == x.get("version", "")
    extrainfo = x.get("extrainfo", "")
    if svc.extrainfo.endswith("...") and svc.extrainfo != extrainfo:
        # nmap cuts long VERSION columns in normal output; the XML keeps everything.
        assert extrainfo.startswith(svc.extrainfo[:-3])
    else:
        assert svc.extrainfo == extrainfo


# -- tests -------------------------------------------------------------------------------


def test_pairs_exist() -> None:
    assert {"dh-enum", "vuln", "showall", "http-multi", "ipv6"} <= set(PAIRS)


@pytest.mark.parametrize("stem", PAIRS)
def test_scan_info(stem: str) -> None:
    scan, hosts, xml = read_pair(stem)
    info = scan.info
    assert info.source_format == "text"
    assert info.complete and info.finished and info.problem is None
    assert info.version == xml.version
    assert info.args == xml.args
    assert (info.hosts_up, info.hosts_total) == (xml.up, xml.total)
    assert scan.hosts_read == len(hosts) == len(xml.hosts)


@pytest.mark.parametrize("stem", PAIRS)
def test_hosts_and_ports(stem: str) -> None:
    _scan, hosts, xml = read_pair(stem)
    reason_column = "--reason" in xml.args
    for text, x in zip(hosts, xml.hosts, strict=True):
        assert [(a.addr, a.addrtype) for a in text.addresses] == x.addresses
        assert set(text.hostnames) <= set(x.hostnames)
        if x.hostnames:
            assert text.hostnames
        assert text.status == x.status
        assert len(text.ports) == len(x.ports)
        for i, xport in enumerate(x.ports):
            compare_service(text, i, xport, reason_column)


@pytest.mark.parametrize("stem", PAIRS)
def test_scripts(stem: str) -> None:
    scan, hosts, xml = read_pair(stem)
    compare_scripts(scan.prescripts, xml.prescripts)
    compare_scripts(scan.postscripts, xml.postscripts)
    for text, x in zip(hosts, xml.hosts, strict=True):
        for port, xport in zip(text.ports, x.ports, strict=True):
            compare_scripts(port.scripts, xport.scripts)
        compare_scripts(text.hostscripts, x.hostscripts)


def test_dh_params_findings_from_text() -> None:
    """The two ssl-dh-params findings of the loopback server, with XML-exact check results."""
    _, hosts, _ = read_pair("dh-enum")
    script = next(s for s in hosts[0].ports[0].scripts if s.id == "ssl-dh-params")
    titles = [t.text("title") for t in script.as_table().tables()]
    assert titles == [
        "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability",
        "Diffie-Hellman Key Exchange Insufficient Group Strength",
    ]
    weak = list(script.as_table().tables())[1]
    checks = weak.table("check_results")
    assert checks is not None
    assert checks.values()[0].startswith("WEAK DH GROUP 1\n      Cipher Suite: TLS_DHE_RSA_")
    assert checks.values()[0].endswith("\n      Public Key Length: 1024")


def test_every_pair_has_vulns_tables_and_enum_ciphers() -> None:
    """Guard: the pairs really exercise the reconstruction paths."""
    seen: set[str] = set()
    for stem in PAIRS:
        _, hosts, _ = read_pair(stem)
        for host in hosts:
            for port in host.ports:
                for s in port.scripts:
                    if _is_vulns(s):
                        seen.add("vulns")
                        seen.update(t.text("state") or "" for t in s.as_table().tables())
                    if s.id == "ssl-enum-ciphers" and s.children:
                        seen.add("enum")
    assert {"vulns", "enum", "VULNERABLE", "NOT VULNERABLE"} <= seen


# -- against the project's XML reader ----------------------------------------------------


def _comparable(host: Host, reason_column: bool, truncated: dict[int, str]) -> Host:
    """Drop what nmap's normal output does not carry (see advisor.scan.text.NOT_IN_TEXT)."""

    def scripts_of(scripts: tuple[ScriptResult, ...]) -> tuple[ScriptResult, ...]:
        # Structured output is rebuilt only for the vulns library, ssl-enum-ciphers and
        # (what its text shows of) ssl-cert; compare_cert checks the latter.
        return tuple(
            ScriptResult(
                s.id,
                s.output,
                tuple(_sorted_ciphers(_normalise(c)) for c in s.children)
                if _is_vulns(s) or s.id == "ssl-enum-ciphers"
                else (),
            )
            for s in scripts
        )

    ports = []
    for port in host.ports:
        service = port.service
        if service is not None:
            service = replace(service, cpes=(), ostype="")
            if port.portid in truncated:
                service = replace(service, extrainfo=truncated[port.portid])
        scripts = scripts_of(port.scripts)
        ports.append(
            replace(
                port,
                reason=port.reason if reason_column else "",
                service=service,
                scripts=scripts,
            )
        )
    return replace(
        host,
        ports=tuple(ports),
        hostscripts=scripts_of(host.hostscripts),
        hostnames=tuple(dict.fromkeys(host.hostnames)),
    )


@pytest.mark.parametrize("stem", PAIRS)
def test_same_hosts_as_the_xml_reader(stem: str) -> None:
    """The text reader builds the same model objects as advisor.scan.xml for the same scan."""
    xml_module = pytest.importorskip("advisor.scan.xml")
    with open(DATA / f"{stem}.xml", "rb") as f:
        xml_scan = xml_module.XmlScan(f)
        xml_hosts = list(xml_scan)
    text_scan, text_hosts, xml = read_pair(stem)
    reason_column = "--reason" in xml.args
    assert len(text_hosts) == len(xml_hosts)
    for t, x in zip(text_hosts, xml_hosts, strict=True):
        truncated = {
            p.portid: p.service.extrainfo
            for p in t.ports
            if p.service is not None and p.service.extrainfo.endswith("...")
        }
        assert _comparable(t, reason_column, truncated) == _comparable(x, reason_column, truncated)
    assert [s.id for s in text_scan.prescripts] == [s.id for s in xml_scan.prescripts]
    assert [s.output for s in text_scan.postscripts] == [s.output for s in xml_scan.postscripts]
    assert text_scan.info.hosts_up == xml_scan.info.hosts_up
    assert text_scan.info.complete == xml_scan.info.complete


# -- what nmap printed on the terminal (no -oN) --------------------------------------------

STDOUT = sorted(p.stem for p in DATA.glob("*.stdout") if p.with_suffix(".xml").exists())


def test_terminal_captures_exist() -> None:
    assert set(STDOUT) == set(PAIRS)


@pytest.mark.parametrize("stem", STDOUT)
def test_terminal_output_reads_like_the_normal_output_file(stem: str) -> None:
    """``Starting Nmap ... at 2026-11-27 23:29 UTC`` / ``Nmap done:`` instead of the -oN
    header and footer; the hosts are the same, and so are the findings."""
    with open(DATA / f"{stem}.stdout", encoding="utf-8", errors="surrogateescape") as f:
        terminal = read_text(f)
        terminal_hosts = list(terminal)
    normal, normal_hosts, xml = read_pair(stem)
    assert terminal_hosts == normal_hosts
    assert terminal.prescripts == normal.prescripts
    assert terminal.postscripts == normal.postscripts
    info = terminal.info
    assert info.complete and info.finished and info.problem is None
    assert info.version == xml.version
    assert info.args == ""  # the terminal does not repeat the command line
    assert (info.hosts_up, info.hosts_total) == (xml.up, xml.total)
    root = etree.parse(str(DATA / f"{stem}.xml")).getroot()
    start = int(root.get("start", "0"))
    assert info.start == start - start % 60  # the terminal gives the minute, in UTC


# -- the point of it all: the same findings ------------------------------------------------


@pytest.mark.parametrize("stem", PAIRS)
def test_same_findings_as_the_xml(stem: str) -> None:
    """advisor.findings sees the same findings in the text as in the XML of the same scan."""
    findings = pytest.importorskip("advisor.findings")
    from datetime import UTC, datetime

    when = datetime(2026, 11, 27, tzinfo=UTC)
    xml_module = pytest.importorskip("advisor.scan.xml")
    with open(DATA / f"{stem}.xml", "rb") as f:
        xml_hosts = list(xml_module.XmlScan(f))
    _, text_hosts, _ = read_pair(stem)

    def key(finding: Any) -> tuple[Any, str]:
        # The table key (NMAP-n) is unstable by design and the service's CPEs are not in
        # the text; everything else must agree, ssl-cert's problems included.
        location = replace(finding.location, service=None)
        return replace(finding, location=location, table_key=None), finding.location.endpoint

    got = [key(f) for h in text_hosts for f in findings.host_findings(h, when)]
    want = [key(f) for h in xml_hosts for f in findings.host_findings(h, when)]
    assert got == want
    assert got  # the pairs do produce findings
