"""Proofs for memcached, MariaDB, Tomcat, Squid and BIND (ADV-5153/5154, ADV-3030/3104,
ADV-5156/5309): the real Debian servers on loopback (tests/lab/servers_services.py,
tests/lab/servers_daemons.py), real nmap, each fix's ``settings`` applied as the entry states them (targets ``memcached``:
command-line options, ``mariadb``: ``[mysqld]`` options, ``tomcat-connector``: ``<Connector>``
attributes, ``squid``: squid.conf directives, ``bind-options``: named.conf options). Results
go to the proof log.

"Listen only where the applications are" (memcached ``-l``, MariaDB ``bind-address``) can only
be seen from an address the server no longer listens on. The lab has two: the vulnerable server
listens on ``127.0.0.1`` and ``::1`` (standing for "every address": the lab never binds beyond
loopback), nmap scans ``::1`` (the outsider's address), and the fix keeps ``127.0.0.1`` (the
application's address). After the fix, nmap must stop reporting the finding on ``::1`` while an
application on ``127.0.0.1`` still stores and reads data.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.kb.schema import Entry, Fix
from advisor.kb.versions import parse_version
from tests.lab.common import (
    LOOPBACK,
    binary,
    check_loopback,
    make_lab_dir,
    run,
    skip_unless_available,
)
from tests.lab.nmap import SYSTEM_SERVICES, run_nmap
from tests.lab.servers_daemons import (
    TOMCAT_HOME,
    TOMCAT_PAGE,
    BindServer,
    SquidServer,
    TomcatServer,
)
from tests.lab.servers_services import MariaDBServer, MemcachedServer
from tests.lab.serves import http_fetch
from tests.lab.tls import Certificate, make_self_signed_cert
from tests.proof.conftest import ProofLog, Row, debian_version
from tests.proof.harness import flagged

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()
#: The outsider's address in the bind-address proofs (see the module docstring).
OUTSIDE = "::1"


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Path, Certificate]]:
    skip_unless_available("nmap", "openssl", root=True)
    root = make_lab_dir("advisor-daemons-")
    yield root, make_self_signed_cert(root / "cert")


def _entry(entry_id: str) -> Entry:
    entry = KB.get(entry_id)
    assert entry is not None, entry_id
    return entry


def _fixes(entry: Entry, software: str, target: str) -> list[Fix]:
    version = debian_version(software, {})
    assert version, f"{software} is not installed"
    parsed = parse_version(version) or ()
    fixes = [
        f
        for f in entry.fixes
        if f.software == software and f.settings and f.target == target
        and f.versions.contains(parsed)
    ]  # fmt: skip
    assert fixes, f"{entry.id} has no {software} fix with settings for {version}"
    return fixes


def _fix(entry: Entry, software: str, target: str, key: str) -> Fix:
    (fix,) = [f for f in _fixes(entry, software, target) if key in dict(f.settings)]
    return fix


def _proven(log: ProofLog, entry: Entry, fix: Fix, port: int, how: str) -> None:
    version = debian_version(fix.software, {})
    assert version
    log.add(Row(entry.id, fix.software, version, fix.title, (port,), "proven", how))


def _datadir(directory: Path, port: int, name: str, protocols: tuple[str, ...]) -> Path:
    """An nmap ``--datadir`` naming the lab port ``name`` for TCP and/or UDP."""
    directory.mkdir(parents=True, exist_ok=True)
    taken = {f"{port}/{proto}" for proto in protocols}
    lines = [
        line
        for line in SYSTEM_SERVICES.read_text(errors="replace").splitlines(keepends=True)
        if not (len(line.split()) >= 2 and line.split()[1] in taken)
    ]
    lines += [f"{name}\t{port}/{proto}\t0.500000\t# advisor lab\n" for proto in protocols]
    (directory / "nmap-services").write_text("".join(lines))
    return directory


def _scan(
    port: int,
    logical: int,
    script: str,
    name: str,
    out: Path,
    *,
    target: str = LOOPBACK,
    udp: bool = False,
) -> Path:
    """Scan one lab port (TCP, and UDP when ``udp``) named ``name``; the XML is rewritten to
    the standard port, as a real server shows it."""
    protocols = ("tcp", "udp") if udp else ("tcp",)
    datadir = _datadir(out.with_suffix(".nmapdata"), port, name, protocols)
    extra = ["--datadir", str(datadir)] + (["-sS", "-sU"] if udp else [])
    xml = run_nmap(port, script, out, target=target, extra_args=extra).xml
    logical_xml = out.with_name(f"{out.stem}-logical.xml")
    logical_xml.write_text(xml.read_text().replace(f'portid="{port}"', f'portid="{logical}"'))
    return logical_xml


# -- memcached ---------------------------------------------------------------------------------


def _memcached_text(port: int, host: str = LOOPBACK) -> bytes:
    """set + get over the text protocol; returns the get answer."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"set advisor 0 60 5\r\nhello\r\nget advisor\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


def _memcached_binary(port: int, *requests: tuple[int, bytes, bytes, bytes]) -> list[int]:
    """Binary-protocol requests (opcode, extras, key, value) on one connection; each reply's
    status (0 success, 0x20 authentication error)."""
    statuses = []
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        for opcode, extras, key, value in requests:
            body = extras + key + value
            header = struct.pack(
                ">BBHBBHIIQ", 0x80, opcode, len(key), len(extras), 0, 0, len(body), 0, 0
            )
            sock.sendall(header + body)
            reply = b""
            while len(reply) < 24:
                reply += sock.recv(24 - len(reply))
            want = struct.unpack(">I", reply[8:12])[0]
            got = b""
            while len(got) < want:
                got += sock.recv(want - len(got))
            statuses.append(struct.unpack(">H", reply[6:8])[0])
    return statuses


GET, SET, SASL_AUTH = 0x00, 0x01, 0x21
SASL_USER, SASL_PASSWORD = "advlab", "Lab-Memcached-2026"


def test_memcached_listen_address_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("memcached", root=True)
    root, cert = lab
    entry = _entry("ADV-5153")
    fix = _fix(entry, "memcached", "memcached", "-l")
    with MemcachedServer(
        root / "memcached-listen", cert, settings={"-l": f"{LOOPBACK},[{OUTSIDE}]"}
    ) as mc:
        port = mc.port(11211)
        before = flagged(
            _scan(port, 11211, "memcached-info", "memcached", tmp_path / "before.xml",
                  target=OUTSIDE, udp=True),
            entry.id,
        )  # fmt: skip
        assert {a.finding.location.protocol for a in before} == {"tcp", "udp"}, before
        mc.apply("memcached", dict(fix.settings))
        for target in (OUTSIDE, LOOPBACK):
            xml = _scan(port, 11211, "memcached-info", "memcached", tmp_path / f"after-{target}.xml",
                        target=target, udp=True)  # fmt: skip
            found = flagged(xml, entry.id)
            if target == OUTSIDE:
                assert not found, f"fix {fix.title!r} left the finding on {OUTSIDE}"
            else:  # the application's own address: TCP still answers, UDP is off
                assert {a.finding.location.protocol for a in found} <= {"tcp"}
        assert b"VALUE advisor 0 5\r\nhello\r\nEND\r\n" in _memcached_text(port)
    _proven(proof_log, entry, fix, 11211,
            "nmap memcached-info answered over TCP and UDP on the outside address before, on "
            "neither after; UDP is off on 127.0.0.1 too, where a client still stores and reads "
            "a key")  # fmt: skip


def test_memcached_sasl_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("memcached", "saslpasswd2", root=True)
    root, cert = lab
    entry = _entry("ADV-5153")
    fix = _fix(entry, "memcached", "memcached", "-S")
    sasl = root / "memcached-sasl" / "sasl"
    sasl.mkdir(parents=True)
    sasldb = sasl / "memcached-sasldb2"
    (sasl / "memcached.conf").write_text(f"mech_list: plain\nsasldb_path: {sasldb}\n")
    run(
        [binary("saslpasswd2"), "-a", "memcached", "-c", "-p", "-f", str(sasldb), SASL_USER],
        input_text=SASL_PASSWORD,
    )
    run(["chown", "-R", "memcache", str(sasl)])
    # The lab baseline has UDP on; the fix's -U 0 is what lets -S start ("Cannot enable UDP
    # while using binary SASL authentication" otherwise).
    mc = MemcachedServer(root / "memcached-sasl", cert)
    mc.extra_env = {"SASL_CONF_PATH": str(sasl)}
    with mc:
        port = mc.port(11211)
        assert flagged(
            _scan(port, 11211, "memcached-info", "memcached", tmp_path / "before.xml"), entry.id
        ), "memcached without SASL is not reported"
        mc.apply("memcached", dict(fix.settings))
        after = _scan(port, 11211, "memcached-info", "memcached", tmp_path / "after.xml")
        assert not flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        plain = f"\0{SASL_USER}\0{SASL_PASSWORD}".encode()
        # without a login the binary protocol is refused (0x20 auth error), after it works
        store = (SET, struct.pack(">II", 0, 60), b"advisor", b"hello")
        assert _memcached_binary(port, store) == [0x20]
        login = (SASL_AUTH, b"", b"PLAIN", plain)
        fetch = (GET, b"", b"advisor", b"")
        assert _memcached_binary(port, login, store, fetch) == [0, 0, 0]
    _proven(proof_log, entry, fix, 11211,
            "nmap memcached-info read the stats before and not after; a binary-protocol client "
            "is refused without a login and served after a SASL PLAIN login")  # fmt: skip


# -- MariaDB -----------------------------------------------------------------------------------

APP_USER, APP_PASSWORD = "advlabapp", "Lab-App-2026"


def test_mariadb_bind_address_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("mariadbd", "mariadb-install-db", "mariadb", root=True)
    root, cert = lab
    entry = _entry("ADV-5154")
    fix = _fix(entry, "mariadb", "mariadb", "bind-address")
    with MariaDBServer(
        root / "mariadb", cert, settings={"bind-address": f"{LOOPBACK},{OUTSIDE}"}
    ) as db:
        # the state nmap reports: an anonymous account without a password
        db.sql(
            "CREATE USER IF NOT EXISTS ''@'%';"
            f"CREATE USER IF NOT EXISTS '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}';"
            f"GRANT SELECT ON mysql.* TO '{APP_USER}'@'%';"
        )
        port = db.port(3306)
        before = _scan(port, 3306, "mysql-empty-password", "mysql", tmp_path / "before.xml",
                       target=OUTSIDE)  # fmt: skip
        assert flagged(before, entry.id), "the anonymous account is not reported on ::1"
        db.apply("mariadb", dict(fix.settings))
        after = _scan(port, 3306, "mysql-empty-password", "mysql", tmp_path / "after.xml",
                      target=OUTSIDE)  # fmt: skip
        assert not flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        # the application still logs in over TCP on the address it uses
        assert db.tcp_sql("SELECT 1", APP_USER, APP_PASSWORD).strip() == "1"
    _proven(proof_log, entry, fix, 3306,
            "nmap mysql-empty-password logged in anonymously on the outside address before, "
            "and could not reach it after; the application account still ran a query over TCP "
            "on 127.0.0.1")  # fmt: skip


# -- Tomcat ------------------------------------------------------------------------------------


def test_tomcat_allow_trace_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    if not (TOMCAT_HOME / "bin" / "catalina.sh").is_file():
        pytest.skip(f"tomcat10 not installed: no {TOMCAT_HOME}/bin/catalina.sh (Debian tomcat10)")
    skip_unless_available("java", root=True)
    root, cert = lab
    entry = _entry("ADV-3030")
    fix = _fix(entry, "tomcat", "tomcat-connector", "allowTrace")
    with TomcatServer(root / "tomcat", cert, settings={"allowTrace": "true"}) as tomcat:
        port = tomcat.port(8080)
        before = _scan(port, 8080, "http-trace", "http", tmp_path / "before.xml")
        assert flagged(before, entry.id), "TRACE enabled on Tomcat is not reported"
        tomcat.apply("tomcat-connector", dict(fix.settings))
        after = _scan(port, 8080, "http-trace", "http", tmp_path / "after.xml")
        assert not flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        status, _headers, body = http_fetch(port, tls=False)
        assert (status, body.decode()) == (200, TOMCAT_PAGE)
        assert http_fetch(port, tls=False, method="TRACE")[0] == 405
    _proven(proof_log, entry, fix, 8080,
            "nmap http-trace saw TRACE echoed before and not after (405); GET / still returns "
            "the page (200)")  # fmt: skip


# -- Squid -------------------------------------------------------------------------------------


def test_squid_open_proxy_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("squid", root=True)
    root, cert = lab
    entry = _entry("ADV-3104")
    fix = _fix(entry, "squid", "squid", "http_access")
    with SquidServer(root / "squid", cert) as squid:
        port = squid.port(3128)
        before = _scan(port, 3128, "http-open-proxy", "squid-http", tmp_path / "before.xml")
        assert flagged(before, entry.id), "the open Squid is not reported"
        squid.apply("squid", dict(fix.settings))
        after = _scan(port, 3128, "http-open-proxy", "squid-http", tmp_path / "after.xml")
        assert not flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        # a client on the private network is still served; an outsider is refused
        assert squid.lan_get("10.0.0.5") == 200
        assert squid.lan_get("198.51.100.7") == 403
    _proven(proof_log, entry, fix, 3128,
            "nmap http-open-proxy fetched through it before and not after; a client from "
            "10.0.0.5 (PROXY protocol header) still gets pages (200), 198.51.100.7 gets 403")  # fmt: skip


# -- BIND --------------------------------------------------------------------------------------

#: The outsider's address for the DNS proof: a loopback address that is not an address of any
#: interface, so BIND's ``localhost`` ACL does not match it (127.0.0.1 is, and stays served).
DNS_OUTSIDER = "127.0.0.2"


def _dns_recursion_scan(port: int, out: Path) -> Path:
    """nmap's dns-recursion against 127.0.0.1 from the source address 127.0.0.2.

    The script's portrule accepts UDP port 53 only (``shortport.portnumber(53, "udp")``), which
    the lab may not take: the scan's ``--datadir`` holds a copy of the script whose portrule
    names the lab port instead, the rest of it unchanged. The XML is rewritten to 53/udp."""
    datadir = _datadir(out.with_suffix(".nmapdata"), port, "domain", ("udp",))
    original = (SYSTEM_SERVICES.parent / "scripts" / "dns-recursion.nse").read_text()
    rule = 'portrule = shortport.portnumber(53, "udp")'
    assert original.count(rule) == 1, "nmap's dns-recursion portrule changed"
    (datadir / "scripts").mkdir(exist_ok=True)
    (datadir / "scripts" / "dns-recursion.nse").write_text(
        original.replace(rule, f'portrule = shortport.portnumber({port}, "udp")')
    )
    cmd = [
        binary("nmap"), "-sU", "-Pn", "-n", "-S", DNS_OUTSIDER, "-e", "lo",
        "--datadir", str(datadir), "--script", "dns-recursion", "-p", str(port),
        check_loopback(LOOPBACK), "-oX", str(out),
    ]  # fmt: skip
    run(cmd, timeout=300)
    logical = out.with_name(f"{out.stem}-53.xml")
    logical.write_text(out.read_text().replace(f'portid="{port}"', 'portid="53"'))
    return logical


def test_bind_recursion_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("named", "named-checkconf", root=True)
    root, cert = lab
    entry = _entry("ADV-5156")
    fix = _fix(entry, "bind", "bind-options", "allow-recursion")
    # the open resolver the entry describes: recursion for anyone
    with BindServer(root / "bind", cert, settings={"allow-recursion": "{ any; }"}) as named:
        port = named.port(53)
        before = _dns_recursion_scan(port, tmp_path / "before.xml")
        assert flagged(before, entry.id), "the open resolver is not reported"
        named.apply("bind-options", dict(fix.settings))
        after = _dns_recursion_scan(port, tmp_path / "after.xml")
        assert 'portid="53"' in after.read_text()
        assert not flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        # the server itself is still served recursively; the outsider is not
        assert named.query("www.example.org", LOOPBACK) == (True, 0, 1)
        assert named.query("www.example.org", DNS_OUTSIDER)[0] is False
    _proven(proof_log, entry, fix, 53,
            "nmap dns-recursion (from 127.0.0.2) saw recursion available before and not after; "
            "a query from the server's own address 127.0.0.1 still gets a recursive answer")  # fmt: skip


def _version_bind(port: int) -> tuple[int, int]:
    """A ``version.bind`` TXT query of class CHAOS over UDP: the reply's RCODE and answer count."""
    qid = 0x5642
    wire = struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 0)
    wire += b"\x07version\x04bind\x00" + struct.pack(">HH", 16, 3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(wire, (LOOPBACK, port))
        reply, _ = sock.recvfrom(4096)
    rid, flags, _qd, ancount = struct.unpack(">HHHH", reply[:8])
    assert rid == qid, f"named answered query id {rid:#x}"
    return flags & 0x000F, ancount


def test_bind_version_none_fix(
    lab: tuple[Path, Certificate], tmp_path: Path, proof_log: ProofLog
) -> None:
    skip_unless_available("named", "named-checkconf", root=True)
    root, cert = lab
    entry = _entry("ADV-5309")
    fix = _fix(entry, "bind", "bind-options", "version")
    # BIND's default: version.bind answers the real version (9.18.x-...-Debian)
    with BindServer(root / "bind-version", cert) as named:
        port = named.port(53)
        before = flagged(_scan(port, 53, "dns-nsid", "domain", tmp_path / "before.xml"), entry.id)
        assert before, "the version.bind answer is not reported"
        assert _version_bind(port) == (0, 1)
        named.apply("bind-options", dict(fix.settings))
        after = _scan(port, 53, "dns-nsid", "domain", tmp_path / "after.xml")
        assert 'portid="53"' in after.read_text()
        assert not flagged(after, entry.id), f"fix {fix.title!r} left the finding"
        assert _version_bind(port)[1] == 0  # BIND 9.18: NOERROR, no TXT record
        # the name server still answers
        assert named.query("www.example.org", LOOPBACK) == (True, 0, 1)
    _proven(proof_log, entry, fix, 53,
            "nmap dns-nsid read bind.version (the Debian BIND version) before and nothing after; "
            "version.bind gets an empty answer, and a recursive A query from 127.0.0.1 "
            "is still answered")  # fmt: skip
