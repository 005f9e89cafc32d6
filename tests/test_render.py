"""Renderers: golden files, and scan text that tries to escape its place."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from advisor.cli import main
from advisor.render import Format
from advisor.render.escape import code, fence, neutralise
from tests.conftest import DATA, ROOT

HOSTILE = DATA / "hostile" / "hostile-output.xml"
GOLDEN = ROOT / "tests" / "golden"
GOLDEN_INPUTS = {
    "motivating-case": ROOT / "samples" / "motivating-case" / "scan.xml",
    "hostile": HOSTILE,
}


def explain(path: Path, fmt: str, *extra: str) -> str:
    result = CliRunner().invoke(main, ["explain", str(path), "--format", fmt, *extra])
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def test_every_format_is_wired() -> None:
    for fmt in Format:
        assert explain(HOSTILE, fmt.value)


@pytest.mark.parametrize("name", sorted(GOLDEN_INPUTS))
@pytest.mark.parametrize("fmt,ext", [("markdown", "md"), ("html", "html"), ("json", "json")])
def test_golden(name: str, fmt: str, ext: str) -> None:
    """Regenerate with ADVISOR_REGEN_GOLDEN=1 after an intended change, and review the diff."""
    source = GOLDEN_INPUTS[name]
    if not source.exists():
        pytest.skip(f"{source} not present")
    got = explain(source, fmt).replace(str(ROOT) + "/", "")
    golden = GOLDEN / f"{name}.{ext}"
    if os.environ.get("ADVISOR_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"missing {golden}: run with ADVISOR_REGEN_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")


def test_markdown_injects_nothing() -> None:
    """Render our Markdown the way a forge would (raw HTML allowed, tables on) and look for
    anything the scanned host tried to inject."""
    md = explain(HOSTILE, "markdown")
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    doc = lxml.html.fromstring(f"<div>{html}</div>")
    assert doc.xpath("//script") == []
    assert doc.xpath("//img") == []
    assert doc.xpath("//b") == []  # <b>bold</b> from a vulns title stays text
    hrefs = [a.get("href") for a in doc.xpath("//a")]
    assert all(h.startswith("https://") and "evil" not in h for h in hrefs), hrefs
    assert "\x1b" not in md
    # The summary table keeps its five columns even though a title contains '|'.
    rows = doc.xpath("//table[1]//tr")
    assert rows and all(len(r.xpath("./th|./td")) == 5 for r in rows)


def test_html_injects_nothing() -> None:
    page = explain(HOSTILE, "html")
    doc = lxml.html.fromstring(page)
    assert doc.xpath("//script") == []
    assert doc.xpath("//img") == []
    assert not [a for a in doc.iter() if any(k.lower().startswith("on") for k in a.attrib)]
    csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert csp and "default-src 'none'" in csp[0] and "script-src" not in csp[0]
    hrefs = [a.get("href") for a in doc.xpath("//a")]
    assert all(h.startswith(("https://", "#")) and "evil" not in h for h in hrefs), hrefs
    assert "alert(&#34;pwn&#34;)" in page or "alert(&quot;pwn&quot;)" in page


def test_html_is_self_contained() -> None:
    page = explain(HOSTILE, "html")
    doc = lxml.html.fromstring(page)
    assert doc.xpath("//link") == [] and doc.xpath("//@src") == []
    assert re.search(r"<style>", page)


def test_json_keeps_text_verbatim() -> None:
    doc = json.loads(explain(HOSTILE, "json"))
    titles = {f["title"] for f in doc["findings"]}
    assert "Evil `title` <b>bold</b> [link](javascript:alert(1)) | pipe" in titles


def test_escape_helpers() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert fence("```\nx").startswith("````\n")
    assert neutralise("\x1b[31m\u202e") == "\\x1B[31m\\x202E"


def test_large_scan_html_stays_small(tmp_path: Path) -> None:
    """A 2,000-host scan: the page keeps a bounded DOM (endpoint lists are capped and
    collapsed; the JSON output has every finding)."""
    import subprocess
    import sys

    scan = tmp_path / "big.xml"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--hosts", "2000", "-o", str(scan)],
        check=True,
    )
    page = explain(scan, "html")
    doc = lxml.html.fromstring(page)
    elements = sum(1 for _ in doc.iter())
    assert elements < 15_000, elements
    closed = [d for d in doc.xpath("//details") if d.get("open") is None]
    assert closed, "large groups must start collapsed"
