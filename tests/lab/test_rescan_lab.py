"""``advisor rescan`` and ``advisor scan`` against a real Postfix on 127.0.0.1, with real nmap,
through the real command line (``python -m advisor``).

The loop a user goes through: nmap finds anonymous Diffie-Hellman (ADV-1001, the motivating
case) on Postfix's three ports, ``advisor explain -f json`` says what to change, the change is
applied (the knowledge entry's own settings, through the harness's ``apply()``), and
``advisor rescan`` runs nmap again on exactly those ports and says *fixed*, exit code 0. The
lab's ports are high ports, so the original scan names them with a ``--datadir`` service
table (tests/lab/README.md, ``servicedb``) and the rescan carries that ``--datadir`` as it was.
Before the change, the same rescan says *still open*, exit code 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from advisor.rescan.nmapdata import split_args

from .fixtures import ScanFn
from .nmap import titles
from .servers import PostfixServer

pytestmark = pytest.mark.lab

ANON = "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability"
KB = KnowledgeBase.load()


def advisor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point (advisor.cli:run), in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def nmap_args(xml: Path) -> list[str]:
    return split_args(ET.parse(xml).getroot().get("args", ""))


def test_rescan_after_the_advised_change_says_fixed(
    postfix_server: PostfixServer, lab_scan: ScanFn, tmp_path: Path
) -> None:
    ports = sorted(postfix_server.port(p) for p in (25, 465, 587))
    before = lab_scan(ports, "ssl-dh-params", "before", servicedb=postfix_server.servicedb())
    for port in ports:
        assert ANON in titles(before.xml, port), port

    report = tmp_path / "report.json"
    explained = advisor("explain", str(before.xml), "-f", "json", "-o", str(report), cwd=tmp_path)
    assert explained.returncode == 1, explained.stderr
    doc = json.loads(report.read_text())
    assert sorted(f["port"] for f in doc["findings"] if f["kb_id"] == "ADV-1001") == ports

    # Nothing changed yet: the rescan (from the scan itself) finds the same three.
    still = tmp_path / "still.xml"
    unchanged = advisor("rescan", str(before.xml), "-o", str(still), "-f", "json", cwd=tmp_path)
    assert unchanged.returncode == 1, unchanged.stderr
    diff = json.loads(unchanged.stdout)
    assert sorted(i["port"] for i in diff["still_open"]) == ports
    assert diff["fixed"] == [] and diff["new"] == [] and diff["not_rechecked"] == []
    argv = nmap_args(still)
    datadir = nmap_args(before.xml)[nmap_args(before.xml).index("--datadir") + 1]
    assert argv[argv.index("--datadir") + 1] == datadir  # carried as it was
    assert "-sV" not in argv  # the datadir names the ports: no service detection needed
    assert argv[argv.index("--script") + 1] == "ssl-dh-params"
    assert argv[argv.index("-p") + 1] == ",".join(map(str, ports))
    assert argv[-1] == "127.0.0.1"

    # The advised change: ADV-1001's main.cf fix, as the entry states it.
    entry = KB.get("ADV-1001")
    assert entry is not None
    (fix,) = [
        f for f in entry.fixes if f.software == "postfix" and f.target == "postfix-main"
        and dict(f.settings) == {"smtpd_tls_exclude_ciphers": "aNULL"}
    ]  # fmt: skip
    postfix_server.apply(fix.target, dict(fix.settings))  # type: ignore[arg-type]

    after = tmp_path / "after.xml"
    rescanned = advisor("rescan", str(report), "-o", str(after), "-f", "json", cwd=tmp_path)
    assert rescanned.returncode == 0, rescanned.stderr
    diff = json.loads(rescanned.stdout)
    assert sorted((i["port"], i["kb_id"]) for i in diff["fixed"]) == [
        (p, "ADV-1001") for p in ports
    ]
    assert diff["still_open"] == [] and diff["new"] == [] and diff["not_rechecked"] == []
    assert diff["before"]["source"] == str(report)
    assert diff["after"]["source"] == str(after)
    assert after.is_file() and not any(titles(after, p) for p in ports)
    assert "advisor: running: nmap -Pn -n --script ssl-dh-params" in rescanned.stderr
    assert "0 new, 0 still open, 3 fixed, 0 not rechecked" in rescanned.stderr


def test_rescan_of_one_host_and_a_stopped_port(
    postfix_server: PostfixServer, lab_scan: ScanFn, tmp_path: Path
) -> None:
    """--host must be a host of the original; a port that no longer answers is *not
    rechecked*, never *fixed*."""
    port = postfix_server.port(465)
    before = lab_scan([port], "ssl-dh-params", "one", servicedb=postfix_server.servicedb())
    refused = advisor("rescan", str(before.xml), "--host", "127.0.0.2", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"advisor: error: --host 127.0.0.2: not a host of the original scan {before.xml} "
        "(its hosts: 127.0.0.1)"
    ]
    postfix_server.stop()
    try:
        stopped = advisor(
            "rescan", str(before.xml), "--host", "127.0.0.1", "-f", "json", cwd=tmp_path
        )
    finally:
        postfix_server.start()
    assert stopped.returncode == 0, stopped.stderr
    diff = json.loads(stopped.stdout)
    assert [i["port"] for i in diff["not_rechecked"]] == [port] and diff["fixed"] == []
    assert "the port is not open in the rescan" in stopped.stderr
    kept = list(before.xml.parent.glob("one.rescan-*.xml"))  # default: beside the original
    assert len(kept) == 1


def test_scan_profile_mail_finds_and_explains_starttls_on_a_high_port(
    postfix_server: PostfixServer, tmp_path: Path
) -> None:
    """``advisor scan --profile mail`` on the 587 stand-in (STARTTLS on a high port: the
    profile's -sV lets nmap's TLS scripts speak STARTTLS there)."""
    port = postfix_server.port(587)
    report = tmp_path / "report.json"
    result = advisor(
        "scan", "127.0.0.1", "--profile", "mail", "--ports", str(port),
        "-f", "json", "-o", str(report), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # a medium finding, --fail-on low
    first = result.stderr.splitlines()[0]
    assert first.startswith("advisor: nmap command for profile mail: nmap -Pn -sV --script ")
    kept = tmp_path / "report.xml"
    argv = nmap_args(kept)
    assert "-sV" in argv and argv[argv.index("-p") + 1] == str(port)
    assert "smtp-commands" in argv[argv.index("--script") + 1].split(",")
    doc = json.loads(report.read_text())
    assert doc["scan"]["source"] == str(kept)
    found = {(f["port"], f["kb_id"]) for f in doc["findings"]}
    assert (port, "ADV-1001") in found
    # exactly what `advisor explain` makes of the kept XML
    again = tmp_path / "again.json"
    assert (
        advisor("explain", str(kept), "-f", "json", "-o", str(again), cwd=tmp_path).returncode == 1
    )
    assert json.loads(again.read_text()) == doc
