"""The text reader on the seed's pasted output, on hand-made layouts, and on arbitrary text."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.model import NseTable, ScriptResult
from advisor.scan.text import looks_like_nmap_text, open_text_scan, parse_script, read_text

DATA = Path(__file__).resolve().parents[1] / "data" / "text"
SEED = DATA / "seed-paste.txt"


def _only_script(text: str) -> ScriptResult:
    scan = read_text(io.StringIO(text))
    hosts = list(scan)
    assert len(hosts) == 1
    scripts = [s for p in hosts[0].ports for s in p.scripts] + list(hosts[0].hostscripts)
    assert len(scripts) == 1
    return scripts[0]


# -- the seed ----------------------------------------------------------------------------


def test_seed_paste_is_detected() -> None:
    assert looks_like_nmap_text(SEED.read_bytes())


def test_seed_paste_reconstructs_the_anonymous_dh_table() -> None:
    with SEED.open(encoding="utf-8") as f:
        scan = read_text(f)
        hosts = list(scan)
    assert scan.info.source_format == "text"
    assert scan.info.complete is False
    assert scan.info.problem == "pasted fragment: host unknown"
    assert len(hosts) == 1
    host = hosts[0]
    assert host.addresses == () and host.address == "(unknown)"
    (port,) = host.ports
    assert (port.protocol, port.portid, port.state) == ("tcp", 465, "open")
    assert port.service is not None and port.service.name == "smtps"
    (script,) = port.scripts
    assert script.id == "ssl-dh-params"
    assert script.output.startswith("\n  VULNERABLE:\n  Anonymous Diffie-Hellman")
    assert script.output.endswith("\n      https://www.ietf.org/rfc/rfc2246.txt\n")
    (table,) = script.children
    assert isinstance(table, NseTable)
    assert table.key == "NMAP-1"
    assert [c.key for c in table.children] == [
        "title",
        "state",
        "description",
        "check_results",
        "refs",
    ]
    assert table.text("title") == "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability"
    assert table.text("state") == "VULNERABLE"
    description = table.table("description")
    assert description is not None
    assert description.values() == [
        "Transport Layer Security (TLS) services that use anonymous\n"
        "Diffie-Hellman key exchange only provide protection against passive\n"
        "eavesdropping, and are vulnerable to active man-in-the-middle attacks\n"
        "which could completely compromise the confidentiality and integrity\n"
        "of any data exchanged over the resulting session."
    ]
    checks = table.table("check_results")
    assert checks is not None
    assert checks.values() == [
        "ANONYMOUS DH GROUP 1\n"
        "      Cipher Suite: TLS_DH_anon_WITH_AES_128_CBC_SHA\n"
        "      Modulus Type: Safe prime\n"
        "      Modulus Source: Unknown/Custom-generated\n"
        "      Modulus Length: 2048\n"
        "      Generator Length: 8\n"
        "      Public Key Length: 2048"
    ]
    refs = table.table("refs")
    assert refs is not None and refs.values() == ["https://www.ietf.org/rfc/rfc2246.txt"]


def test_seed_paste_through_binary_entry_point() -> None:
    with SEED.open("rb") as f:
        scan = open_text_scan(f)
        hosts = list(scan)
    assert hosts[0].ports[0].scripts[0].children


def test_seed_paste_through_open_scan() -> None:
    scan_pkg = pytest.importorskip("advisor.scan")
    open_scan = getattr(scan_pkg, "open_scan", None)
    if open_scan is None:
        pytest.skip("advisor.scan.open_scan not available")
    with SEED.open("rb") as f:
        scan = open_scan(f)
        hosts = list(scan)
    assert scan.info.source_format == "text"
    assert hosts[0].ports[0].scripts[0].id == "ssl-dh-params"


# -- detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"Starting Nmap 7.93 ( https://nmap.org ) at 2026-11-27 23:29 UTC\n",
        b"# Nmap 7.93 scan initiated Fri Nov 27 23:29:43 2026 as: nmap -p 1 x\n",
        b"Nmap scan report for localhost (127.0.0.1)\n",
        b"\n\nPORT    STATE SERVICE\n465/tcp open  smtps\n",
        b"465/tcp   open  smtps\n| ssl-dh-params:\n",
        b"\xef\xbb\xbf53/udp open|filtered domain\n",
        b"$ nmap --script vuln mail\nStarting Nmap 7.80 ( https://nmap.org ) at x\n",
    ],
)
def test_detects_nmap_text(head: bytes) -> None:
    assert looks_like_nmap_text(head)


@pytest.mark.parametrize(
    "head",
    [
        b"<?xml version='1.0'?><nmaprun/>",
        b"hello world\n465/tcp open smtps\n",
        b"",
        b"PORT is a word\n",
        b'{"json": true}',
    ],
)
def test_rejects_other_text(head: bytes) -> None:
    assert not looks_like_nmap_text(head)


# -- layouts -----------------------------------------------------------------------------

FULL = """\
Starting Nmap 7.93 ( https://nmap.org ) at 2026-11-27 23:29 UTC
Pre-scan script results:
| targets-asn:
|_  targets-asn.asn is a mandatory parameter
Nmap scan report for mail.example.org (192.0.2.10)
Host is up, received echo-reply ttl 53 (0.012s latency).
rDNS record for 192.0.2.10: mx.example.org
Not shown: 996 closed tcp ports (reset)
PORT    STATE    SERVICE  REASON         VERSION
25/tcp  open     smtp     syn-ack ttl 53 Postfix smtpd
|_smtp-commands: mail.example.org, PIPELINING, SIZE 10240000, STARTTLS
443/tcp open     ssl/http syn-ack ttl 53 nginx 1.18.0 (Ubuntu)
587/tcp filtered submission no-response
993/tcp open     ssl/imaps? syn-ack ttl 53
MAC Address: 00:11:22:33:44:55 (Example)
Service Info: Host:  mail.example.org; OS: Linux; CPE: cpe:/o:linux:linux_kernel

Host script results:
| smb-vuln-ms10-054:
|   VULNERABLE:
|   SMB remote memory corruption vulnerability
|     State: VULNERABLE
|     IDs:  CVE:CVE-2010-2550  BID:41234
|     Risk factor: High  CVSSv2: 10.0 (HIGH) (AV:N/AC:L/Au:N/C:C/I:C/A:C)
|       The Microsoft Windows SMB server is vulnerable.
|
|       Second paragraph.
|     Disclosure date: 2010-08-11
|     Exploit results:
|       first
|       second
|     Extra information:
|       Checked against \\\\HOST
|     References:
|       https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2010-2550
|_      https://www.securityfocus.com/bid/41234

Post-scan script results:
| reverse-index:
|   25/tcp: 192.0.2.10
|_  443/tcp: 192.0.2.10
Nmap done: 1 IP address (1 host up) scanned in 12.34 seconds
"""


def test_full_layout() -> None:
    scan = read_text(io.StringIO(FULL))
    assert [s.id for s in scan.prescripts] == ["targets-asn"]
    assert scan.prescripts[0].output == "\n  targets-asn.asn is a mandatory parameter\n"
    assert scan.info.version == "7.93"
    assert scan.info.start == 1795822140
    hosts = list(scan)
    assert [s.id for s in scan.postscripts] == ["reverse-index"]
    assert scan.postscripts[0].output == "\n  25/tcp: 192.0.2.10\n  443/tcp: 192.0.2.10"
    assert scan.info.complete and scan.info.hosts_up == 1 and scan.info.hosts_down == 0
    (host,) = hosts
    assert host.address == "192.0.2.10"
    assert host.hostnames == ("mail.example.org", "mx.example.org")
    assert [a.addrtype for a in host.addresses] == ["ipv4", "mac"]
    ports = {p.portid: p for p in host.ports}
    assert ports[25].reason == "syn-ack"
    assert ports[25].service is not None
    assert (ports[25].service.product, ports[25].service.method) == ("Postfix smtpd", "probed")
    assert ports[25].scripts[0].output.startswith("mail.example.org, PIPELINING")
    nginx = ports[443].service
    assert nginx is not None
    assert (nginx.name, nginx.tunnel, nginx.product, nginx.version, nginx.extrainfo) == (
        "http",
        "ssl",
        "nginx",
        "1.18.0",
        "Ubuntu",
    )
    assert ports[587].state == "filtered" and ports[587].reason == "no-response"
    imaps = ports[993].service
    assert imaps is not None and (imaps.name, imaps.method, imaps.conf) == ("imaps", "table", "3")
    (vuln,) = host.hostscripts
    (table,) = vuln.children
    assert isinstance(table, NseTable)
    assert table.key == "CVE-2010-2550"
    assert [c.key for c in table.children] == [
        "title",
        "state",
        "ids",
        "scores",
        "description",
        "dates",
        "disclosure",
        "exploit_results",
        "extra_info",
        "refs",
    ]
    ids = table.table("ids")
    assert ids is not None and ids.values() == ["CVE:CVE-2010-2550", "BID:41234"]
    scores = table.table("scores")
    assert (
        scores is not None and scores.text("CVSSv2") == "10.0 (HIGH) (AV:N/AC:L/Au:N/C:C/I:C/A:C)"
    )
    description = table.table("description")
    assert description is not None
    assert description.values() == [
        "The Microsoft Windows SMB server is vulnerable.\n\nSecond paragraph."
    ]
    assert table.text("disclosure") == "2010-08-11"
    exploit = table.table("exploit_results")
    assert exploit is not None and exploit.values() == ["first", "second"]


def test_two_entries_and_not_vulnerable_section() -> None:
    text = """\
443/tcp open  https
| ssl-dh-params:
|   VULNERABLE:
|   Transport Layer Security (TLS) Protocol DHE_EXPORT Ciphers Downgrade MitM (Logjam)
|     State: VULNERABLE
|     IDs:  BID:74733  CVE:CVE-2015-4000
|       The Transport Layer Security (TLS) protocol contains a flaw.
|     Disclosure date: 2015-5-19
|     Check results:
|       EXPORT-GRADE DH GROUP 1
|             Cipher Suite: TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA
|             Modulus Length: 512
|     References:
|       https://weakdh.org
|
|   Diffie-Hellman Key Exchange Insufficient Group Strength
|     State: VULNERABLE
|       Weak groups.
|     Check results:
|       WEAK DH GROUP 1
|             Cipher Suite: TLS_DHE_RSA_WITH_AES_128_CBC_SHA
|       WEAK DH GROUP 2
|             Cipher Suite: TLS_DHE_RSA_WITH_AES_256_CBC_SHA
|     References:
|       https://weakdh.org
|
|   NOT VULNERABLE:
|   Diffie-Hellman Key Exchange Incorrectly Generated Group Parameters
|     State: NOT VULNERABLE
|     References:
|_      https://weakdh.org
"""
    script = _only_script(text)
    keys = [t.key for t in script.as_table().tables()]
    assert keys[0] == "CVE-2015-4000"
    assert keys[1] == "NMAP-1" and keys[2] == "NMAP-2"
    logjam, weak, nonsafe = script.as_table().tables()
    assert logjam.text("disclosure") == "2015-5-19"
    dates = logjam.table("dates")
    assert dates is not None and dates.table("disclosure") is not None
    checks = weak.table("check_results")
    assert checks is not None and checks.values() == [
        "WEAK DH GROUP 1\n      Cipher Suite: TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        "WEAK DH GROUP 2\n      Cipher Suite: TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    ]
    assert [c.key for c in nonsafe.children] == ["title", "state", "refs"]
    assert nonsafe.text("state") == "NOT VULNERABLE"
    assert script.output.endswith("https://weakdh.org\n")


def test_first_id_value_is_the_key_without_cve() -> None:
    text = """\
80/tcp open  http
| http-vuln-x:
|   VULNERABLE:
|   Something
|     State: LIKELY VULNERABLE
|     IDs:  BID:1234  OSVDB:99
|     References:
|_      http://example.org
"""
    (table,) = _only_script(text).children
    assert isinstance(table, NseTable) and table.key == "1234"


def test_plain_and_error_scripts_keep_only_output() -> None:
    text = """\
443/tcp open  https
|_ssl-ccs-injection: No reply from server (TIMEOUT)
| http-title: Site doesn't have a title (text/html).
|_Requested resource was /login
|_tls-ticketbleed: ERROR: Script execution failed (use -d to debug)
"""
    hosts = list(read_text(io.StringIO(text)))
    scripts = hosts[0].ports[0].scripts
    assert [(s.id, s.output, s.children) for s in scripts] == [
        ("ssl-ccs-injection", "No reply from server (TIMEOUT)", ()),
        ("http-title", "Site doesn't have a title (text/html).\nRequested resource was /login", ()),
        ("tls-ticketbleed", "ERROR: Script execution failed (use -d to debug)", ()),
    ]


def test_enum_ciphers_without_trailing_spaces() -> None:
    """A terminal paste often loses trailing spaces (``TLSv1.2:`` instead of ``TLSv1.2: ``)."""
    text = """\
443/tcp open  https
| ssl-enum-ciphers:
|   TLSv1.2:
|     ciphers:
|       TLS_DH_anon_WITH_AES_128_CBC_SHA (dh 1024) - F
|       TLS_RSA_WITH_3DES_EDE_CBC_SHA - C
|     compressors:
|       NULL
|     cipher preference: server
|     warnings:
|       64-bit block cipher 3DES vulnerable to SWEET32 attack
|       Anonymous key exchange, score capped at F
|_  least strength: F
"""
    script = _only_script(text)
    table = script.as_table()
    assert table.text("least strength") == "F"
    proto = table.table("TLSv1.2")
    assert proto is not None
    ciphers = proto.table("ciphers")
    assert ciphers is not None
    rows = [(c.text("name"), c.text("kex_info"), c.text("strength")) for c in ciphers.tables()]
    assert rows == [
        ("TLS_DH_anon_WITH_AES_128_CBC_SHA", "dh 1024", "F"),
        ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", None, "C"),
    ]
    warnings = proto.table("warnings")
    assert warnings is not None and len(warnings.values()) == 2
    assert proto.text("cipher preference") == "server"


def test_non_ascii_is_escaped_like_the_xml() -> None:
    """nmap prints ``\\xNN`` itself; raw bytes from other hands are escaped the same way."""
    scan = open_text_scan(io.BytesIO(b"80/tcp open  http\n|_http-title: caf\xc3\xa9 \x01 \xff\n"))
    (host,) = list(scan)
    assert host.ports[0].scripts[0].output == "caf\\xC3\\xA9 \\x01 \\xFF"
    (host,) = list(read_text(["80/tcp open  http", "|_http-title: caf\u00e9"]))
    assert host.ports[0].scripts[0].output == "caf\\xC3\\xA9"
    (host,) = list(read_text(["80/tcp open  http", "|_http-title: caf\\xC3\\xA9"]))
    assert host.ports[0].scripts[0].output == "caf\\xC3\\xA9"


def test_cut_off_scan_is_incomplete() -> None:
    text = FULL.split("Post-scan script results:")[0]
    scan = read_text(io.StringIO(text))
    assert len(list(scan)) == 1
    assert scan.info.complete is False
    assert scan.info.problem is not None and "Nmap done" in scan.info.problem


def test_host_down_and_ipv6() -> None:
    text = """\
Nmap scan report for 192.0.2.1 [host down]
Nmap scan report for ip6-localhost (::1)
Host is up (0.00004s latency).
PORT   STATE SERVICE
80/tcp open  http
Nmap done: 2 IP addresses (1 host up) scanned in 1.0 seconds
"""
    scan = read_text(io.StringIO(text))
    down, six = list(scan)
    assert down.status == "down" and down.address == "192.0.2.1"
    assert six.address == "::1" and six.addresses[0].addrtype == "ipv6"
    assert six.hostnames == ("ip6-localhost",)
    assert scan.info.hosts_down == 1


def test_parse_script_trailing_newline_rules() -> None:
    ids = itertools.count(1)
    assert parse_script("x", [""], ids).output == "\n"
    assert parse_script("x", ["a", ""], ids).output == "a\n\n"
    assert parse_script("http-headers", ["", "  a"], ids).output == "\n  a\n"
    assert parse_script("http-title", ["", "  a"], ids).output == "\n  a"


# -- streaming ---------------------------------------------------------------------------


def _many_hosts(n: int, consumed: list[int]) -> Iterator[str]:
    yield "Starting Nmap 7.93 ( https://nmap.org ) at 2026-11-27 23:29 UTC"
    for i in range(n):
        for line in (
            f"Nmap scan report for host{i}.example (10.0.{i // 256 % 256}.{i % 256})",
            "Host is up (0.0001s latency).",
            "PORT    STATE SERVICE",
            "465/tcp open  smtps",
            "| ssl-dh-params:",
            "|   VULNERABLE:",
            "|   Anonymous Diffie-Hellman Key Exchange MitM Vulnerability",
            "|     State: VULNERABLE",
            "|     References:",
            "|_      https://www.ietf.org/rfc/rfc2246.txt",
            "",
        ):
            consumed[0] += 1
            yield line
    yield f"Nmap done: {n} IP addresses ({n} hosts up) scanned in 1.00 seconds"


def test_hosts_are_yielded_as_they_are_read() -> None:
    consumed = [0]
    scan = read_text(_many_hosts(100_000, consumed))
    iterator = iter(scan)
    first = next(iterator)
    assert first.hostname == "host0.example"
    assert consumed[0] <= 2 * 11  # only the first host and the next report line were read
    second = next(iterator)
    assert second.address == "10.0.0.1"
    assert consumed[0] <= 3 * 11


def test_many_hosts_memory_does_not_grow() -> None:
    import tracemalloc

    consumed = [0]
    scan = read_text(_many_hosts(5_000, consumed))
    tracemalloc.start()
    count = 0
    for count, _host in enumerate(scan, 1):
        if count == 500:
            tracemalloc.reset_peak()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 5_000
    assert scan.info.complete and scan.info.hosts_up == 5_000
    assert peak < 2_000_000


# -- arbitrary input ---------------------------------------------------------------------

_PIECES = [
    "Nmap scan report for x (10.0.0.1)",
    "Nmap scan report for ::1",
    "PORT   STATE SERVICE REASON VERSION",
    "PROTOCOL STATE SERVICE",
    "443/tcp open  ssl/http syn-ack ttl 64 nginx 1.2 (a (b) c)",
    "1 open  icmp",
    "| ssl-dh-params: ",
    "| ssl-enum-ciphers: ",
    "|   VULNERABLE:",
    "|   NOT VULNERABLE:",
    "|   Title",
    "|     State: VULNERABLE",
    "|     IDs:  CVE:CVE-1  BID:2",
    "|     Risk factor: High  CVSSv2: 1",
    "|     Disclosure date: 1-2-3",
    "|     Check results:",
    "|     Exploit results:",
    "|     References:",
    "|       item",
    "|             deep",
    "|   TLSv1.2: ",
    "|     ciphers: ",
    "|       A (b) - C",
    "|   least strength: A",
    "|_",
    "|_x: y",
    "|",
    "Host script results:",
    "Pre-scan script results:",
    "Post-scan script results:",
    "Nmap done: 1 IP address (1 host up) scanned in 1 seconds",
    "Starting Nmap 7.93 ( https://nmap.org ) at 2026-01-01 00:00 UTC",
    "# Nmap 7.93 scan initiated x as: nmap",
    "OS details: a, b",
    "Aggressive OS guesses: a (90%), b",
    "MAC Address: 00:00 (x)",
    "rDNS record for 1.2.3.4: y",
    "",
]


@settings(
    max_examples=300,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_PIECES),
            st.text(max_size=200),
            st.builds(lambda a, b: a + b, st.sampled_from(_PIECES), st.text(max_size=40)),
        ),
        max_size=60,
    )
)
def test_arbitrary_lines_never_raise(lines: list[str]) -> None:
    scan = read_text(lines)
    hosts = list(scan)
    assert scan.info.source_format == "text"
    for host in hosts:
        for port in host.ports:
            for script in port.scripts:
                assert isinstance(script.output, str)


@settings(max_examples=200, deadline=2000)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    looks_like_nmap_text(data)
    scan = open_text_scan(io.BytesIO(data))
    list(scan)
    assert scan.info.problem is not None or scan.info.complete


def test_long_lines_are_linear() -> None:
    import time

    start = time.monotonic()
    junk = "(" * 200_000 + " - " + "a " * 100_000
    lines = [
        "Nmap scan report for " + "x (" * 50_000,
        "PORT STATE SERVICE VERSION",
        "80/tcp open http " + junk,
        "| ssl-enum-ciphers: ",
        "|   TLSv1.2: ",
        "|     ciphers: ",
        "|       " + junk,
        "| ssl-dh-params: ",
        "|   VULNERABLE:",
        "|   " + junk,
        "|_    State: " + junk,
    ]
    list(read_text(lines))
    assert time.monotonic() - start < 5


def test_indented_paste_and_orphan_script_block() -> None:
    text = """\
    465/tcp   open  smtps
    | ssl-dh-params:
    |   VULNERABLE:
    |   Anonymous Diffie-Hellman Key Exchange MitM Vulnerability
    |     State: VULNERABLE
    |     References:
    |_      https://www.ietf.org/rfc/rfc2246.txt
"""
    assert looks_like_nmap_text(text.encode())
    (host,) = list(read_text(io.StringIO(text)))
    assert host.ports[0].portid == 465
    assert host.ports[0].scripts[0].children
    orphan = "\n".join(line.strip() for line in text.splitlines()[1:])
    assert looks_like_nmap_text(orphan.encode())
    scan = read_text(io.StringIO(orphan))
    (host,) = list(scan)
    assert host.ports == ()
    (script,) = host.hostscripts
    assert script.id == "ssl-dh-params" and script.children
    assert scan.info.problem == "pasted fragment: host unknown"
