"""Collect evidence from files, an evidence folder, or (``--local``) read-only commands.

``--local`` runs only these commands, never anything that changes the system, and reports
which ones ran and what they could not show (``ss`` names no processes without root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, cast

from advisor.evidence.attach import EVIDENCE_FILES, EvidenceSet, HostEvidence
from advisor.scan import open_scan

#: The read-only commands ``--local`` may run, by evidence kind.
LOCAL_COMMANDS: dict[str, list[str]] = {
    "listeners": ["ss", "-lnpt"],
    "postconf": ["postconf", "-n"],
    "master": ["postconf", "-M"],
    "mail_version": ["postconf", "mail_version"],
    "doveconf": ["doveconf", "-n"],
}


class EvidenceError(ValueError):
    """Evidence that cannot be used as given; the message says what to do."""


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def scan_hosts(stream: BinaryIO) -> tuple[BinaryIO, list[str]]:
    """The addresses of the hosts in a scan, and a stream to read the scan again from."""
    if not stream.seekable():
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - returned to the caller, closed with it
        shutil.copyfileobj(stream, spool)
        stream = cast(BinaryIO, spool)
    stream.seek(0)
    addresses = [h.address for h in open_scan(stream)]
    stream.seek(0)
    return stream, addresses


def run_local() -> tuple[HostEvidence, frozenset[str]]:
    """Run the read-only commands available here; return their evidence and our addresses."""
    texts: dict[str, str] = {}
    sources: list[str] = []
    for kind, cmd in LOCAL_COMMANDS.items():
        if shutil.which(cmd[0]) is None:
            sources.append(f"`{' '.join(cmd)}`: not installed here, skipped")
            continue
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            sources.append(f"`{' '.join(cmd)}`: could not run ({exc})")
            continue
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["no output"])[0][:200]
            sources.append(f"`{' '.join(cmd)}`: exit {done.returncode} ({first})")
            continue
        texts[kind] = done.stdout
        sources.append(f"ran `{' '.join(cmd)}`")
    if "listeners" in texts and os.geteuid() != 0:
        sources.append(
            "`ss -lnpt` ran without root: it cannot name the processes of other users' sockets; "
            "run advisor with sudo for the full picture"
        )
    ev = HostEvidence.from_texts("this machine (--local)", **texts)
    ev.sources.extend(sources)
    return ev, _local_addresses()


def _local_addresses() -> frozenset[str]:
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(info[4][0]))
    except OSError:
        pass
    return frozenset(found)


def from_dir(folder: Path) -> dict[str, HostEvidence]:
    """``DIR/HOST/ss.txt`` ... or ``DIR/HOST.ss.txt`` ...: evidence per host."""
    hosts: dict[str, HostEvidence] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        ev = HostEvidence.from_folder(sub.name, sub)
        if not ev.empty:
            hosts[sub.name] = ev
    names = {n for names in EVIDENCE_FILES.values() for n in names}
    prefixes = set()
    for path in folder.iterdir():
        if path.is_file():
            for name in names:
                if path.name.endswith("." + name):
                    prefixes.add(path.name[: -len(name) - 1])
    for prefix in sorted(prefixes):
        ev = HostEvidence.from_folder(prefix, folder, prefix + ".")
        if not ev.empty and prefix not in hosts:
            hosts[prefix] = ev
    if not hosts:
        raise EvidenceError(
            f"--evidence-dir {folder}: no evidence found (expected HOST/ss.txt, HOST/postconf.txt"
            " ... or HOST.ss.txt ...)"
        )
    return hosts


def build_evidence(
    stream: BinaryIO,
    files: Mapping[str, Path | None],
    host: str | None,
    folder: Path | None,
    local: bool,
) -> tuple[BinaryIO, EvidenceSet]:
    """The evidence set for a run, and the scan stream to read (possibly re-opened)."""
    evidence = EvidenceSet()
    given = {k: v for k, v in files.items() if v is not None}
    if given:
        texts = {kind: _read(path) for kind, path in given.items()}
        ev = HostEvidence.from_texts(host or "the scanned host", **texts)
        ev.sources.extend(f"read {path} ({kind})" for kind, path in given.items())
        if host is not None:
            evidence.hosts[host] = ev
        else:
            stream, addresses = scan_hosts(stream)
            distinct = sorted(set(addresses))
            if len(distinct) > 1:
                raise EvidenceError(
                    f"the scan has {len(distinct)} hosts: say which one the evidence files come "
                    "from with --host ADDRESS, or use --evidence-dir"
                )
            evidence.unbound = ev
            evidence.bind_unbound = True
    if folder is not None:
        evidence.hosts.update(from_dir(folder))
    if local:
        evidence.local, evidence.local_addresses = run_local()
    return stream, evidence
