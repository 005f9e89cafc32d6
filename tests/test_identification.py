"""Advice that follows nmap's identification: appliances, honeypots, and -sV products.

Real nmap output only:

- ``libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml`` and
  ``libnmap__full_sudo6_multi-host_ssl-scripts_6.40.xml`` (vendored corpus, python-libnmap's
  test files): a Sagem router (``Sagem router telnetd``, ``devicetype="router"`` on 23 and 992;
  in the 6.40 file also OS detection ``WAP``) that speaks SSL 2.0 on 443, 992 and 8443;
- ``libnmap__dionaea_prescript-hostscript-many-scripts.xml``: nmap 7.91 against a Dionaea
  honeypot (hostname ``dionaea``, certificate issuer ``Nepenthes Development Team``) that
  answers the DoublePulsar and MS17-010 checks like an infected Windows XP;
- ``tests/kb_samples``: the real Hack The Box "Blue" Windows 7 scan, the ADV-4001 sample cut
  from the Dionaea scan (hostname only), and an nginx 1.22.1 lab capture.

Two tests move a real script result onto another real host, at text level inside the test (every
byte of both is nmap's): the Dionaea ``smb-double-pulsar-backdoor`` result onto the Windows 7
host (no honeypot indicator), and the Sagem ``sslv2`` result onto the nginx port. No sample of a
real infected Windows or of an SSLv2-speaking nginx exists to use instead.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from advisor.advise.advice import ranked_fixes
from advisor.advise.context import SOFTWARE_NAMES, identify
from advisor.advise.identification import (
    DATA_FILE,
    host_profile,
    service_appliance,
    service_honeypot,
    vocabulary,
)
from advisor.api import Options, explain
from advisor.cli import main
from advisor.kb import KnowledgeBase
from advisor.kb.schema import EntryError, parse_entry
from advisor.model import Service
from advisor.scan import open_scan
from tests.conftest import CORPUS, ROOT, resolve

SAGEM_6X = CORPUS / "libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml"
SAGEM_640 = CORPUS / "libnmap__full_sudo6_multi-host_ssl-scripts_6.40.xml"
DIONAEA = CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml"
SCANME = CORPUS / "va__nmap_vulners_old-freeform_7.70.xml"
SAMPLES = ROOT / "tests" / "kb_samples"
BLUE = SAMPLES / "ADV-4000" / "negative-smb-hostscripts-no-vuln-check_7.80.xml"
DIONAEA_CUT = SAMPLES / "ADV-4001" / "positive-dionaea-doublepulsar_7.91.xml"
NGINX = SAMPLES / "ADV-1002" / "positive-nginx-dh1024.xml"

ROUTER = "192.168.1.1"
FIRMWARE = "Appliance / printer / BMC: firmware update or disable the TLS service"
OPENSSL = "Upgrade OpenSSL (and restart the services) or the device firmware"
APACHE = "Apache: SSLProtocol without SSLv2"
POSTFIX = "Postfix: exclude SSLv2 and SSLv3 explicitly"
NEPENTHES = "Nepenthes Development Team"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def section(markdown: str, entry_id: str) -> str:
    """One entry's section of the Markdown report."""
    m = re.search(rf"^## \d+\. .*\({entry_id}\)$", markdown, re.M)
    assert m, f"no section for {entry_id}"
    end = markdown.find("\n## ", m.end())
    return markdown[m.start() : end if end != -1 else len(markdown)]


def endpoint(part: str, where: str) -> str:
    """The ``### On:`` block of ``part`` that lists ``where`` (in any language)."""
    m = re.search(rf"^### .*`{re.escape(where)}`.*$", part, re.M)
    assert m, f"no block for {where}"
    end = part.find("\n### ", m.end())
    return part[m.start() : end if end != -1 else len(part)]


def fixes(block: str) -> list[str]:
    """The titles of a block's ``#### How to fix`` list, in order."""
    start = block.index("#### How to fix")
    stop = block.find("\n#### ", start + 1)
    return re.findall(r"^\d+\. \*\*(.+?)\*\*", block[start : stop if stop != -1 else None], re.M)


def fix_item(block: str, title: str) -> str:
    """The whole item (title, "For:" line, notes) of the fix ``title``."""
    start = block.index(f"**{title}**")
    m = re.search(r"^\d+\. \*\*|^#### ", block[start + 1 :], re.M)
    return block[start : start + 1 + m.start() if m else len(block)]


def report(path: Path, *extra: str) -> str:
    result = run("explain", str(path), *extra)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def json_findings(path: Path) -> list[dict[str, Any]]:
    result = run("explain", str(path), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    found: list[dict[str, Any]] = resolve(json.loads(result.stdout))["findings"]
    return found


def spliced(into: Path, script_source: Path, script_id: str, before: str, tmp: Path) -> Path:
    """``into`` with the ``<script id=script_id>`` element of ``script_source`` inserted
    before the first ``before`` (both files unchanged otherwise)."""
    source = script_source.read_text(encoding="utf-8")
    start = source.index(f'<script id="{script_id}"')
    element = source[start : source.index("</script>", start) + len("</script>")]
    text = into.read_text(encoding="utf-8")
    assert before in text
    out = tmp / f"{into.stem}+{script_id}.xml"
    out.write_text(text.replace(before, element + before, 1), encoding="utf-8")
    return out


# -- appliances ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SAGEM_6X, SAGEM_640], ids=["6.x", "6.40"])
def test_sslv2_on_the_sagem_router_puts_the_firmware_fix_first(path: Path) -> None:
    part = section(report(path), "ADV-1034")
    for port in (443, 992, 8443):
        block = endpoint(part, f"{ROUTER}:{port}/tcp")
        titles = fixes(block)
        assert titles[0] == FIRMWARE, (port, titles)
        assert titles[0] not in (POSTFIX, APACHE)
        assert "an appliance, whose TLS and server software come with its firmware" in block
    # 992: -sV says "Sagem router telnetd" (devicetype router): Postfix and Apache are ruled out
    telnetd = endpoint(part, f"{ROUTER}:992/tcp")
    assert fixes(telnetd) == [FIRMWARE, OPENSSL]
    assert "device type `router` for this service" in telnetd


@pytest.mark.parametrize("path", [SAGEM_6X, SAGEM_640], ids=["6.x", "6.40"])
def test_unknown_443_on_an_appliance_offers_the_appliance_fix_not_only_apaches(
    path: Path,
) -> None:
    """443 has no -sV product: Apache is only the port's usual server, so its fix comes
    after the firmware and OpenSSL fixes, with a remark saying why it may not apply."""
    block = endpoint(section(report(path), "ADV-1034"), f"{ROUTER}:443/tcp")
    titles = fixes(block)
    assert titles == [FIRMWARE, OPENSSL, APACHE]
    apache = fix_item(block, APACHE)
    assert "only if it is what answers here: nothing identified the software on this port" in (
        apache
    )
    device = "`router`" if path == SAGEM_6X else "`WAP`"
    assert f"nmap says the device is a {device}" in apache
    if path == SAGEM_640:  # OS detection classified the host
        assert "best OS match `Linux 2.6.13 (embedded)`, device type `WAP`" in block
    else:  # no OS detection: the telnetd on 23 speaks for the host
        assert "device type `router` for `Sagem router telnetd` on `23/tcp`" in block


def test_sagem_json_fixes_and_evidence() -> None:
    records = [
        f for f in json_findings(SAGEM_6X) if f["kb_id"] == "ADV-1034" and f["host"] == ROUTER
    ]
    assert sorted(f["port"] for f in records) == [443, 992, 8443]
    for f in records:
        softwares = [x["software"] for x in f["fixes"]]
        assert softwares[0] == "vendor", (f["port"], softwares)
        evidence = " ".join(e["text"] for e in f["software"]["evidence"])
        assert "an appliance" in evidence
        if f["port"] == 992:
            assert softwares == ["vendor", "openssl"]
        else:
            assert softwares == ["vendor", "openssl", "apache"]
            assert "only if it is what answers here" in f["fixes"][2]["applies"]


def test_appliance_text_in_japanese() -> None:
    part = section(report(SAGEM_6X, "--lang", "ja"), "ADV-1034")
    block = endpoint(part, f"{ROUTER}:443/tcp")
    assert "アプライアンス機器です" in block
    assert "このポートで実際に応答しているのがこのソフトウェアの場合のみ" in block
    assert "[英語]" not in "\n".join(
        line for line in block.splitlines() if "アプライアンス" in line or "応答している" in line
    )


def test_a_filter_page_on_one_port_does_not_make_scanme_an_appliance() -> None:
    """scanme.nmap.org (OpenSSH, Apache) with a "Fortinet FortiGuard block page" on 8008,
    typed security-misc by -sV: that port is a device's, the host is not."""
    (host,) = [h for h in open_scan(SCANME.open("rb")) if h.ports]
    assert host_profile(host) is None
    services = {p.portid: p.service for p in host.ports if p.service is not None}
    blocked = service_appliance(services[8008])
    assert blocked is not None and blocked.name == "security-misc"
    assert service_appliance(services[22]) is None  # OpenSSH


def test_nginx_port_does_not_get_apaches_fix(tmp_path: Path) -> None:
    """nmap -sV identified nginx 1.22.1: the SSLv2 entry's Apache and Postfix fixes are
    ruled out and not shown (the entry has no nginx fix; OpenSSL's applies to nginx)."""
    scan = spliced(NGINX, SAGEM_6X, "sslv2", "</port>", tmp_path)
    block = endpoint(section(report(scan), "ADV-1034"), "127.0.0.1:12443/tcp")
    assert fixes(block) == [OPENSSL]
    assert "nmap -sV identified `nginx 1.22.1`" in block
    (record,) = [f for f in json_findings(scan) if f["kb_id"] == "ADV-1034"]
    assert [x["software"] for x in record["fixes"]] == ["openssl"]
    assert record["software"]["name"] == "nginx"


def test_the_application_behind_an_identified_server_keeps_its_fix() -> None:
    """The PHPSESSID cookie behind nmap-identified nginx (a real lab capture): identifying the
    server rules out Apache's fix, not PHP's, which the proof suite showed is the one that
    covers ``fastcgi_pass`` (nginx's proxy_cookie_flags only covers proxied responses)."""
    sample = ROOT / "tests" / "kb_samples" / "ADV-3005" / "positive-nginx-phpsessid.xml"
    block = section(report(sample), "ADV-3005")
    titles = fixes(block)
    assert titles[:2] == [
        "Add HttpOnly to cookies from a proxied application (proxy_cookie_flags)",
        "Make PHP's session cookie HttpOnly",
    ], titles
    assert "Append HttpOnly to session cookies (mod_headers)" not in titles


def test_ruled_out_fixes_are_kept_with_a_remark_when_nothing_else_applies(
    kb: KnowledgeBase,
) -> None:
    """ADV-3024 has only PHP and Apache fixes: on the nginx port PHP's stays (PHP runs behind
    nginx), Apache's is shown last with the remark naming what nmap found."""
    (host,) = list(open_scan(NGINX.open("rb")))
    port = host.ports[0]
    identity = identify(port.portid, port.service)
    entry = kb.get("ADV-3024")
    assert entry is not None
    ranked = ranked_fixes(entry.fixes, identity)
    assert [f.software for f, _ in ranked] == ["php", "apache"]
    (_, remark), (_, apache_remark) = ranked
    assert remark == ()
    assert apache_remark[0][0] == "applies_if_here_seen"


# -- honeypots -----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry_id", ["ADV-4001", "ADV-4000"])
def test_dionaea_doublepulsar_and_ms17_010_are_likely_false_positives(entry_id: str) -> None:
    markdown = report(DIONAEA)
    part = section(markdown, entry_id)
    assert "**Severity: low** — Lowered from critical: this host looks like a honeypot" in part
    note = part[part.index("#### Is it a false positive?") :]
    assert "**Likely a false positive on this host: it looks like a honeypot.**" in note
    assert f"was issued by `{NEPENTHES}`, the default of the Dionaea honeypot" in note
    assert "the hostname `dionaea` names the Dionaea honeypot" in note
    assert "advisor lowered the severity from **critical** to **low**" in note
    # the entry's own honeypot note now applies (it needs the indicator)
    expected = "A honeypot pretending to be infected" if entry_id == "ADV-4001" else "Honeypots"
    assert expected in note
    assert re.search(r"^\| \d+ \| low \| .*\| " + entry_id, markdown, re.M)


def test_dionaea_json_carries_the_host_specific_note() -> None:
    records = {
        f["kb_id"]: f for f in json_findings(DIONAEA) if f["kb_id"] in ("ADV-4000", "ADV-4001")
    }
    assert set(records) == {"ADV-4000", "ADV-4001"}
    for record in records.values():
        assert record["severity"] == "low"
        assert NEPENTHES in record["false_positive"]
        assert "Dionaea" in record["false_positive"]
        assert f"`{NEPENTHES}`" in record["false_positive_md"]
        assert record["severity_reason"].startswith("Lowered from critical")


def test_dionaea_note_in_japanese() -> None:
    part = section(report(DIONAEA, "--lang", "ja"), "ADV-4001")
    assert "このホストでは誤検知の可能性が高いです: ハニーポットと思われます。" in part
    assert f"`{NEPENTHES}` で、これは Dionaea ハニーポットの既定値です" in part
    assert "重大度「重大」から引き下げました" in part


def test_doublepulsar_on_a_real_windows_keeps_the_incident_headline(tmp_path: Path) -> None:
    """The same nmap result on the Hack The Box Windows 7 host (no honeypot indicator):
    critical, the entry's headline, and no honeypot note of any kind."""
    scan = spliced(
        BLUE, DIONAEA, "smb-double-pulsar-backdoor", '<script id="smb-os-discovery"', tmp_path
    )
    markdown = report(scan)
    part = section(markdown, "ADV-4001")
    assert part.startswith(
        "## 1. [CRITICAL] DoublePulsar backdoor answering on SMB: the machine is already"
        " compromised (ADV-4001)"
    )
    assert "**Severity: critical**" in part
    assert "honeypot" not in part.split("### How nmap decided")[0].split("### On:")[1].lower()
    (record,) = [f for f in json_findings(scan) if f["kb_id"] == "ADV-4001"]
    assert record["severity"] == "critical"
    assert record["false_positive"] is None


def test_a_hostname_alone_only_adds_the_note() -> None:
    """The ADV-4001 sample cut from the Dionaea scan keeps the hostname but not the
    certificate: the note names the hostname and the severity stays critical."""
    part = section(report(DIONAEA_CUT), "ADV-4001")
    assert "**Severity: critical**" in part
    assert "**Possibly a honeypot.** What points to it: the hostname `dionaea`" in part
    assert "Only a name points that way, so the severity is unchanged" in part


def test_honeypot_profile_from_the_real_scan() -> None:
    (host,) = list(open_scan(DIONAEA.open("rb")))
    profile = host_profile(host)
    assert profile is not None and profile.appliance is None  # OS: general purpose Linux
    kinds = [(i.kind, i.name, i.value, i.default) for i in profile.honeypot]
    assert kinds == [
        ("cert-issuer", "Dionaea", NEPENTHES, True),
        ("hostname", "Dionaea", "dionaea", False),
    ]
    assert profile.strong_honeypot


# -- memo, data, schema --------------------------------------------------------------------------


def _many_routers(n: int) -> bytes:
    """The Sagem scan with its router host repeated ``n`` times under other addresses."""
    text = SAGEM_6X.read_text(encoding="utf-8")
    start = text.rindex("<host ", 0, text.index("Sagem router telnetd"))
    end = text.index("</host>", start) + len("</host>")
    host = text[start:end]
    assert f'addr="{ROUTER}"' in host
    copies = "\n".join(host.replace(f'addr="{ROUTER}"', f'addr="10.9.0.{i}"') for i in range(n))
    return (text[:start] + copies + text[end:]).encode()


def test_appliance_hosts_replay_their_advice() -> None:
    """Equal appliance hosts share one profile, so every repeat replays the first host's
    advice (the memo of advisor.findings.memo and the replay plans of advisor.api)."""
    data = _many_routers(30)
    first: list[object] = []
    repeats: list[object] = []
    options = Options(on_advice=first.append, on_repeat=lambda *a: repeats.append(a))
    got = explain(io.BytesIO(data), options=options)
    off = explain(io.BytesIO(data), options=Options(reuse=False))
    assert got.false_positive_count == off.false_positive_count
    assert [g.count for g in got.sorted_groups()] == [g.count for g in off.sorted_groups()]
    assert len(repeats) > 10 * len(first)


def test_data_file_is_sourced_and_consistent(kb: KnowledgeBase) -> None:
    with DATA_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    for pot in data["honeypot"]:
        assert pot["sources"] and all(s.startswith("https://") for s in pot["sources"])
    vocab = vocabulary()
    assert "general purpose" not in vocab.device_types
    tags = {f.software for e in kb for f in e.fixes}
    for server in vocab.servers:
        assert server in tags or server in SOFTWARE_NAMES, server
    assert vocab.libraries <= tags


def test_honeypot_condition_in_the_schema() -> None:
    path = ROOT / "knowledge" / "entries" / "ADV-4001.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entry = parse_entry(data, str(path))
    assert [fp.when.honeypot for fp in entry.false_positives] == [True]
    data["false_positives"][0]["when"] = {"honeypot": "yes"}
    with pytest.raises(EntryError, match=r"false_positives\[0\]\.when\.honeypot: must be true"):
        parse_entry(data, str(path))


NMAP_PROBES = Path("/usr/share/nmap/nmap-service-probes")
NMAP_OS_DB = Path("/usr/share/nmap/nmap-os-db")


@pytest.mark.skipif(not NMAP_PROBES.exists(), reason="nmap's data files are not installed")
def test_every_honeypot_product_nmap_knows_is_recognised() -> None:
    """Each -sV product that Debian's nmap-service-probes calls a honeypot makes the service
    a honeypot indicator, named when advisor knows the honeypot."""
    text = NMAP_PROBES.read_text(encoding="latin-1")
    products = set(re.findall(r"^(?:soft)?match \S+ .* p/([^/]*honeypot[^/]*)/", text, re.M | re.I))
    assert len(products) >= 10
    for product in products:
        found = service_honeypot(Service(name="x", product=product, method="probed"))
        assert found is not None, product
        if "dionaea" in product.lower():
            assert found.name == "Dionaea", product


@pytest.mark.skipif(
    not (NMAP_PROBES.exists() and NMAP_OS_DB.exists()), reason="nmap's data files are not installed"
)
def test_every_nmap_device_type_is_known() -> None:
    """The device types nmap uses (OS classes and -sV d/ fields) are all in the data file,
    and "general purpose" is the only one that is not an appliance."""
    probes = NMAP_PROBES.read_text(encoding="latin-1")
    used = set(re.findall(r" d/([^/]+)/", probes))
    for line in NMAP_OS_DB.read_text(encoding="latin-1").splitlines():
        if line.startswith("Class "):
            used.add(line.split("|")[3].strip())
    types = vocabulary().device_types
    assert {t.lower() for t in used} - types == {"general purpose"}
