"""The vulners backport note names the package nmap identified and a CVE of its own rows.

Real vulners output: Memcached 1.4.25 (python-libnmap's dionaea scan, nmap 7.91, structured
tables), Apache httpd 2.4.7 (text rows of nmap 7.70's vulners copy), and Exim in the shapes of
bench/generate.py. Package names come from
advisor/data/packages.toml; a product it does not list gets ``PACKAGE`` and the note's way
to find the package of the listening program.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from advisor.advise.packages import Package, package_for
from advisor.api import Options, explain
from advisor.kb import KnowledgeBase
from advisor.render import Format, render
from tests.conftest import CORPUS

DIONAEA = CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml"
OLD_TEXT = CORPUS / "va__nmap_vulners_old-freeform_7.70.xml"


def _backport_notes(path: object, kb: KnowledgeBase) -> dict[str, tuple[str, list[str]]]:
    """vulners CPE -> (the backport note, the verify commands), from the JSON report."""
    with open(path, "rb") as fh:  # type: ignore[call-overload]
        report = explain(fh, kb, Options(), "scan.xml")
    buf = io.StringIO()
    render(Format.JSON, report, buf, kb)
    doc = json.loads(buf.getvalue())
    out: dict[str, tuple[str, list[str]]] = {}
    for finding in doc["findings"]:
        if finding["kb_id"] != "ADV-6000":
            continue
        advice = doc["advice"][finding["advice"]]
        note = next(
            (n for n in (advice["false_positive_md"] or "").split("\n\n**") if "Backported" in n),
            "",
        )
        out[finding["title"]] = (note, [v["command"] for v in finding["verify"]])
    return out


def test_memcached_note_names_memcached_and_its_own_cve(kb: KnowledgeBase) -> None:
    notes = _backport_notes(DIONAEA, kb)
    note, verify = notes["cpe:/a:memcached:memcached:1.4.25"]
    assert "(`Memcached 1.4.25`)" in note
    assert "`dpkg -l memcached` (Debian/Ubuntu), `rpm -q memcached` (RHEL)" in note
    # the finding's highest-scored CVE (7.5: CVE-2016-8704 and -8705, ids in order)
    assert "`apt changelog memcached | grep CVE-2016-8704`" in note
    assert "openssh" not in note.split("ssh-audit")[0].lower()
    assert "CVE-2018-15919" not in note
    assert "dpkg -l memcached   # or: rpm -q memcached" in verify


def test_exim_from_the_benchmark_shapes(
    generated_scan: bytes, kb: KnowledgeBase, tmp_path: Path
) -> None:
    """bench/generate.py writes vulners tables for Exim as nmap 7.9x does."""
    path = tmp_path / "scan.xml"
    path.write_bytes(generated_scan)
    notes = _backport_notes(path, kb)
    exim = {cpe: n for cpe, (n, _) in notes.items() if ":exim:" in cpe}
    assert exim
    for note in exim.values():
        assert "`dpkg -l exim4-daemon-light`" in note and "`rpm -q exim`" in note
        cves = re.findall(r"grep (CVE-\d{4}-\d+)", note)
        assert cves and len(set(cves)) == 1


def test_unknown_product_says_package_and_how_to_find_it(kb: KnowledgeBase, tmp_path: Path) -> None:
    """The dionaea memcached result with its product renamed to one the table does not
    know (the rows, CVEs and layout are the real capture's)."""
    data = DIONAEA.read_bytes().replace(b"memcached:memcached", b"example:cachesrv")
    data = data.replace(b'product="Memcached"', b'product="Example cache"')
    path = tmp_path / "scan.xml"
    path.write_bytes(data)
    note, verify = _backport_notes(path, kb)["cpe:/a:example:cachesrv:1.4.25"]
    assert "`dpkg -l PACKAGE`" in note and "`rpm -q PACKAGE`" in note
    assert 'dpkg -S "$(readlink -f /proc/PID/exe)"' in note
    assert "(`Example cache 1.4.25`)" in note and "grep CVE-2016-8704`" in note
    assert "dpkg -l PACKAGE   # or: rpm -q PACKAGE" in verify


def test_text_rows_of_old_nmap_name_apache(kb: KnowledgeBase) -> None:
    notes = _backport_notes(OLD_TEXT, kb)
    note, _ = notes["cpe:/a:apache:http_server:2.4.7"]
    assert "`dpkg -l apache2`" in note and "`rpm -q httpd`" in note
    assert "grep CVE-2017-7679`" in note  # its 7.5 row, the highest


def test_markdown_report_shows_the_filled_note(kb: KnowledgeBase) -> None:
    with DIONAEA.open("rb") as fh:
        report = explain(fh, kb, Options(), "scan.xml")
    buf = io.StringIO()
    render(Format.MARKDOWN, report, buf, kb)
    text = buf.getvalue()
    assert "`dpkg -l memcached`" in text
    assert not re.search(r"\{(deb_package|rpm_package|product|cve)\}", text)


@pytest.mark.parametrize(
    ("cpes", "product", "expected"),
    [
        (("cpe:/a:openbsd:openssh:7.4",), None, Package("openssh-server", "openssh-server")),
        (("cpe:/a:igor_sysoev:nginx",), None, Package("nginx", "nginx")),
        ((), "Apache httpd", Package("apache2", "httpd")),
        ((), "Dovecot imapd", Package("dovecot-core", "dovecot")),
        (("cpe:/a:postgresql:postgresql",), None, Package("postgresql", "postgresql-server")),
        (("cpe:/a:protocol_labs:go-ipfs",), "go-ipfs", None),
    ],
)
def test_table_lookup(cpes: tuple[str, ...], product: str | None, expected: Package) -> None:
    assert package_for(cpes, product) == expected
