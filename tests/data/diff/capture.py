"""Capture the "after" scan of the motivating case: the recommended ADV-1001 fix applied.

    PYTHONPATH=. python tests/data/diff/capture.py     (from the repository root, as root)

Starts the lab Postfix exactly as samples/motivating-case was made (tests/lab/capture.py,
``capture_motivating_case``: Ubuntu-like master.cf, 2048-bit DH file), applies the first fix of
knowledge/entries/ADV-1001.toml, ``smtpd_tls_exclude_ciphers=aNULL`` as a master.cf ``-o``
override on the 465 and 587 services only (``postconf -P``), restarts, and runs the same nmap
command on 127.0.0.1. The capture's stand-in ports are rewritten to 25/465/587 with the
motivating case's own ``rewrite_ports.py`` (port numbers in port positions, nothing else), so
``samples/motivating-case/scan.xml`` and ``after-submission-fix.xml`` are a before/after pair.
``postconf-M.txt`` is ``postconf -M`` of the fixed server (its ``127.0.0.1:PORT`` service
fields rewritten the same way), evidence for ``--postconf-master``.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from tests.lab.capture import MOTIVATING_PORTS, pick_ports
from tests.lab.common import dh_fixture, make_lab_dir
from tests.lab.nmap import run_nmap
from tests.lab.servers import PostfixServer, copy_fixture
from tests.lab.tls import make_self_signed_cert

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def _rewrite() -> Callable[[str, Mapping[int, int]], str]:
    path = REPO / "samples" / "motivating-case" / "rewrite_ports.py"
    spec = importlib.util.spec_from_file_location("rewrite_ports", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rewrite: Callable[[str, Mapping[int, int]], str] = module.rewrite
    return rewrite


def main() -> int:
    rewrite = _rewrite()
    lab = make_lab_dir("advisor-diff-capture-")
    try:
        cert = make_self_signed_cert(lab / "cert")
        pf = PostfixServer(lab / "postfix", cert, ports=pick_ports(MOTIVATING_PORTS))
        dh = copy_fixture(dh_fixture("dh2048"), pf.config_dir)
        pf.set_main({"smtpd_tls_dh1024_param_file": str(dh)})
        for port in (465, 587):
            pf.set_master(port, {"smtpd_tls_exclude_ciphers": "aNULL"})
        mapping = {pf.port(p): p for p in (25, 465, 587)}
        with pf:
            raw = lab / "after-submission-fix.xml"
            run_nmap(
                [pf.port(p) for p in (25, 465, 587)],
                "ssl-dh-params",
                raw,
                version_detection=True,
                no_dns=True,
                cwd=lab,
            )
            texts = {
                "after-submission-fix.xml": raw.read_text(encoding="utf-8"),
                "postconf-M.txt": pf.postconf("-M"),
            }
        for name, text in texts.items():
            (HERE / name).write_text(rewrite(text, mapping), encoding="utf-8")
        print("actual ports:", mapping)
    finally:
        shutil.rmtree(lab, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
