"""nmap's engine error text maps to ADV-9000 whatever the script.

``ERROR: Script execution failed (use -d to debug)`` is written by nmap's script engine
(nse_main.lua) for any script that crashed with a Lua error, so it means the same thing for
``tls-ticketbleed`` (listed in ADV-9000) and ``mongodb-info`` (not listed). A script's own
``ERROR:`` message stays unmatched unless the entry lists the script.
"""

from __future__ import annotations

import io
import json

from advisor.api import Options, explain
from advisor.findings.model import ERROR_STATE, Finding, Kind, Location
from advisor.kb import KnowledgeBase, Verdict
from advisor.render import Format, render
from tests.conftest import CORPUS

DIONAEA = CORPUS / "libnmap__dionaea_prescript-hostscript-many-scripts.xml"
ENGINE = "ERROR: Script execution failed (use -d to debug)"


def _errors(kb: KnowledgeBase) -> dict[str, str | None]:
    with DIONAEA.open("rb") as fh:
        report = explain(fh, kb, Options(), "scan.xml")
    buf = io.StringIO()
    render(Format.JSON, report, buf, kb)
    findings = json.loads(buf.getvalue())["findings"]
    return {f["script"]: f["kb_id"] for f in findings if f["title"].startswith("ERROR:")}


def test_listed_and_unlisted_scripts_get_the_same_entry(kb: KnowledgeBase) -> None:
    entry = kb.get("ADV-9000")
    assert entry is not None and "tls-ticketbleed" in entry.match.scripts
    assert "mongodb-info" not in entry.match.scripts
    errors = _errors(kb)
    assert errors["tls-ticketbleed"] == errors["mongodb-info"] == "ADV-9000"
    # a script's own error message is not the engine's: smb-mbenum is not listed
    assert errors["smb-mbenum"] is None


def test_any_script_id_with_the_engine_text(kb: KnowledgeBase) -> None:
    where = Location("192.0.2.1", None, 443, "tcp")
    for script in ("mongodb-info", "ssh-hostkey", "made-up-script"):
        finding = Finding(where, script, Kind.ERROR, ENGINE, ERROR_STATE, output=ENGINE)
        got = kb.match(finding)
        assert got.verdict is Verdict.MATCHED and got.entry is not None
        assert got.entry.id == "ADV-9000"
    own = "ERROR: No login credentials."
    finding = Finding(where, "ms-sql-config", Kind.ERROR, own, ERROR_STATE, output=own)
    assert kb.match(finding).verdict is Verdict.UNKNOWN
