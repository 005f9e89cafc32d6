"""Baseline readers the advisor is timed against, one per process.

Every extracting mode walks every host, port, service and script, builds libnmap-equivalent
dicts for the NSE tables (``scripts_results[i]['elements']``: unkeyed children under the key
``None``, repeated keys become lists) and prints the same summary line, so the modes can be
checked against each other::

    hosts=1000 up=893 ports=2453 scripts=5098 leaves=138054 output_bytes=...

Modes (``python bench/baselines.py MODE scan.xml``):

``lxml-extract``
    ``lxml.etree.iterparse(f, events=("end",), tag="host")``, extract, then
    ``elem.clear(keep_tail=True)`` and delete the preceding siblings. The reference loop for
    the "end to end <= 1.5x" target.
``lxml-noop``
    the same loop with the extraction removed (the streaming parser floor).
``lxml-every``
    ``lxml.etree.iterparse(f, events=("end",))`` over every element, each one cleared
    (``elem.clear(keep_tail=True)``): "the bare lxml iterparse loop (visit every element,
    clear it)" of issue 11's targets. The cleared elements stay in the tree, so its memory
    grows with the file; ``run.py`` times it at sizes up to 10k only.
``et-extract``
    ``xml.etree.ElementTree.iterparse`` with start/end events, extract on ``</host>``, then
    ``root.clear()``.
``libnmap-parse``
    ``NmapParser.parse_fromfile(f)`` only ("parse_fromfile alone").
``libnmap-walk``
    ``parse_fromfile`` then iterate ``report.hosts`` -> ``host.services`` ->
    ``service.scripts_results``.
``xsltproc``
    replaces this process with ``xsltproc /usr/share/nmap/nmap.xsl scan.xml`` writing to
    ``OUT`` (what users run for HTML today).
"""

from __future__ import annotations

import argparse
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

NMAP_XSL = "/usr/share/nmap/nmap.xsl"


def parse_table(table: Iterable[Any]) -> dict[str | None, Any]:
    """libnmap's ``__parse_script_table``: keyed dict, duplicates and ``None`` keys as lists."""
    tdict: dict[str | None, Any] = {}
    for telem in table:
        tkey = telem.get("key")
        if telem.tag == "elem":
            value: Any = telem.text
        elif telem.tag == "table":
            value = parse_table(telem)
        else:
            continue
        if tkey in tdict:
            if not isinstance(tdict[tkey], list):
                tdict[tkey] = [tdict[tkey]]
            tdict[tkey].append(value)
        else:
            tdict[tkey] = value
    return tdict


def parse_script(script: Any) -> dict[str, Any]:
    """libnmap's ``__parse_script``: attributes plus ``elements``."""
    out: dict[str, Any] = dict(script.attrib)
    elements: dict[str | None, Any] = {}
    for child in script:
        key = child.get("key")
        if child.tag == "elem":
            elements[key] = child.text
        elif child.tag == "table":
            tdict = parse_table(child)
            if key in elements:
                if not isinstance(elements[key], list):
                    elements[key] = [elements[key]]
                elements[key].append(tdict)
            else:
                elements[key] = tdict
    out["elements"] = elements
    return out


def count_leaves(value: Any) -> int:
    """Number of string leaves in a parsed elements structure."""
    if isinstance(value, dict):
        return sum(count_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_leaves(v) for v in value)
    return 1


class Summary:
    """Counts printed by every extracting mode."""

    def __init__(self) -> None:
        self.hosts = 0
        self.up = 0
        self.ports = 0
        self.scripts = 0
        self.leaves = 0
        self.output_bytes = 0

    def add_script(self, script: dict[str, Any]) -> None:
        self.scripts += 1
        self.leaves += count_leaves(script["elements"])
        self.output_bytes += len(script.get("output") or "")

    def line(self) -> str:
        return (
            f"hosts={self.hosts} up={self.up} ports={self.ports} scripts={self.scripts} "
            f"leaves={self.leaves} output_bytes={self.output_bytes}"
        )


def extract_host(host: Any, summary: Summary) -> dict[str, Any]:
    """Everything libnmap keeps for a host, as plain dicts (lxml or ElementTree element)."""
    summary.hosts += 1
    rec: dict[str, Any] = dict(host.attrib)
    ports: list[dict[str, Any]] = []
    for child in host:
        tag = child.tag
        if tag == "status":
            rec["status"] = dict(child.attrib)
            if child.get("state") == "up":
                summary.up += 1
        elif tag == "address":
            rec.setdefault("addresses", []).append(dict(child.attrib))
        elif tag == "hostnames":
            rec["hostnames"] = [dict(h.attrib) for h in child]
        elif tag == "ports":
            for port in child:
                if port.tag != "port":
                    continue
                prec: dict[str, Any] = dict(port.attrib)
                scripts: list[dict[str, Any]] = []
                for pchild in port:
                    ptag = pchild.tag
                    if ptag == "state":
                        prec["state"] = dict(pchild.attrib)
                    elif ptag == "service":
                        prec["service"] = dict(pchild.attrib)
                        prec["cpe"] = [c.text for c in pchild if c.tag == "cpe"]
                    elif ptag == "script":
                        script = parse_script(pchild)
                        summary.add_script(script)
                        scripts.append(script)
                prec["scripts_results"] = scripts
                ports.append(prec)
                summary.ports += 1
        elif tag == "hostscript":
            for script_el in child:
                summary.add_script(parse_script(script_el))
    rec["ports"] = ports
    return rec


def run_lxml(path: str, extract: bool) -> str:
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    summary = Summary()
    for _event, elem in etree.iterparse(path, events=("end",), tag="host"):
        if extract:
            extract_host(elem, summary)
        else:
            summary.hosts += 1
        elem.clear(keep_tail=True)
        while elem.getprevious() is not None:
            del elem.getparent()[0]
    return summary.line()


def run_lxml_every(path: str) -> str:
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    elements = 0
    for _event, elem in etree.iterparse(path, events=("end",)):
        elements += 1
        elem.clear(keep_tail=True)
    return f"elements={elements}"


def run_et(path: str) -> str:
    summary = Summary()
    root: Any = None
    for event, elem in ET.iterparse(path, events=("start", "end")):
        if root is None:
            root = elem
        if event == "end" and elem.tag == "host":
            extract_host(elem, summary)
            root.clear()
    return summary.line()


def run_libnmap(path: str, walk: bool) -> str:
    from libnmap.parser import NmapParser

    report = NmapParser.parse_fromfile(path)
    if not walk:
        return f"hosts={len(report.hosts)} up={report.hosts_up}"
    summary = Summary()
    for host in report.hosts:
        summary.hosts += 1
        if host.is_up():
            summary.up += 1
        for service in host.services:
            summary.ports += 1
            for script in service.scripts_results:
                summary.add_script(script)
        for script in host.scripts_results:
            summary.add_script(script)
    return summary.line()


def run_xsltproc(path: str, out: str) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.close(fd)
    os.execvp("xsltproc", ["xsltproc", NMAP_XSL, path])


MODES = (
    "lxml-extract",
    "lxml-noop",
    "lxml-every",
    "et-extract",
    "libnmap-parse",
    "libnmap-walk",
    "xsltproc",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run one baseline reader over an nmap XML file.")
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("scan")
    ap.add_argument("-o", "--output", default=os.devnull, help="xsltproc: HTML file to write")
    ns = ap.parse_args(argv)
    if ns.mode == "xsltproc":
        run_xsltproc(ns.scan, ns.output)
        return 1  # not reached
    if ns.mode in ("lxml-extract", "lxml-noop"):
        line = run_lxml(ns.scan, extract=ns.mode == "lxml-extract")
    elif ns.mode == "lxml-every":
        line = run_lxml_every(ns.scan)
    elif ns.mode == "et-extract":
        line = run_et(ns.scan)
    else:
        line = run_libnmap(ns.scan, walk=ns.mode == "libnmap-walk")
    print(line)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
