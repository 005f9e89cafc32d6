"""bench/generate.py's --diversity knob: 0 is the repetitive estate byte for byte, 1 varies
what real estates vary (cipher lists, DH groups, certificates, releases)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

GENERATOR = Path(__file__).resolve().parent.parent / "bench" / "generate.py"


def _generate(tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / ("scan" + "-".join(args) + ".xml")
    subprocess.run(
        [sys.executable, str(GENERATOR), "--hosts", "400", "--seed", "5", *args, "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def _distinct(data: bytes) -> dict[str, tuple[int, int]]:
    """Script id -> (results, distinct results), run-numbered NMAP-n keys left out."""
    seen: dict[str, set[bytes]] = {}
    count: dict[str, int] = {}
    root = etree.fromstring(data)
    for el in root.iter("script"):
        sid = el.get("id")
        text = re.sub(rb'key="NMAP-\d+"', b"", etree.tostring(el))
        seen.setdefault(sid, set()).add(text)
        count[sid] = count.get(sid, 0) + 1
    return {sid: (count[sid], len(v)) for sid, v in seen.items()}


def test_diversity_zero_is_the_repetitive_file(tmp_path: Path) -> None:
    assert _generate(tmp_path, "--diversity", "0") == _generate(tmp_path)


def test_diversity_varies_results_but_not_the_estate(tmp_path: Path) -> None:
    plain = _generate(tmp_path)
    diverse = _generate(tmp_path, "--diversity", "1")
    assert diverse == _generate(tmp_path, "--diversity", "1")  # seeded
    rep, div = _distinct(plain), _distinct(diverse)
    assert rep["ssl-enum-ciphers"][1] <= 7
    assert div["ssl-enum-ciphers"][1] > 5 * rep["ssl-enum-ciphers"][1]
    assert div["ssl-dh-params"][1] > 5 * rep["ssl-dh-params"][1]
    assert div["vulners"][1] > rep["vulners"][1]
    assert "ssl-cert" not in rep
    assert div["ssl-cert"][0] == div["ssl-cert"][1] > 50  # every certificate differs
    # the same hosts, ports and products: only the results vary
    hosts = etree.fromstring(plain).findall("host")
    dhosts = etree.fromstring(diverse).findall("host")
    assert [h.find("address").get("addr") for h in hosts] == [
        h.find("address").get("addr") for h in dhosts
    ]
    assert [len(h.findall("ports/port/state[@state='open']")) for h in hosts] == [
        len(h.findall("ports/port/state[@state='open']")) for h in dhosts
    ]
