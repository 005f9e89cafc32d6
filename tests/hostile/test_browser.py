"""Open the HTML report of a hostile scan in real headless Chromium: no injected script runs.

Every payload in tests/data/hostile/hostile-js.xml, if it ever ran, would set
``data-pwned`` on the document element. A control page that embeds the same payload raw
proves the detection works in this browser.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from tests.conftest import DATA

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAYLOAD = "document.documentElement.setAttribute('data-pwned','1')"


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM after load, as Chromium sees it (scripts, if allowed, have run)."""
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=2000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture()
def chromium() -> str:
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run installs it)")
    return CHROMIUM


def test_detection_works_on_a_vulnerable_control_page(chromium: str, tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><body><script>{PAYLOAD}</script></body></html>")
    assert 'data-pwned="1"' in dump_dom(control, tmp_path / "profile")


def test_hostile_report_runs_no_script(chromium: str, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    result = CliRunner().invoke(
        main, ["explain", str(DATA / "hostile" / "hostile-js.xml"), "-f", "html", "-o", str(report)]
    )
    assert result.exit_code in (0, 1), result.stderr
    dom = dump_dom(report, tmp_path / "profile")
    assert "<details" in dom  # the page rendered
    assert "data-pwned" not in dom.split("<body", 1)[0] + dom.split(">", 1)[0]
    assert 'data-pwned="1"' not in dom
    # The payload text is visible as text, escaped, not as markup.
    assert "&lt;script&gt;document.documentElement.setAttribute" in dom
