"""``advisor rescan`` and ``advisor scan``: the nmap command they build from real scans, what
they refuse, and (with a stand-in nmap that writes a real capture) the whole run: XML kept,
diff printed, exit codes.

Data: the vendored corpus (tests/data/corpus, see its SOURCES.md), the motivating-case
capture (samples/motivating-case, real nmap 7.93 against a real Postfix on 127.0.0.1), nmap's
normal output captures in tests/data/text, and JSON reports made here by ``advisor explain -f
json``. Files derived from them are built inside each test from the real file, and say how.
No test here starts nmap: the lab test (tests/lab/test_rescan_lab.py) does, on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from advisor.api import Options
from advisor.cli import main
from advisor.diff import read_side
from advisor.kb import KnowledgeBase
from advisor.rescan.nmapdata import SSL_PORTS, STARTTLS_PORTS, script_names, split_args
from advisor.rescan.original import read_original
from advisor.rescan.plan import NothingToRecheck, PlanRefused, build_plan, carried_options
from advisor.rescan.profiles import PROFILES
from advisor.scan import open_scan
from tests.conftest import CORPUS_FILES, DATA, ROOT

MOTIVATING = ROOT / "samples" / "motivating-case" / "scan.xml"
RAW_VULN_465 = ROOT / "samples" / "motivating-case" / "raw-vuln-465.xml"
DOVECOT = ROOT / "samples" / "dovecot" / "vulnerable.xml"
CORPUS = DATA / "corpus"
KIS = CORPUS / "kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml"
RAILS = CORPUS / "rails-ssl-scan__0a137b37_ssl-dh-params_7.01SVN.xml"
DIONAEA = CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml"
MULTI = CORPUS / "libnmap__full_sudo6_multi-host_ssl-scripts_6.40.xml"
OLD_IDS = CORPUS / "nmap__zenmap-radialnet-example_old-script-ids_4.53.xml"
SCRIPT_DB = Path("/usr/share/nmap/scripts/script.db")
KB = KnowledgeBase.load()


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)


def dry_run(*args: str) -> list[str]:
    result = run("rescan", *args, "--dry-run", "-o", "after.xml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return shlex.split(lines[0])


def option_values(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == name]


def targets(argv: list[str]) -> list[str]:
    return argv[argv.index("-oX") + 2 :]


def ports(argv: list[str]) -> set[tuple[int, str]]:
    spec = option_values(argv, "-p")[0]
    out, proto = set(), "tcp"
    for part in spec.split(","):
        if part[:2] in ("T:", "U:"):
            proto, part = ("tcp" if part[0] == "T" else "udp"), part[2:]
        out.add((int(part), proto))
    return out


def with_args(source: Path, args: str, dest: Path) -> Path:
    """A copy of a real capture with another ``<nmaprun args>`` (the findings untouched)."""
    text = source.read_text()
    quoted = args.replace("&", "&amp;").replace('"', "&quot;")
    new = re.sub(
        r'(<nmaprun [^>]*args=")[^"]*(")', lambda m: m.group(1) + quoted + m.group(2), text
    )
    assert new != text
    dest.write_text(new)
    return dest


def json_report(scan: Path, dest: Path) -> Path:
    result = run("explain", str(scan), "-f", "json", "-o", str(dest))
    assert result.exit_code in (0, 1), result.stderr
    return dest


# ------------------------------------------------------------------------------ planned commands
def test_motivating_case_rescans_its_three_ports_with_its_own_options() -> None:
    argv = dry_run(str(MOTIVATING))
    # original: nmap -Pn -n -sV --script ssl-dh-params -p 25,465,587 -oA raw-scan 127.0.0.1
    assert argv == [
        "nmap", "-Pn", "-n", "-sV", "--script", "ssl-dh-params",
        "-p", "25,465,587", "-oX", "after.xml", "127.0.0.1",
    ]  # fmt: skip


def _expected(path: Path) -> tuple[set[str], set[str], set[tuple[int, str]]]:
    """Hosts, scripts and ports of the findings ``advisor diff`` sees in a scan, read
    independently of the planner (host scripts bring their host's open ports along)."""
    with path.open("rb") as fh:
        side = read_side(fh, KB, Options(), str(path))
    installed = script_names([SCRIPT_DB.parent.parent]) if SCRIPT_DB.is_file() else None
    items = [
        i
        for i in side.items.values()
        if i.host != "(scan)" and (installed is None or i.script in installed)
    ]
    with path.open("rb") as fh:
        open_ports = {
            h.address: {(p.portid, p.protocol) for p in h.ports if p.state.startswith("open")}
            for h in open_scan(fh)
        }
    port_set = {(i.port, i.protocol or "tcp") for i in items if i.port is not None}
    for i in items:
        if i.port is None:
            port_set |= open_ports[i.host]
    return {i.host for i in items}, {i.script for i in items}, port_set


WITH_FINDINGS = [
    p for p in CORPUS_FILES if p.parent == CORPUS and p.name != OLD_IDS.name and _expected(p)[0]
]


@pytest.mark.parametrize("path", WITH_FINDINGS, ids=lambda p: p.name)
def test_corpus_rescan_holds_only_hosts_ports_and_scripts_with_findings(path: Path) -> None:
    hosts, scripts, port_set = _expected(path)
    argv = dry_run(str(path))
    assert set(targets(argv)) == hosts
    assert set(option_values(argv, "--script")[0].split(",")) == scripts
    assert ports(argv) == port_set
    assert "-Pn" in argv
    for forbidden in ("-iL", "-oA", "-oN", "-A", "-O", "-sC", "--script-args-file"):
        assert forbidden not in argv
    # the original's script arguments, read from the raw args attribute with a regex
    with path.open("rb") as fh:
        scan = open_scan(fh)
        for _ in scan:
            pass
    raw = re.findall(r'--script-args[= ]("(?:[^"\\]|\\.)*"|\S+)', scan.info.args)
    assert option_values(argv, "--script-args") == [v.strip('"') for v in raw]


def test_script_args_and_scan_type_are_carried() -> None:
    rails = dry_run(str(RAILS))
    assert option_values(rails, "--script-args") == ["vulns.showall"]
    assert option_values(rails, "--script") == ["ssl-poodle"]  # the one finding, not all four
    kis = dry_run(str(KIS))
    # /usr/bin/nmap -Pn -sS -n -sV --disable-arp-ping --script=... -p 443 192.168.1.1
    assert kis[:5] == ["nmap", "-Pn", "-n", "-sS", "-sV"]
    assert "--disable-arp-ping" not in kis


def test_host_scripts_bring_the_hosts_open_ports() -> None:
    argv = dry_run(str(DIONAEA))
    assert "smb-vuln-ms17-010" in option_values(argv, "--script")[0].split(",")
    assert (445, "tcp") in ports(argv)


def test_json_report_plans_the_same_command_as_its_scan(tmp_path: Path) -> None:
    for scan in (MOTIVATING, KIS, RAILS, DOVECOT):
        report = json_report(scan, tmp_path / f"{scan.stem}.json")
        assert json.loads(report.read_text())["schema"].startswith("advisor-report/")
        assert dry_run(str(report)) == dry_run(str(scan)), scan.name


def test_json_report_side_equals_the_scan_side(tmp_path: Path) -> None:
    report = json_report(DOVECOT, tmp_path / "dovecot.json")
    from_json = read_original(str(report), KB).side
    from_xml = read_original(str(DOVECOT), KB).side
    assert from_json.items == from_xml.items


def test_json_report_host_scripts_are_not_rechecked(tmp_path: Path) -> None:
    report = json_report(DIONAEA, tmp_path / "dionaea.json")
    result = run("rescan", str(report), "--dry-run", "-o", "after.xml")
    assert result.exit_code == 0
    assert "smb-vuln-ms17-010" not in result.stdout
    assert re.search(
        r"not rechecked: 172\.28\.1\.3 smb-vuln-ms17-010: a host script: .* JSON report",
        result.stderr,
    )


def test_text_input_and_ipv6() -> None:
    argv = dry_run(str(DATA / "text" / "ipv6.nmap"))
    assert "-6" in argv and targets(argv) == ["::1"]


def test_dry_run_needs_no_nmap(tmp_path: Path) -> None:
    result = run("rescan", str(MOTIVATING), "--dry-run", env={"PATH": str(tmp_path)})
    assert result.exit_code == 0
    # default XML name: beside the input, with a UTC timestamp
    out = shlex.split(result.stdout)[shlex.split(result.stdout).index("-oX") + 1]
    assert re.fullmatch(
        re.escape(str(MOTIVATING.with_name("scan"))) + r"\.rescan-\d{8}T\d{6}Z\.xml", out
    )
    assert not list(MOTIVATING.parent.glob("scan.rescan-*"))


# ------------------------------------------------------------------------------------ -sV rules
def test_tls_script_on_a_high_port_without_service_name_gets_version_detection() -> None:
    # raw capture: nmap -Pn -n --script vuln -p 10465 --datadir /tmp/advisor-capture-.../nmapdata
    # (the datadir named 10465 smtps; it is gone now)
    result = run("rescan", str(RAW_VULN_465), "--dry-run", "-o", "a.xml")
    argv = shlex.split(result.stdout)
    assert "-sV" in argv and "--datadir" not in argv
    assert "--datadir /tmp/advisor-capture-4dmdyllz/nmapdata of the original is not carried" in (
        result.stderr
    )
    assert "10465/tcp is no standard TLS port" in result.stderr


def test_datadir_is_carried_and_its_service_names_spare_version_detection(
    tmp_path: Path,
) -> None:
    datadir = tmp_path / "nmapdata"
    datadir.mkdir()
    (datadir / "nmap-services").write_text("smtps\t10465/tcp\t0.5\t# lab\n")
    args = f"nmap -Pn -n --script vuln -p 10465 --datadir {datadir} -oA raw-vuln-465 127.0.0.1"
    scan = with_args(RAW_VULN_465, args, tmp_path / "vuln.xml")
    argv = dry_run(str(scan))
    assert "-sV" not in argv
    assert option_values(argv, "--datadir") == [str(datadir)]
    assert option_values(argv, "--script") == ["ssl-dh-params"]


def test_version_detection_reasons() -> None:
    assert "-sV" in dry_run(str(CORPUS / "defectdojo__nmap_script_vulners.xml"))
    standard = sorted(SSL_PORTS | STARTTLS_PORTS)
    assert 465 in standard and 587 in standard and 25 in standard and 143 in standard
    # the motivating case's 465 rewritten capture without -sV keeps it off
    argv = dry_run(str(ROOT / "samples" / "motivating-case" / "vuln-465.xml"))
    assert "-sV" not in argv


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("nmap -sCV -T4 -p 443 h", ("-sV", "-T4", None)),
        ("nmap -A -T 3 h", ("-A", "-T3", None)),
        ("nmap -sS --version-intensity=5 -sV h", ("-sV", None, ("--version-intensity", "5"))),
        ("nmap -sT --version-all -sV h", ("-sV", None, ("--version-all",))),
        ("nmap -script ssl-cert -p 443 h", (None, None, None)),
    ],
)
def test_carried_options(args: str, expected: tuple[object, ...]) -> None:
    carried = carried_options(args)
    version, timing, version_options = expected
    assert carried.version == version
    assert carried.timing == timing
    assert carried.version_options == (version_options or ())


def test_split_args_reads_nmaps_own_quoting() -> None:
    # <nmaprun args> written by nmap 7.93 (run here against 127.0.0.1, port 1):
    # nmap -Pn -n -p 1 --script-args 'a="x y",b=$HOME' --script-args "c='q'" -oX - 127.0.0.1
    written = (
        'nmap -Pn -n -p 1 --script-args "a=\\"x y\\",b=$HOME" --script-args c=\'q\' -oX - 127.0.0.1'
    )
    assert split_args(written) == [
        "nmap", "-Pn", "-n", "-p", "1", "--script-args", 'a="x y",b=$HOME',
        "--script-args", "c='q'", "-oX", "-", "127.0.0.1",
    ]  # fmt: skip
    # nmap ... --script-args 'd=\z w'  ->  --script-args "d=\\z w"
    assert split_args('nmap --script-args "d=\\\\z w"') == ["nmap", "--script-args", "d=\\z w"]


# --------------------------------------------------------------------------------------- refusals
def test_host_not_in_the_original_is_refused() -> None:
    result = run("rescan", str(MOTIVATING), "--host", "192.0.2.7", "--dry-run")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"advisor: error: --host 192.0.2.7: not a host of the original scan {MOTIVATING} "
        "(its hosts: 127.0.0.1)"
    ]


def test_host_refused_for_a_report_too(tmp_path: Path) -> None:
    report = json_report(MOTIVATING, tmp_path / "r.json")
    result = run("rescan", str(report), "--host", "-iL/etc/passwd", "--dry-run")
    assert result.exit_code == 2
    assert "not a host with findings in the report" in result.stderr
    assert "Traceback" not in result.stderr


def test_host_selection_by_address_and_name() -> None:
    hosts = read_original(str(MULTI), KB).finding_hosts()
    assert len(hosts) == 1
    address = next(iter(hosts))
    assert targets(dry_run(str(MULTI), "--host", address)) == [address]
    # a host of that scan without findings: nothing to do, exit 0, nmap not run
    with MULTI.open("rb") as fh:
        others = [h.address for h in open_scan(fh) if h.address != address]
    result = run("rescan", str(MULTI), "--host", others[0], "--dry-run")
    assert result.exit_code == 0 and result.stdout == ""
    assert f"nothing to recheck on {others[0]}: it had no findings" in result.stderr


def test_newtargets_in_script_args_is_refused(tmp_path: Path) -> None:
    args = "nmap -Pn -n -sV --script ssl-dh-params --script-args newtargets -p 25,465,587 x"
    scan = with_args(MOTIVATING, args, tmp_path / "scan.xml")
    result = run("rescan", str(scan), "--dry-run")
    assert result.exit_code == 2
    assert "newtargets" in result.stderr and result.stdout == ""


def test_hostile_script_ids_are_never_run(tmp_path: Path) -> None:
    # the motivating case with its script id replaced by a category and by an option
    for hostile in ("exploit", "--script-args-file=/etc/passwd"):
        text = MOTIVATING.read_text().replace('id="ssl-dh-params"', f'id="{hostile}"')
        scan = tmp_path / "hostile.xml"
        scan.write_text(text)
        with pytest.raises(NothingToRecheck, match="nothing to recheck"):
            build_plan(read_original(str(scan), KB))
        result = run("rescan", str(scan), "--dry-run")
        assert result.exit_code == 0 and result.stdout == ""
        assert "not rechecked" in result.stderr


def test_old_script_ids_cannot_be_rescanned() -> None:
    result = run("rescan", str(OLD_IDS), "--dry-run")
    assert result.exit_code == 0 and result.stdout == ""
    assert "SSLv2: not a plain nmap script name" in result.stderr


def test_mixed_address_families_are_refused(tmp_path: Path) -> None:
    v4 = MOTIVATING.read_text()
    v6 = v4.replace('addr="127.0.0.1" addrtype="ipv4"', 'addr="::1" addrtype="ipv6"')
    first_host_end = v4.index("</host>") + len("</host>")
    host6 = v6[v6.index("<host ") : v6.index("</host>") + len("</host>")]
    scan = tmp_path / "mixed.xml"
    scan.write_text(v4[:first_host_end] + host6 + v4[first_host_end:])
    with pytest.raises(PlanRefused, match="IPv4 and IPv6"):
        build_plan(read_original(str(scan), KB))
    assert targets(dry_run(str(scan), "--host", "::1")) == ["::1"]


def test_bad_inputs_give_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something-else/1"}')
    cases = {
        str(tmp_path / "missing.xml"): "no such file",
        str(bad): "not an advisor JSON report",
        str(DATA / "broken" / "not-nmap-root.xml"): "not an nmap XML file",
        str(DATA / "broken" / "empty.xml"): "the input is empty",
    }
    for path, message in cases.items():
        result = run("rescan", path, "--dry-run")
        assert result.exit_code == 2, path
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


# ------------------------------------------------------------------------- running (stand-in nmap)
FAKE_NMAP = """\
#!{python}
# Stand-in for nmap in tests: records its argv and writes a prepared real capture to -oX.
import json, os, shutil, sys
with open(os.environ["FAKE_NMAP_LOG"], "a") as log:
    log.write(json.dumps(sys.argv) + "\\n")
if os.environ.get("FAKE_NMAP_FAIL"):
    sys.stderr.write("Failed to open datadir\\n")
    sys.exit(1)
shutil.copy(os.environ["FAKE_NMAP_XML"], sys.argv[sys.argv.index("-oX") + 1])
"""


@pytest.fixture
def fake_nmap(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    nmap = bin_dir / "nmap"
    nmap.write_text(FAKE_NMAP.format(python=sys.executable))
    nmap.chmod(nmap.stat().st_mode | stat.S_IEXEC)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_NMAP_LOG": str(tmp_path / "argv.log"),
    }


def _argv_log(env: dict[str, str]) -> list[list[str]]:
    return [json.loads(line) for line in Path(env["FAKE_NMAP_LOG"]).read_text().splitlines()]


def _after_465_fixed(tmp_path: Path) -> Path:
    """The motivating capture with the ssl-dh-params result removed from port 465 only: what
    nmap shows after the master.cf fix on 465 (lab-notes.md: that fix leaves 25 and 587)."""
    text = MOTIVATING.read_text()
    start = text.index('<port protocol="tcp" portid="465">')
    script = text.index('<script id="ssl-dh-params"', start)
    end = text.index("</script>", script) + len("</script>")
    after = tmp_path / "after-source.xml"
    after.write_text(text[:script] + text[end:])
    return after


def test_rescan_runs_nmap_keeps_the_xml_and_prints_the_diff(
    tmp_path: Path, fake_nmap: dict[str, str]
) -> None:
    env = fake_nmap | {"FAKE_NMAP_XML": str(_after_465_fixed(tmp_path))}
    out = tmp_path / "kept" / "after.xml"
    out.parent.mkdir()
    result = run("rescan", str(MOTIVATING), "-o", str(out), "-f", "json", env=env)
    assert result.exit_code == 1, result.stderr  # 587 is still open (medium)
    doc = json.loads(result.stdout)
    assert [(i["port"], i["kb_id"]) for i in doc["fixed"]] == [(465, "ADV-1001")]
    assert sorted(i["port"] for i in doc["still_open"]) == [25, 587]
    assert doc["new"] == [] and doc["not_rechecked"] == []
    assert out.read_bytes() == Path(env["FAKE_NMAP_XML"]).read_bytes()
    assert [p.name for p in out.parent.iterdir()] == ["after.xml"]  # no temporary file left
    (argv,) = _argv_log(env)
    written = argv[argv.index("-oX") + 1]  # a temporary file beside -o, renamed on success
    assert Path(written).parent == out.parent and written != str(out)
    assert argv == [
        str(Path(env["PATH"].split(os.pathsep)[0]) / "nmap"),
        "-Pn", "-n", "-sV", "--script", "ssl-dh-params", "-p", "25,465,587",
        "-oX", written, "127.0.0.1",
    ]  # fmt: skip
    assert "advisor: running: nmap -Pn -n -sV" in result.stderr
    assert "0 new, 2 still open, 1 fixed, 0 not rechecked" in result.stderr
    # the same run with --fail-on high: nothing open reaches it
    again = run(
        "rescan", str(MOTIVATING), "-o", str(tmp_path / "a2.xml"), "--fail-on", "high", env=env
    )
    assert again.exit_code == 0
    assert "## Fixed (1)" in again.stdout


def test_rescan_from_a_json_report(tmp_path: Path, fake_nmap: dict[str, str]) -> None:
    report = json_report(MOTIVATING, tmp_path / "report.json")
    env = fake_nmap | {"FAKE_NMAP_XML": str(MOTIVATING)}  # nothing changed
    diff = tmp_path / "diff.md"
    result = run("rescan", str(report), "--report", str(diff), env=env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "## Still open (3)" in diff.read_text()
    kept = list(tmp_path.glob("report.rescan-*.xml"))
    assert len(kept) == 1


def test_a_closed_port_is_not_a_fix(tmp_path: Path, fake_nmap: dict[str, str]) -> None:
    text = MOTIVATING.read_text()
    start = text.index('<port protocol="tcp" portid="465">')
    end = text.index("</port>", start) + len("</port>")
    closed = tmp_path / "closed.xml"
    closed.write_text(
        text[:start] + '<port protocol="tcp" portid="465"><state state="closed" reason="reset" '
        'reason_ttl="64"/></port>' + text[end:]
    )
    env = fake_nmap | {"FAKE_NMAP_XML": str(closed)}
    result = run("rescan", str(MOTIVATING), "-o", str(tmp_path / "a.xml"), "-f", "json", env=env)
    doc = json.loads(result.stdout)
    assert [i["port"] for i in doc["not_rechecked"]] == [465]
    assert doc["fixed"] == []
    assert "465/tcp ssl-dh-params: the port is not open in the rescan" in result.stderr


def test_script_args_reach_nmap_as_one_argument(tmp_path: Path, fake_nmap: dict[str, str]) -> None:
    args = 'nmap -Pn -n -sV --script ssl-dh-params --script-args "a=\\"x y\\",b=$HOME" -p 465 x'
    scan = with_args(MOTIVATING, args, tmp_path / "scan.xml")
    env = fake_nmap | {"FAKE_NMAP_XML": str(MOTIVATING)}
    run("rescan", str(scan), "-o", str(tmp_path / "a.xml"), env=env)
    (argv,) = _argv_log(env)
    assert option_values(argv, "--script-args") == ['a="x y",b=$HOME']  # no shell expansion


def test_nmap_missing_or_failing_is_one_line_and_exit_2(
    tmp_path: Path, fake_nmap: dict[str, str]
) -> None:
    missing = run(
        "rescan", str(MOTIVATING), "-o", str(tmp_path / "a.xml"), env={"PATH": str(tmp_path)}
    )
    assert missing.exit_code == 2
    assert (
        missing.stderr.strip().splitlines()[-1].startswith("advisor: error: nmap not found on PATH")
    )
    env = fake_nmap | {"FAKE_NMAP_XML": str(MOTIVATING), "FAKE_NMAP_FAIL": "1"}
    failed = run("rescan", str(MOTIVATING), "-o", str(tmp_path / "b.xml"), env=env)
    assert failed.exit_code == 2
    assert failed.stderr.strip().splitlines()[-1] == (
        "advisor: error: nmap failed (exit code 1): Failed to open datadir"
    )
    assert not (tmp_path / "b.xml").exists()
    assert not list(tmp_path.glob(".b.xml.*"))


# ------------------------------------------------------------------------------------ advisor scan
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_scan_dry_run_per_profile(profile: str) -> None:
    result = run("scan", "127.0.0.1", "--profile", profile, "--dry-run", "-o", "report.md")
    assert result.exit_code == 0, result.stderr
    argv = shlex.split(result.stdout)
    assert result.stderr.splitlines()[-1] == (
        f"advisor: nmap command for profile {profile}: {result.stdout.strip()}"
    )
    assert argv[:3] == ["nmap", "-Pn", "-sV"]
    assert option_values(argv, "-oX") == ["report.xml"]
    assert targets(argv) == ["127.0.0.1"]
    scripts = option_values(argv, "--script")[0].split(",")
    assert scripts == list(PROFILES[profile].scripts)
    expected_ports = {
        "mail": "25,465,587,110,143,993,995",
        "web": "80,443,8443",
        "tls": "25,110,143,443,465,587,636,993,995,8443",
    }
    assert option_values(argv, "-p") == ([expected_ports[profile]] if profile != "vuln" else [])
    if profile == "mail":
        assert {"ssl-enum-ciphers", "ssl-dh-params", "ssl-cert", "smtp-commands"} <= set(scripts)
    if profile == "web":
        assert "http-security-headers" in scripts
    if profile == "vuln":
        assert scripts == ["vuln"]


@pytest.mark.skipif(not SCRIPT_DB.is_file(), reason="nmap's script.db not installed")
def test_profile_scripts_are_in_nmaps_script_db() -> None:
    names = set(re.findall(r'filename = "([^"]+)\.nse"', SCRIPT_DB.read_text()))
    categories = {
        name: set(cats.split('", "'))
        for name, cats in re.findall(
            r'filename = "([^"]+)\.nse", categories = \{ "(.*?)", \}', SCRIPT_DB.read_text()
        )
    }
    for profile in PROFILES.values():
        if profile.name == "vuln":
            continue
        for script in profile.scripts:
            assert script in names, (profile.name, script)
            assert "safe" in categories[script] or script == "ssl-enum-ciphers", script


def test_scan_options(tmp_path: Path) -> None:
    argv = shlex.split(
        run("scan", "::1", "--profile", "tls", "--ports", "41000-41002,443", "--dry-run").stdout
    )
    assert "-6" in argv and option_values(argv, "-p") == ["41000-41002,443"]
    xml = option_values(argv, "-oX")[0]
    assert re.fullmatch(r"scan-\d{8}T\d{6}Z\.xml", xml)  # no --output: in the current directory
    assert option_values(
        shlex.split(run("scan", "127.0.0.1", "-o", "r.xml", "--dry-run").stdout), "-oX"
    ) == ["r.nmap.xml"]
    assert option_values(
        shlex.split(run("scan", "127.0.0.1", "--xml", "k.xml", "--dry-run").stdout), "-oX"
    ) == ["k.xml"]
    for bad in (["--", "-iL"], ["127.0.0.1", "--ports", "0-10"], ["127.0.0.1", "::1"], ["a;b"]):
        result = run("scan", *bad, "--dry-run")
        assert result.exit_code == 2, bad
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_scan_explains_as_explain_would(tmp_path: Path, fake_nmap: dict[str, str]) -> None:
    env = fake_nmap | {"FAKE_NMAP_XML": str(MOTIVATING)}
    report = tmp_path / "report.json"
    result = run("scan", "127.0.0.1", "--profile", "mail", "-f", "json", "-o", str(report), env=env)
    assert result.exit_code == 1, result.stderr  # medium findings, --fail-on low: as explain
    kept = tmp_path / "report.xml"
    assert kept.read_bytes() == MOTIVATING.read_bytes()
    explained = tmp_path / "explained.json"
    assert run("explain", str(kept), "-f", "json", "-o", str(explained)).exit_code == 1
    assert json.loads(report.read_text()) == json.loads(explained.read_text())
    (argv,) = _argv_log(env)
    assert option_values(argv, "-p") == ["25,465,587,110,143,993,995"]
    lines = result.stderr.splitlines()
    assert lines[0].startswith("advisor: nmap command for profile mail: nmap -Pn -sV --script ")
    assert (
        run(
            "scan",
            "127.0.0.1",
            "--profile",
            "mail",
            "-o",
            str(report),
            "--fail-on",
            "high",
            env=env,
        ).exit_code
        == 0
    )


def test_commands_have_help_with_exit_codes() -> None:
    for command in ("rescan", "scan"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Exit codes" in result.stdout and "docs/rescan.md" in result.stdout
