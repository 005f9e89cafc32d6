"""What the proof files share: which findings ``advisor explain`` reports in a scan, the scan's
ports rewritten to the logical ones, and a scan of 127.0.0.1 from a second loopback address
(an "outsider" for servers that trust localhost)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from advisor.advise.advice import Advice
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase, Verdict
from tests.lab.common import LOOPBACK, binary, check_loopback
from tests.lab.nmap import write_datadir

KB = KnowledgeBase.load()
#: The source address of an "outside" client: still loopback (the network rule).
OTHER_LOOPBACK = "127.0.0.2"


def flagged(xml: Path, entry_id: str) -> list[Advice]:
    """The advice of every finding of ``entry_id`` that ``advisor explain`` matched in ``xml``."""
    got: list[Advice] = []
    with xml.open("rb") as fh:
        explain(fh, KB, Options(on_advice=got.append, guess_os=False))
    return [
        a
        for a in got
        if a.entry is not None and a.entry.id == entry_id and a.verdict is Verdict.MATCHED
    ]


def flagged_ports(xml: Path, entry_id: str) -> dict[int, Advice]:
    """:func:`flagged` by port (findings without a port left out)."""
    return {
        a.finding.location.port: a
        for a in flagged(xml, entry_id)
        if a.finding.location.port is not None
    }


def logical_xml(xml: Path, actual: Mapping[int, int], out: Path) -> Path:
    """``xml`` with each actual port (``actual``: logical -> actual) written as the logical
    one, so entries with port conditions (25 vs 465) see the ports they are about."""
    text = xml.read_text()
    for logical, port in actual.items():
        text = text.replace(f'portid="{port}"', f'portid="{logical}"')
    out.write_text(text)
    return out


def nmap_from_other_address(
    ports: Iterable[int], scripts: str, out: Path, services: dict[int, str]
) -> Path:
    """nmap's connect scan of 127.0.0.1 from the source address 127.0.0.2 (loopback both)."""
    check_loopback(LOOPBACK)
    datadir = write_datadir(out.with_suffix(".nmapdata"), services)
    cmd = [
        binary("nmap"),
        "-sT",
        "-Pn",
        "-n",
        "-S",
        OTHER_LOOPBACK,
        "-e",
        "lo",
        "--datadir",
        str(datadir),
        "--script",
        scripts,
        "-p",
        ",".join(str(p) for p in ports),
        LOOPBACK,
        "-oX",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return out
