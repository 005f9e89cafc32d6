"""Proof suite for the SMB and SNMP entries: real Samba and net-snmp on 127.0.0.1, real nmap.

For each case: start the server in the vulnerable configuration, scan it, and check that
``advisor explain`` reports the entry with a fix for that software; then, for each of the
entry's fixes for that software that has machine-applicable ``settings``, reset, apply the
settings **as the entry states them**, restart, scan again: the finding must be gone while the
service still serves (Samba: the lab user downloads a file from the share with smbclient;
net-snmp: ``snmpget`` as the SNMPv3 user). Changes the entry lists as *not* fixing it must
leave the finding. Results go to the proof log (tests/proof/conftest.py).

Samba listens on a free high port; nmap's SMB scripts reach it with ``--script-args
smbport=N`` (nselib/smb.lua ``get_port``). snmpd listens on a free high UDP port, named
``snmp`` in a ``--datadir`` so that nmap's SNMP scripts' portrule accepts it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from advisor.advise.advice import Advice
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase, Verdict
from advisor.kb.versions import parse_version
from tests.lab.common import make_lab_dir, run, skip_unless_available
from tests.lab.nmap import run_nmap
from tests.lab.servers_smb import (
    SAMBA_FILE_TEXT,
    SNMP_V3,
    SambaServer,
    SnmpdServer,
    write_udp_datadir,
)
from tests.proof.conftest import ProofLog, Row

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()


@dataclass(frozen=True)
class SmbCase:
    entry: str
    vulnerable: Mapping[str, str]
    scripts: str


SMB_CASES = [
    # Samba 4.17 with server min protocol = NT1 (SAMBA_BASELINE) offers SMBv1.
    SmbCase("ADV-4100", {}, "smb-protocols"),
    # Samba's default server signing: SMB1 'disabled', SMB2 'enabled but not required'.
    SmbCase("ADV-4101", {}, "smb-security-mode"),
    SmbCase("ADV-4102", {}, "smb2-security-mode"),
    # Samba's default restrict anonymous = 0: a null session lists the accounts over SAMR.
    SmbCase("ADV-4104", {}, "smb-enum-users"),
    # The [public] share is guest ok = yes; map to guest = bad user (SAMBA_BASELINE).
    SmbCase("ADV-4201", {}, "smb-ls,smb-enum-shares"),
]


@pytest.fixture(scope="module")
def samba() -> Iterator[SambaServer]:
    skip_unless_available("smbd", "smbclient", "smbpasswd", "nmap", root=True)
    server = SambaServer(make_lab_dir("advisor-lab-samba-") / "samba")
    with server:
        yield server


@pytest.fixture(scope="module")
def snmpd() -> Iterator[SnmpdServer]:
    skip_unless_available("snmpd", "snmpget", "nmap", root=True)
    server = SnmpdServer(make_lab_dir("advisor-lab-snmp-") / "snmp")
    with server:
        yield server


def _advice(xml: Path) -> list[Advice]:
    got: list[Advice] = []
    with xml.open("rb") as fh:
        explain(fh, KB, Options(on_advice=got.append, guess_os=False))
    return got


def _flagged(advice: list[Advice], entry: str) -> list[Advice]:
    return [
        a
        for a in advice
        if a.entry is not None and a.entry.id == entry and a.verdict is Verdict.MATCHED
    ]


def _scan_samba(server: SambaServer, scripts: str, out: Path) -> Path:
    port = server.port(445)
    return run_nmap(port, scripts, out, extra_args=("--script-args", f"smbport={port}")).xml


def _samba_version() -> str:
    out = run(["smbd", "--version"]).stdout  # "Version 4.17.12-Debian"
    return out.split()[-1].split("-")[0]


def _samba_serves(server: SambaServer) -> None:
    assert server.fetch() == SAMBA_FILE_TEXT, "the lab user could not fetch hello.txt"


@pytest.mark.parametrize("case", SMB_CASES, ids=lambda c: f"{c.entry}-samba")
def test_samba_fix_is_proven(
    case: SmbCase, samba: SambaServer, tmp_path: Path, proof_log: ProofLog
) -> None:
    entry = KB.get(case.entry)
    assert entry is not None
    version_text = _samba_version()
    version = parse_version(version_text) or ()

    samba.reset()
    samba.apply("samba-global", case.vulnerable)
    before = _flagged(_advice(_scan_samba(samba, case.scripts, tmp_path / "before.xml")), entry.id)
    assert before, f"{entry.id}: the vulnerable Samba configuration is not reported"
    assert any(c.fix.software == "samba" for c in before[0].fixes), "no Samba fix offered"
    _samba_serves(samba)

    fixes = [
        f
        for f in entry.fixes
        if f.software == "samba" and f.settings and f.target == "samba-global"
        and f.versions.contains(version)
    ]  # fmt: skip
    assert fixes, f"{entry.id} has no Samba fix with settings for {version_text}"
    for fix in fixes:
        samba.reset()
        samba.apply("samba-global", case.vulnerable, restart=False)
        samba.apply("samba-global", dict(fix.settings))
        n = entry.fixes.index(fix)
        after = _flagged(
            _advice(_scan_samba(samba, case.scripts, tmp_path / f"fix-{n}.xml")), entry.id
        )
        assert not after, f"fix {fix.title!r} left the finding"
        _samba_serves(samba)
        proof_log.add(
            Row(entry.id, "samba", version_text, fix.title, (445,), "proven",
                f"nmap {case.scripts} reported it before and not after; smbclient fetched a file "
                "from the share as the lab user")
        )  # fmt: skip

    for nf in entry.not_fixes:
        if nf.software != "samba" or not nf.settings or nf.target != "samba-global":
            continue
        samba.reset()
        samba.apply("samba-global", case.vulnerable, restart=False)
        samba.apply("samba-global", dict(nf.settings))
        n = entry.not_fixes.index(nf)
        after = _flagged(
            _advice(_scan_samba(samba, case.scripts, tmp_path / f"notfix-{n}.xml")), entry.id
        )
        assert after, f"{nf.change!r} is listed as not a fix, but removed the finding"
        proof_log.add(
            Row(entry.id, "samba", version_text, nf.change, (445,), "not a fix",
                "nmap still reports the finding after this change, as the entry says")
        )  # fmt: skip
    samba.reset()


def _scan_snmp(server: SnmpdServer, out: Path) -> Path:
    datadir = write_udp_datadir(out.parent / f"{out.stem}.nmapdata", server.servicedb())
    return run_nmap(
        server.udp_port,
        "snmp-sysdescr,snmp-interfaces,snmp-netstat,snmp-processes,snmp-info",
        out,
        extra_args=("-sU", "--datadir", str(datadir)),
    ).xml


def _snmp_version() -> str:
    out = run(["snmpd", "-v"]).stdout  # "NET-SNMP version:  5.9.3"
    line = next(ln for ln in out.splitlines() if "version" in ln.lower())
    return line.split(":", 1)[1].strip()


def test_snmpd_public_community_fix_is_proven(
    snmpd: SnmpdServer, tmp_path: Path, proof_log: ProofLog
) -> None:
    entry = KB.get("ADV-5130")
    assert entry is not None
    version_text = _snmp_version()
    version = parse_version(version_text) or ()

    snmpd.reset()
    assert snmpd.get_v2c("public"), "Debian's default lines should answer 'public'"
    before = _flagged(_advice(_scan_snmp(snmpd, tmp_path / "before.xml")), entry.id)
    assert {a.finding.script for a in before} == {"snmp-sysdescr"}, [
        a.finding.script for a in before
    ]
    assert any(c.fix.software == "net-snmp" for c in before[0].fixes)

    fixes = [
        f
        for f in entry.fixes
        if f.software == "net-snmp" and f.settings and f.target == "snmpd"
        and f.versions.contains(version)
    ]  # fmt: skip
    assert fixes
    for fix in fixes:
        snmpd.reset()
        snmpd.apply("snmpd", dict(fix.settings))
        n = entry.fixes.index(fix)
        xml = _scan_snmp(snmpd, tmp_path / f"fix-{n}.xml")
        assert not _flagged(_advice(xml), entry.id), f"fix {fix.title!r} left the finding"
        assert 'id="snmp-info"' in xml.read_text(), "the agent should still answer SNMPv3 discovery"
        assert snmpd.get_v2c("public") is None
        user, auth, priv = SNMP_V3
        answer = snmpd.get_v3(user, auth, priv)
        assert answer and "STRING" in answer, f"SNMPv3 user cannot read sysName: {answer!r}"
        proof_log.add(
            Row(entry.id, "net-snmp", version_text, fix.title, (161,), "proven",
                "nmap's SNMP scripts answered with 'public' before and not after; snmpget -v3 "
                "authPriv as the new user still read sysName")
        )  # fmt: skip

    for nf in entry.not_fixes:
        if nf.software != "net-snmp" or not nf.settings:
            continue
        pytest.fail(f"{nf.change!r} has settings but no proof step here")
    snmpd.reset()
