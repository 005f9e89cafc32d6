"""Proof suite for the SSH entries (ADV-5101..5107): a real OpenSSH sshd on 127.0.0.1, made
vulnerable, scanned with real nmap; then every fix the entry gives for OpenSSH whose version range
holds the installed version is applied exactly as the entry's ``settings`` state it (target
``sshd``: tests/lab/servers_ssh.py), and nmap must stop reporting the entry while a real
key-based SSH login (``ssh -o BatchMode=yes ... true``, host key learnt with ``ssh-keyscan``)
still works. Changes the entries list as *not* fixing the finding must leave it.

What Debian 12's OpenSSH 9.2p1 cannot be put into, so these entries have no case here:
ADV-5100 (SSH protocol 1: removed from sshd in 7.4, needs an old vulnerable build; its sample is
an emulated SSH-1 greeter) and ADV-5108 (a known-bad key: its fixes are a vendor update and
editing authorized_keys, no sshd_config setting). DSA host keys are still compiled into 9.2
(``ssh -Q key`` lists ssh-dss), so ADV-5102 is proven here.

The one liberty taken with an entry's settings: paths under ``/etc/ssh/`` point at the lab's own
host keys (``SshdServer`` maps them), the same way test_proof.py maps DH parameter files.

nmap's ssh scripts select ports by the service name ``ssh`` (shortport.ssh): the scan passes a
``--datadir`` whose nmap-services names the lab port ``ssh``, and the XML is rewritten to port 22
before advisor reads it, as a real server would show it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor.advise.advice import Advice
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase, Verdict
from advisor.kb.schema import Fix
from advisor.kb.versions import parse_version
from tests.lab.common import make_lab_dir, skip_unless_available
from tests.lab.nmap import run_nmap
from tests.lab.servers_ssh import TARGET, SshdServer, installed_version
from tests.proof.conftest import ProofLog, Row

pytestmark = pytest.mark.lab

KB = KnowledgeBase.load()
ED25519 = "/etc/ssh/ssh_host_ed25519_key"
RSA3072 = "/etc/ssh/ssh_host_rsa_key"
RSA1024 = "/etc/ssh/ssh_host_rsa1024_key"
DSA = "/etc/ssh/ssh_host_dsa_key"


@dataclass(frozen=True)
class Case:
    entry: str
    vulnerable: Mapping[str, str]
    """sshd_config keywords that make the lab server show the finding."""
    scripts: str
    keys: tuple[tuple[str, str, int | None], ...] = field(default=())
    """Extra host keys to generate: (file name, type, bits)."""


CASES = [
    Case(
        "ADV-5101",
        {"HostKey": f"{ED25519}\n{RSA1024}", "HostKeyAlgorithms": "+ssh-rsa"},
        "ssh-hostkey",
        (("ssh_host_rsa1024_key", "rsa", 1024),),
    ),
    Case(
        "ADV-5102",
        {"HostKey": f"{ED25519}\n{RSA3072}\n{DSA}", "HostKeyAlgorithms": "+ssh-dss"},
        "ssh-hostkey,ssh2-enum-algos",
        (("ssh_host_dsa_key", "dsa", None),),
    ),
    Case(
        "ADV-5103",
        {
            "KexAlgorithms": "+diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1,"
            "diffie-hellman-group14-sha1"
        },
        "ssh2-enum-algos",
    ),
    Case("ADV-5104", {"Ciphers": "+3des-cbc,aes128-cbc,aes256-cbc"}, "ssh2-enum-algos"),
    Case(
        "ADV-5105", {"MACs": "+hmac-md5,hmac-sha1-96,hmac-md5-etm@openssh.com"}, "ssh2-enum-algos"
    ),
    Case("ADV-5106", {"HostKeyAlgorithms": "+ssh-rsa"}, "ssh2-enum-algos"),
    Case("ADV-5107", {"PasswordAuthentication": "yes"}, "ssh-auth-methods"),
]


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdServer]:
    skip_unless_available("sshd", "ssh", "ssh-keygen", "ssh-keyscan", "nmap", root=True)
    lab = make_lab_dir("advisor-proof-ssh-")
    server = SshdServer(lab / "sshd")
    try:
        yield server.start()
    finally:
        server.stop()
        if os.environ.get("ADVISOR_LAB_KEEP") != "1":
            import shutil

            shutil.rmtree(lab, ignore_errors=True)


def _scan(server: SshdServer, case: Case, name: str, tmp: Path) -> Path:
    run = run_nmap(server.port(), case.scripts, tmp / f"{name}.xml", servicedb=server.servicedb())
    text = run.xml.read_text().replace(f'portid="{server.port()}"', 'portid="22"')
    out = tmp / f"{name}-port22.xml"
    out.write_text(text)
    return out


def _flagged(xml: Path, entry: str) -> list[Advice]:
    got: list[Advice] = []
    with xml.open("rb") as fh:
        explain(fh, KB, Options(on_advice=got.append, guess_os=False))
    return [
        a
        for a in got
        if a.entry is not None
        and a.entry.id == entry
        and a.verdict is Verdict.MATCHED
        and a.finding.location.port == 22
    ]


def _vulnerable(server: SshdServer, case: Case) -> None:
    server.reset()
    for name, key_type, bits in case.keys:
        server.make_host_key(name, key_type, bits)
    server.set(case.vulnerable)


def _fixes(entry_id: str, version: tuple[int, ...]) -> list[Fix]:
    entry = KB.get(entry_id)
    assert entry is not None
    return [
        f
        for f in entry.fixes
        if f.software == "openssh"
        and f.settings
        and f.target == TARGET
        and f.versions.contains(version)
    ]


def test_every_provable_ssh_entry_has_a_case() -> None:
    """Each SSH entry (ADV-5100..5129) with an sshd_config fix for this version has a case."""
    version = parse_version(installed_version()) or (9, 2)
    provable = {e.id for e in KB if 5100 <= int(e.id[4:]) <= 5129 and _fixes(e.id, version)}
    assert provable == {c.entry for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.entry)
def test_ssh_fix_is_proven(
    case: Case, sshd: SshdServer, tmp_path: Path, proof_log: ProofLog
) -> None:
    version_text = installed_version()  # "9.2p1"
    version = parse_version(version_text) or ()
    numeric = ".".join(str(n) for n in version)  # the proof matrix wants dotted numbers

    _vulnerable(sshd, case)
    sshd.restart()
    sshd.login()
    before = _flagged(_scan(sshd, case, "before", tmp_path), case.entry)
    assert before, f"{case.entry}: the vulnerable configuration was not reported"
    offered = {c.fix.software for c in before[0].fixes}
    assert "openssh" in offered, f"{case.entry}: no OpenSSH fix offered ({offered})"

    fixes = _fixes(case.entry, version)
    assert fixes, f"{case.entry} has no sshd fix for OpenSSH {version_text}"
    entry = KB.get(case.entry)
    assert entry is not None
    for fix in fixes:
        _vulnerable(sshd, case)
        sshd.apply(TARGET, dict(fix.settings))
        effective = sshd.sshd("-T")
        for key, value in fix.settings:
            if value.startswith(("-", "+", "^")):
                continue  # a list relative to the default: checked by the scan below
            for part in value.split("\n"):
                line = f"{key.lower()} {sshd.lab_path(part)}"
                assert line in effective.splitlines(), f"sshd -T lacks {line!r}"
        after = _flagged(_scan(sshd, case, f"fix-{entry.fixes.index(fix)}", tmp_path), case.entry)
        assert not after, f"fix {fix.title!r} left {case.entry} reported"
        login = sshd.login("echo advisor-ssh-ok")
        assert "advisor-ssh-ok" in login.stdout, f"fix {fix.title!r} broke the login"
        proof_log.add(
            Row(
                case.entry,
                "openssh",
                numeric,
                fix.title,
                (22,),
                "proven",
                f"nmap {case.scripts} reported it before and not after (OpenSSH {version_text}); "
                "ssh key login OK",
            )
        )

    for nf in entry.not_fixes:
        if nf.software != "openssh" or not nf.settings or nf.target != TARGET:
            continue
        if not nf.versions.contains(version):
            continue
        _vulnerable(sshd, case)
        sshd.apply(TARGET, dict(nf.settings))
        after = _flagged(
            _scan(sshd, case, f"notfix-{entry.not_fixes.index(nf)}", tmp_path), case.entry
        )
        assert after, f"{nf.change!r} is listed as not a fix, but removed the finding"
        proof_log.add(
            Row(
                case.entry,
                "openssh",
                numeric,
                nf.change,
                (22,),
                "not a fix",
                "nmap still reports the finding after this change, as the entry says",
            )
        )
    sshd.reset()
