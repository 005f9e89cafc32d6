"""Breadth: every script of nmap's vuln category has a knowledge entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor.kb import KnowledgeBase
from tests.conftest import DATA

SCRIPT_DB = Path("/usr/share/nmap/scripts/script.db")


def vuln_scripts_793() -> list[str]:
    lines = (DATA / "nmap-vuln-category-7.93.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def covered(kb: KnowledgeBase) -> set[str]:
    return {script for entry in kb for script in entry.match.scripts}


def test_every_vuln_category_script_has_an_entry(kb: KnowledgeBase) -> None:
    scripts = vuln_scripts_793()
    assert len(scripts) == 105
    assert sorted(set(scripts) - covered(kb)) == []


def test_installed_nmap_vuln_scripts_have_entries(kb: KnowledgeBase) -> None:
    if not SCRIPT_DB.exists():
        pytest.skip("nmap not installed here (.ci/run installs it)")
    text = SCRIPT_DB.read_text()
    installed = re.findall(r'filename = "([^"]+)\.nse", categories = \{[^}]*"vuln"', text)
    assert installed
    assert sorted(set(installed) - covered(kb)) == []


def test_tls_and_mail_checks_named_in_the_issue(kb: KnowledgeBase) -> None:
    needed = {
        "ssl-enum-ciphers",
        "vulners",
        "ssl-cert",
        "smtp-vuln-cve2010-4344",
        "smtp-vuln-cve2011-1720",
        "smtp-vuln-cve2011-1764",
        "smtp-open-relay",
    }
    assert needed <= covered(kb)
    cert = {p for e in kb for p in e.match.cert}
    assert {"expired", "self-signed", "weak-key", "weak-signature"} <= cert
    protocols = {p for e in kb for p in e.match.protocols}
    assert {"SSLv3", "TLSv1.0", "TLSv1.1"} <= protocols
