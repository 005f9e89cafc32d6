"""XML attacks against the reader. Each runs `advisor explain` in a child process with a
memory limit (RLIMIT_AS) and a timeout: a clear one-line error or a report without the
attack's effect, never a local file read, a network access, unbounded memory or a traceback."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

HEADER = '<?xml version="1.0"?>\n'
NMAPRUN = '<nmaprun scanner="nmap" args="nmap" start="1700000000" version="7.94">'
MEMORY = 512 * 1024 * 1024
SECRET = "advisor-test-secret-4f1c9a"


def host(output_xml: str) -> str:
    return (
        '<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>'
        '<port protocol="tcp" portid="443"><state state="open"/>'
        f"{output_xml}</port></ports></host>"
    )


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_advisor(path: Path, fmt: str = "json") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "advisor", "explain", str(path), "-f", fmt],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit,
        check=False,
    )


def assert_clean_outcome(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode in (0, 1, 2, 3), (done.returncode, done.stderr[-3000:])
    if done.returncode == 2:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("advisor: error: ")


@pytest.fixture()
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def test_external_entity_in_text_and_attribute(tmp_path: Path, secret_file: Path) -> None:
    for body in (
        host('<script id="x" output="a"><elem key="k">&xxe;</elem></script>'),
        host('<script id="x" output="&xxe;"/>'),
    ):
        doc = (
            HEADER
            + f'<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>\n'
            + NMAPRUN
            + body
            + "</nmaprun>"
        )
        path = tmp_path / "xxe.xml"
        path.write_text(doc)
        done = run_advisor(path)
        assert_clean_outcome(done)
        assert SECRET not in done.stdout + done.stderr


def test_parameter_entity_and_external_dtd_do_no_network(tmp_path: Path) -> None:
    """A listener on loopback sees no connection from an external DTD or parameter entity."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    hits: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}/evil.dtd"
        for doctype in (
            f'<!DOCTYPE nmaprun SYSTEM "{url}">',
            f'<!DOCTYPE nmaprun [<!ENTITY % ext SYSTEM "{url}"> %ext;]>',
            f'<!DOCTYPE nmaprun [<!ENTITY net SYSTEM "{url}">]>',
        ):
            path = tmp_path / "dtd.xml"
            path.write_text(
                HEADER + doctype + NMAPRUN + host('<script id="x" output="&net;"/>') + "</nmaprun>"
            )
            assert_clean_outcome(run_advisor(path))
    finally:
        stop.set()
        thread.join(2)
        server.close()
    assert hits == []


def test_billion_laughs(tmp_path: Path) -> None:
    ents = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    ents += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doc = HEADER + "<!DOCTYPE nmaprun [" + "".join(ents) + "]>" + NMAPRUN
    doc += host('<script id="x" output="a"><elem key="k">&lol9;</elem></script>') + "</nmaprun>"
    path = tmp_path / "laughs.xml"
    path.write_text(doc)
    done = run_advisor(path)
    assert_clean_outcome(done)
    assert "lollollollollollollol" * 100 not in done.stdout


def test_quadratic_blowup(tmp_path: Path) -> None:
    big = "A" * 100_000
    doc = HEADER + f'<!DOCTYPE nmaprun [<!ENTITY a "{big}">]>' + NMAPRUN
    doc += host('<script id="x" output="x"><elem key="k">' + "&a;" * 20_000 + "</elem></script>")
    doc += "</nmaprun>"
    path = tmp_path / "quadratic.xml"
    path.write_text(doc)
    done = run_advisor(path)
    assert_clean_outcome(done)
    assert len(done.stdout) < 5_000_000


def test_huge_text_node_and_attribute(tmp_path: Path) -> None:
    huge = "B" * 30_000_000
    for body in (
        host(f'<script id="x" output="{huge}"/>'),
        host(f'<script id="x" output="x"><elem key="k">{huge}</elem></script>'),
    ):
        path = tmp_path / "huge.xml"
        path.write_text(HEADER + NMAPRUN + body + "</nmaprun>")
        assert_clean_outcome(run_advisor(path, "markdown"))


def test_deep_nesting(tmp_path: Path) -> None:
    depth = 100_000
    body = host('<script id="x" output="x">' + "<table>" * depth + "</table>" * depth + "</script>")
    path = tmp_path / "deep.xml"
    path.write_text(HEADER + NMAPRUN + body + "</nmaprun>")
    assert_clean_outcome(run_advisor(path))


def test_nesting_within_the_parser_limit(tmp_path: Path) -> None:
    depth = 200
    body = host(
        '<script id="x" output="x">'
        + "<table>" * depth
        + "<elem>v</elem>"
        + "</table>" * depth
        + "</script>"
    )
    path = tmp_path / "nested.xml"
    path.write_text(HEADER + NMAPRUN + body + "</nmaprun>")
    done = run_advisor(path)
    assert_clean_outcome(done)
    assert done.returncode in (0, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the input is empty"),
        (b"\x00\x01\x02 not xml at all", "not nmap output"),
        (b"\xff\xfe\xfd" * 100, "not nmap output"),
        (b"<?xml version='1.0'?><html><body>hi</body></html>", "not an nmap XML file"),
    ],
)
def test_garbage_inputs(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "garbage"
    path.write_bytes(data)
    done = run_advisor(path)
    assert done.returncode == 2
    assert message in done.stderr


def test_invalid_utf8_everywhere(tmp_path: Path) -> None:
    doc = (
        (HEADER + NMAPRUN).encode()
        + host(
            '<script id="x" output="\xff\xfe bad"><elem key="k">\xc3\x28</elem></script>'
        ).encode("latin-1")
        + b"</nmaprun>"
    )
    path = tmp_path / "utf8.xml"
    path.write_bytes(doc)
    done = run_advisor(path)
    assert_clean_outcome(done)
    assert done.returncode in (0, 1)
