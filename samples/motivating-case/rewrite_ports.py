#!/usr/bin/env python3
"""Rewrite the captured lab port numbers to the real ones (25/465/587), nothing else.

Reads ports.json (captured port -> logical port) and writes, next to each raw-* file, a copy
without the ``raw-`` prefix. Only port numbers in port positions are changed: XML ``portid``,
``services`` and the ``-p`` list of the recorded command line; the PORT column of nmap's
normal output (re-padded so the columns stay aligned); ``127.0.0.1:PORT`` in ss output.
Run from this directory: ``python3 rewrite_ports.py``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = {
    "raw-scan.xml": "scan.xml",
    "raw-scan.nmap": "scan.nmap",
    "raw-vuln-465.xml": "vuln-465.xml",
    "raw-vuln-465.nmap": "vuln-465.nmap",
    "raw-ss-lnpt.txt": "ss-lnpt.txt",
}


def rewrite(text: str, mapping: dict[int, int]) -> str:
    def port(match: re.Match[str]) -> str:
        return str(mapping.get(int(match.group(0)), match.group(0)))

    def port_list(match: re.Match[str]) -> str:
        return match.group(1) + re.sub(r"\d+", port, match.group(2))

    def padded(match: re.Match[str]) -> str:
        old = match.group(2)
        new = str(mapping.get(int(old), old))
        return match.group(1) + new + match.group(3) + " " * (len(old) - len(new))

    text = re.sub(r'(?<=portid=")\d+(?=")', port, text)
    text = re.sub(r'(services=")([\d,-]+)', port_list, text)
    text = re.sub(r"(-p )([\d,]+)", port_list, text)
    text = re.sub(r"(?m)^()(\d+)(/tcp )", padded, text)
    text = re.sub(r"(127\.0\.0\.1:)(\d+)( )", padded, text)
    return text


def main() -> int:
    mapping = {int(k): v for k, v in json.loads((HERE / "ports.json").read_text()).items()}
    leftovers = 0
    for raw, demo in FILES.items():
        src = HERE / raw
        if not src.is_file():
            print(f"missing {raw}", file=sys.stderr)
            continue
        result = rewrite(src.read_text(), mapping)
        (HERE / demo).write_text(result)
        for captured in mapping:
            hits = len(re.findall(rf"(?<![\d.]){captured}(?!\d)", result))
            if hits:
                leftovers += hits
                print(f"{demo}: {hits} occurrence(s) of {captured} left", file=sys.stderr)
        print(f"{raw} -> {demo}")
    return 1 if leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
