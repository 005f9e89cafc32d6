"""Variants are contexts: findings whose advice reads the same share one, whatever the host's own
text in nmap's output (an EHLO reply names the server), so a large estate's report lists every
endpoint under a handful of variants instead of one variant per server name."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from advisor.api import Options, explain
from advisor.cli import main
from advisor.kb import KnowledgeBase
from advisor.render import Format, render

EHLO = "{name}, PIPELINING, SIZE 10240000, VRFY, ETRN, STARTTLS, 8BITMIME, DSN, CHUNKING"


def _host(addr: str, name: str, version: str, extra: str = "") -> str:
    output = EHLO.format(name=name)
    return f"""<host><status state="up" reason="syn-ack"/>
<address addr="{addr}" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="25"><state state="open" reason="syn-ack"/>
<service name="smtp" product="Exim smtpd" version="{version}" method="probed" conf="10">
<cpe>cpe:/a:exim:exim:{version}</cpe></service>
<script id="smtp-commands" output="{output}"/>{extra}</port></ports></host>"""


def _scan(*hosts: str) -> bytes:
    return (
        '<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sV --script smtp-commands" '
        'version="7.94" xmloutputversion="1.05">'
        + "".join(hosts)
        + '<runstats><finished time="1" exit="success"/></runstats></nmaprun>'
    ).encode()


SCAN = _scan(
    _host("10.0.0.1", "mx1.example.net", "4.96"),
    _host("10.0.0.2", "mx2.example.net", "4.96"),
    _host("10.0.0.3", "localhost", "4.96"),
    _host("10.0.0.4", "mx4.example.net", "4.92"),
)


def test_findings_that_differ_only_by_the_hosts_text_share_a_variant(kb: KnowledgeBase) -> None:
    report = explain(io.BytesIO(SCAN), kb, Options(guess_os=False), source="x")
    group = report.groups["ADV-2010"]
    assert group.count == 4
    by_version = {v.advice.identity.version: sorted(v.endpoints) for v in group.variants.values()}
    # one variant per context (the Exim release decides the advice), not per EHLO name
    assert by_version == {
        "4.96": ["10.0.0.1:25/tcp", "10.0.0.2:25/tcp", "10.0.0.3:25/tcp"],
        "4.92": ["10.0.0.4:25/tcp"],
    }
    first = next(v for v in group.variants.values() if v.advice.identity.version == "4.96")
    # the representative is the first endpoint in scan order, with its own output
    assert first.advice.finding.location.host == "10.0.0.1"
    assert first.advice.finding.title.startswith("mx1.example.net,")

    md = io.StringIO()
    render(Format.MARKDOWN, report, md, kb)
    text = md.getvalue()
    assert "`10.0.0.1:25/tcp`, `10.0.0.2:25/tcp`, `10.0.0.3:25/tcp`" in text
    assert "mx1.example.net, PIPELINING" in text
    assert "mx2.example.net" not in text  # evidence shown is the representative's


def test_json_keeps_each_findings_own_output(tmp_path: Path) -> None:
    """The command line spools each finding's own record as it is advised."""
    scan = tmp_path / "scan.xml"
    scan.write_bytes(SCAN)
    res = CliRunner().invoke(
        main, ["explain", "-f", "json", "--fail-on", "critical", str(scan)], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    titles = {f["host"]: f["title"] for f in data["findings"] if f["kb_id"] == "ADV-2010"}
    assert titles == {
        "10.0.0.1": EHLO.format(name="mx1.example.net"),
        "10.0.0.2": EHLO.format(name="mx2.example.net"),
        "10.0.0.3": EHLO.format(name="localhost"),
        "10.0.0.4": EHLO.format(name="mx4.example.net"),
    }
