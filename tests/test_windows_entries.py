"""Windows / SMB entries (ADV-4000 ...): the real fix comes first.

A new user who scans a Windows machine with ``--script vuln`` must read the security update
(with its KB numbers) first, then how to turn SMBv1 off with Microsoft's exact commands, and
only then the exposure advice (block 139/445), which limits who can attack but does not fix
the machine. The scans are real nmap output: the vendored corpus
(``tests/data/corpus/libnmap__dionaea_prescript-hostscript-many-scripts.xml``, nmap 7.91
against a Dionaea honeypot that answers like an unpatched Windows, and
``htb__blue_smb-hostscripts_7.80.xml``, nmap 7.80 ``-sV -sC`` against the Hack The Box
"Blue" Windows 7 machine) and the real samples in ``tests/kb_samples``. The assertions are about
the fixes' order and content, not the verdict (the Dionaea host is a honeypot).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from advisor.advise.advice import Advice, advise
from advisor.advise.context import Identity
from advisor.api import Options, explain
from advisor.cli import main
from advisor.kb import KnowledgeBase, Verdict
from tests.conftest import CORPUS, ROOT, resolve

DIONAEA = CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml"
BLUE = CORPUS / "htb__blue_smb-hostscripts_7.80.xml"
SAMPLES = ROOT / "tests" / "kb_samples"

#: The MS17-010 updates per Windows version, from Microsoft Security Bulletin MS17-010
#: (security-only / monthly rollup): 7 and 2008 R2, 8.1 and 2012 R2, 2012, 10 1507/1511/1607
#: and 2016, Vista and 2008.
MS17_010_KBS = (
    "KB4012212",
    "KB4012215",
    "KB4012213",
    "KB4012216",
    "KB4012214",
    "KB4012217",
    "KB4012606",
    "KB4013198",
    "KB4013429",
    "KB4012598",
)
#: Microsoft's commands to turn SMBv1 off ("How to detect, enable and disable SMBv1, SMBv2,
#: and SMBv3 in Windows").
SMB1_OFF = (
    "Set-SmbServerConfiguration -EnableSMB1Protocol $false -Force",
    "Disable-WindowsOptionalFeature -Online -FeatureName SMB1Protocol",
    'Set-ItemProperty -Path "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters"'
    " SMB1 -Type DWORD -Value 0 -Force",
)
EXPOSURE = "never expose TCP 139/445"

#: Entries about Windows (SMB, RPC, RDP, IIS/HTTP.sys) whose fixes are Windows fixes.
WINDOWS_ENTRIES = (
    *(f"ADV-{n}" for n in (4000, 4001, 4002, 4003, 4004, 4006, 4007, 4008, 4009, 4010, 4011)),
    *("ADV-4013", "ADV-4014", "ADV-4016", "ADV-4017", "ADV-3016", "ADV-3045"),
)
#: Samba-only entries (SambaCry, CVE-2012-1182).
SAMBA_ENTRIES = ("ADV-4005", "ADV-4015")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def section(markdown: str, entry_id: str) -> str:
    """The report's section for one entry: from its ``## n. [...] ... (ADV-nnnn)`` heading to
    the next ``## `` heading."""
    m = re.search(rf"^## \d+\. .*\({entry_id}\)$", markdown, re.M)
    assert m, f"no section for {entry_id}"
    end = markdown.find("\n## ", m.end())
    return markdown[m.start() : end if end != -1 else len(markdown)]


def how_to_fix(part: str) -> list[str]:
    """The numbered items of the section's ``#### How to fix`` list, each with its text."""
    start = part.index("#### How to fix")
    stop = part.find("\n#### ", start + 1)
    block = part[start : stop if stop != -1 else len(part)]
    return re.split(r"\n(?=\d+\. \*\*)", block)[1:]


def json_findings(path: Path) -> list[dict[str, Any]]:
    result = run("explain", str(path), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    findings: list[dict[str, Any]] = resolve(json.loads(result.stdout))["findings"]
    return findings


@pytest.mark.parametrize(
    "path",
    [DIONAEA, SAMPLES / "ADV-4000" / "positive-dionaea-ms17-010_7.91.xml"],
    ids=["corpus", "kb-sample"],
)
def test_ms17_010_markdown_puts_update_then_smbv1_then_exposure(path: Path) -> None:
    result = run("explain", str(path))
    assert result.exit_code == 1
    items = how_to_fix(section(result.stdout, "ADV-4000"))
    assert len(items) == 4, items
    update, smb1_new, smb1_old, exposure = items
    assert update.startswith("1. **Install the MS17-010 security update"), update
    assert "— recommended" in update.splitlines()[0]
    for kb in MS17_010_KBS:
        assert f"**{kb}**" in update, kb
    assert SMB1_OFF[0] in smb1_new and SMB1_OFF[1] in smb1_new
    assert "Windows 8 / Server 2012 and later" in smb1_new.splitlines()[0]
    assert SMB1_OFF[2] in smb1_old
    assert "Windows 7 / Server 2008 R2" in smb1_old.splitlines()[0]
    assert "SMB1  REG_DWORD  0" in smb1_old  # the registry value, as Microsoft names it
    assert exposure.startswith("4. **Defence in depth: " + EXPOSURE), exposure
    assert "does not fix the machine" in exposure
    text = "\n".join(items)
    assert "Samba" not in text and "smb.conf" not in text


def test_ms17_010_markdown_verify_steps_cover_update_and_smbv1() -> None:
    part = section(run("explain", str(DIONAEA)).stdout, "ADV-4000")
    verify = part[part.index("#### How to verify") :]
    assert "nmap -Pn -p 445 --script smb-vuln-ms17-010 --script-args vulns.showall 172.28.1.3" in (
        verify
    )
    assert "Get-SmbServerConfiguration | Select EnableSMB1Protocol" in verify
    assert "Get-WindowsOptionalFeature -Online -FeatureName SMB1Protocol" in verify
    assert "Get-HotFix" in verify and "KB4012212" in verify


def test_ms17_010_json_first_fix_is_the_update_with_kb_numbers() -> None:
    (finding,) = [f for f in json_findings(DIONAEA) if f["kb_id"] == "ADV-4000"]
    fixes = finding["fixes"]
    titles = [f["title"] for f in fixes]
    first = fixes[0]
    assert first["recommended"] is True and first["software"] == "windows"
    assert "MS17-010 security update" in first["title"]
    for kb in MS17_010_KBS:
        assert kb in first["commands"][0], kb
    commands = ["\n".join(f["commands"]) for f in fixes]
    smb1 = [i for i, c in enumerate(commands) if any(s in c for s in SMB1_OFF)]
    exposure = [i for i, t in enumerate(titles) if EXPOSURE in t]
    assert smb1 == [1, 2], titles
    assert exposure == [3], titles
    assert all(f["software"] == "windows" for f in fixes)


def test_doublepulsar_rebuild_comes_first_and_names_the_update_and_smbv1() -> None:
    result = run("explain", str(DIONAEA))
    items = how_to_fix(section(result.stdout, "ADV-4001"))
    assert len(items) == 2, items
    rebuild, block = items
    assert rebuild.startswith("1. **Incident response"), rebuild
    assert "KB4012212/KB4012215" in rebuild and "KB4013429" in rebuild
    assert "Set-SmbServerConfiguration -EnableSMB1Protocol $false -Force" in rebuild
    assert block.startswith("2. **Immediately: block TCP 139/445"), block
    (finding,) = [f for f in json_findings(DIONAEA) if f["kb_id"] == "ADV-4001"]
    assert [f["recommended"] for f in finding["fixes"]] == [True, False]


def test_htb_blue_windows_7_host_scripts_give_windows_fixes_first() -> None:
    """Blue (Windows 7, smb-os-discovery, smb-security-mode 'message_signing: disabled',
    smb2-security-mode 'enabled but not required') ran no vulnerability check, but -sC's SMB
    scripts state three weaknesses: an out-of-support Windows, and SMB signing not required
    (SMB1 and SMB2). Each leads with the Windows fix, never Samba's."""
    result = run("explain", str(BLUE))
    assert result.exit_code == 1, result.output
    findings = json_findings(BLUE)
    assert sorted((f["kb_id"], f["severity"]) for f in findings) == [
        ("ADV-4101", "medium"),
        ("ADV-4102", "medium"),
        ("ADV-4103", "high"),
    ]
    for f in findings:
        first = f["fixes"][0]
        assert first["software"] != "samba", (f["kb_id"], first["title"])
        assert "Samba" not in first["title"]
    assert "Windows 7 Professional 7601 Service Pack 1" in result.stdout


# ---------------------------------------------------------------- every Windows / Samba entry


def _advices(path: Path, kb: KnowledgeBase, entry_id: str) -> list[Advice]:
    found: list[Advice] = []

    def collect(advice: Advice) -> None:
        if advice.verdict is Verdict.MATCHED and advice.entry and advice.entry.id == entry_id:
            found.append(advice)

    with path.open("rb") as fh:
        explain(fh, kb, Options(on_advice=collect))
    return found


def _positive(entry_id: str) -> Path:
    return sorted((SAMPLES / entry_id).glob("positive-*"))[0]


def _is_exposure(title: str) -> bool:
    return "139/445" in title or "block" in title.lower() or "never expose" in title.lower()


@pytest.mark.parametrize("entry_id", WINDOWS_ENTRIES)
def test_windows_entry_shows_its_real_fix_first_whatever_is_identified(
    entry_id: str, kb: KnowledgeBase
) -> None:
    """Host scripts carry no port, so nmap's identification rarely reaches them: with nothing
    identified, with the host identified as Windows, and as the sample says, the first fix is
    the entry's recommended one (the update, or the rebuild for an infection), every fix is a
    Windows fix, and exposure advice comes after every other fix."""
    entry = kb.get(entry_id)
    assert entry is not None
    recommended = [f for f in entry.fixes if f.recommended]
    assert len(recommended) == 1
    assert {f.software for f in entry.fixes} == {"windows"}, entry_id
    (sample,) = _advices(_positive(entry_id), kb, entry_id)[:1]
    result = kb.match(sample.finding)
    for identity in (
        sample.identity,
        Identity(None, None, "low"),
        Identity("windows", None, "medium"),
    ):
        chosen = advise(sample.finding, result, identity).fixes
        titles = [c.fix.title for c in chosen]
        assert titles[0] == recommended[0].title, (identity.software, titles)
        assert len(chosen) == len(entry.fixes), (identity.software, titles)
        exposure = [i for i, t in enumerate(titles) if _is_exposure(t)]
        assert exposure == list(range(len(titles) - len(exposure), len(titles))), titles


@pytest.mark.parametrize("entry_id", SAMBA_ENTRIES)
def test_samba_entries_keep_their_own_software_tag(entry_id: str, kb: KnowledgeBase) -> None:
    """SambaCry and CVE-2012-1182 are Samba bugs: their fixes are tagged ``samba`` (so a
    Windows fix list never holds them) and the upgrade comes first for a Samba host."""
    entry = kb.get(entry_id)
    assert entry is not None
    assert {f.software for f in entry.fixes} == {"samba"}
    (sample,) = _advices(_positive(entry_id), kb, entry_id)[:1]
    chosen = advise(sample.finding, kb.match(sample.finding), Identity("samba", None, "medium"))
    assert chosen.fixes[0].fix.recommended
    assert chosen.fixes[0].fix.title.startswith("Upgrade Samba")


def test_no_windows_entry_offers_a_samba_fix_to_a_windows_host(kb: KnowledgeBase) -> None:
    windows = Identity("windows", None, "medium")
    for entry_id in WINDOWS_ENTRIES:
        (sample,) = _advices(_positive(entry_id), kb, entry_id)[:1]
        chosen = advise(sample.finding, kb.match(sample.finding), windows).fixes
        assert all(c.fix.software != "samba" for c in chosen), entry_id
        assert all("smb.conf" not in c.fix.scope for c in chosen), entry_id
