"""Explain a large scan file with several processes, each reading one stretch of its hosts.

Reading is the slow part of a big scan and every host is independent, so a file of more than
:data:`MIN_BYTES` is cut at ``<host>`` start tags into one part per CPU. Each part is read by
a forked worker running the ordinary pipeline over the file's own prologue, its hosts, and a
closing ``</nmaprun>``; the workers' reports are merged in document order
(:meth:`advisor.advise.report.Report.merge`). Pre-scan scripts are read by the first part
only; the last part holds the real end of the file (run statistics, post-scan scripts, or the
place where a cut-off scan stops, with its line number counted over the whole file).

Cutting is safe for the same reason runs of hosts can be parsed apart
(:mod:`advisor.scan.batches`): after a plain prologue, ``<`` only ever starts markup. Anything
that makes a part read differently from the whole file (a comment or CDATA section crossing
a cut, a host nested in another, a second ``</nmaprun>``) leaves some part other than the last
incomplete or ended early; then, and whenever a worker fails for any reason, the file is read
again by one process, so the result is always what a sequential read gives. Damage a part
read past (:attr:`ScanInfo.recovered <advisor.model.ScanInfo>`) is placed in the whole file
and reported once, as one process reports it.
"""

from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import os
import pickle
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any, cast

from advisor.advise.report import Report
from advisor.api import Options, explain, explain_part, forget_caches
from advisor.kb import KnowledgeBase
from advisor.model import Repair, describe_repairs
from advisor.render.json import FindingSpool
from advisor.scan.batches import HOST_START, safe_prologue
from advisor.scan.xml import find_before, line_and_column, place_stray

#: Files smaller than this are read by one process (starting workers costs more).
MIN_BYTES = 8 << 20
#: Bytes searched after a nominal cut point for the next ``<host`` start tag.
WINDOW = 8 << 20
_PROLOGUE_MAX = 4 << 20
_CLOSE = b"\n</nmaprun>\n"


def default_jobs() -> int:
    """Worker processes to use: the CPUs this process may run on, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


@dataclass(frozen=True)
class Plan:
    """Where to cut: the prologue (everything before the first host) and each part's range."""

    prologue: bytes
    parts: list[tuple[int, int]]


def plan(path: str, jobs: int) -> Plan | None:
    """Cut ``path`` into up to ``jobs`` parts, or None when it should be read in one go."""
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    try:
        size = os.stat(path).st_size
        if size < MIN_BYTES:
            return None
        with open(path, "rb") as fh:
            head = fh.read(_PROLOGUE_MAX)
            m = HOST_START.search(head)
            if m is None or not safe_prologue(head[: m.start()]):
                return None
            first = m.start()
            cuts = [first]
            for k in range(1, jobs):
                target = first + (size - first) * k // jobs
                if target <= cuts[-1]:
                    continue
                fh.seek(target)
                found = HOST_START.search(fh.read(WINDOW))
                if found is None:
                    continue
                cut = target + found.start()
                if cut > cuts[-1]:
                    cuts.append(cut)
    except (OSError, ValueError):
        return None
    if len(cuts) < 2:
        return None
    return Plan(head[:first], list(zip(cuts, [*cuts[1:], size], strict=True)))


class _PartRaw(io.RawIOBase):
    """A part as a stream: the prologue, the part's bytes of the file, then ``tail``."""

    def __init__(self, path: str, prologue: bytes, start: int, end: int, tail: bytes) -> None:
        self._pieces: list[bytes] = [prologue]
        self._fh = open(path, "rb")  # noqa: SIM115  # closed with the stream
        self._fh.seek(start)
        self._left = end - start
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        while self._pieces and not self._pieces[0]:
            self._pieces.pop(0)
        if self._pieces:
            piece = self._pieces[0]
            n = min(len(piece), len(view))
            view[:n] = piece[:n]
            self._pieces[0] = piece[n:]
            return n
        if self._left > 0:
            n = self._fh.readinto(view[: min(len(view), self._left)])
            if n:
                self._left -= n
                return n
            self._left = 0
        n = min(len(self._tail), len(view))
        view[:n] = self._tail[:n]
        self._tail = self._tail[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _count_lines(path: str, start: int, end: int) -> int:
    with open(path, "rb") as fh:
        fh.seek(start)
        lines = 0
        left = end - start
        while left > 0:
            chunk = fh.read(min(left, 1 << 22))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            left -= len(chunk)
    return lines


def _has_end_tag(path: str, start: int, end: int) -> bool:
    """Whether ``</nmaprun`` occurs in the range (read in chunks: mapping the file would
    count every page of it against this process's memory)."""
    needle = b"</nmaprun"
    with open(path, "rb") as fh:
        fh.seek(start)
        left = end - start
        carry = b""
        while left > 0:
            chunk = fh.read(min(left, 1 << 22))
            if not chunk:
                return False
            if needle in carry + chunk[: len(needle)] or needle in chunk:
                return True
            carry = chunk[-len(needle) :]
            left -= len(chunk)
    return False


def _worker(
    conn: Connection,
    index: int,
    count: int,
    path: str,
    cut: Plan,
    kb: KnowledgeBase,
    options: Options,
    source: str,
    progress: Any,
    spool: FindingSpool | None,
    result: str,
    writing: Any = None,
) -> None:
    """Read part ``index``; leave (report, findings written, advice) in the file ``result``
    and send "ok", or send why it failed. ``writing``: a lock the workers take in turn to
    write their reports (pickling one needs memory of its own)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    try:
        start, end = cut.parts[index]
        last = index == count - 1
        if not last and _has_end_tag(path, start, end):
            raise _Unsplittable("</nmaprun> inside a part")
        skip = len(cut.prologue)

        def report_progress(done: int) -> None:
            progress[index] = max(0, done - skip)

        opts = replace(
            options,
            progress=report_progress,
            on_advice=spool.add if spool is not None else None,
            on_repeat=spool.repeat if spool is not None else None,
        )
        stream = io.BufferedReader(
            _PartRaw(path, cut.prologue, start, end, b"" if last else _CLOSE), 1 << 20
        )

        def line_offset() -> int:  # the prologue's lines are in this part's stream too
            return _count_lines(path, skip, start)

        with stream:
            report = explain_part(
                stream,
                kb,
                opts,
                source,
                prescripts=index == 0,
                line_offset=line_offset,
                threaded=False,  # every CPU has a part: a parse thread would only compete
            )
        if not last and (not report.scan.complete or report.scan.problem):
            raise _Unsplittable(f"part {index} did not read as whole hosts")
        forget_caches(kb)  # their memory serves the pickling below
        gc.collect()
        written = 0
        advice: dict[str, str] = {}
        if spool is not None:
            spool.flush()
            written = spool.count
            advice = spool.writer.advice
        # Through a file, read by the parent once this process has exited and freed its
        # memory: the parent and the workers never all hold a part's report at once.
        turn = writing if writing is not None else contextlib.nullcontext()
        with turn, open(result, "wb") as fh:
            pickle.dump((report, written, advice), fh, protocol=pickle.HIGHEST_PROTOCOL)
        conn.send("ok")
    except BaseException as exc:  # any failure: the parent reads the file in one go
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


class _Unsplittable(Exception):
    pass


def explain_file(
    path: str,
    kb: KnowledgeBase,
    options: Options,
    source: str,
    jobs: int | None = None,
    spool: FindingSpool | None = None,
) -> Report:
    """:func:`advisor.api.explain` for a file, in parallel when it is large enough.

    ``spool``: where JSON findings go (``options.on_advice`` and ``on_repeat`` must then be
    ``spool.add`` and ``spool.repeat``)."""
    jobs = default_jobs() if jobs is None else jobs
    cut = None
    if options.evidence is None and options.on_host is None and not options.acceptances:
        cut = plan(path, jobs)
    if cut is not None:
        report = _parallel(path, cut, kb, options, source, spool)
        if report is not None:
            return report
    with open(path, "rb") as fh:
        return explain(fh, kb, options, source)


def _parallel(
    path: str,
    cut: Plan,
    kb: KnowledgeBase,
    options: Options,
    source: str,
    spool: FindingSpool | None,
) -> Report | None:
    ctx = multiprocessing.get_context("fork")
    count = len(cut.parts)
    progress = ctx.Array("q", count, lock=False)
    spools = [FindingSpool() if spool is not None else None for _ in range(count)]
    # Each worker leaves its report in a private file (mode 0600) made here, so that the
    # files go whatever happens (Ctrl-C included).
    files = []
    for _ in range(count):
        fd, name = tempfile.mkstemp(prefix="advisor-part-", suffix=".pickle")
        os.close(fd)
        files.append(name)
    adopted = False
    try:
        statuses = _run_workers(ctx, path, cut, kb, options, source, progress, spools, files)
        if any(status != "ok" for status in statuses):
            return None
        merged: Report | None = None
        repairs: dict[str, Repair] = {}
        part_warnings: set[str] = set()
        for index in range(count):
            with open(files[index], "rb") as fh:
                part, written, advice = pickle.load(fh)  # our own worker wrote it
            if part.scan.recovered:
                part_warnings.add(describe_repairs(part.scan.recovered))
                for repair in part.scan.recovered:
                    if repair.kind not in repairs:  # the first part to see a kind saw it first
                        repairs[repair.kind] = _in_file(repair, path, cut, index)
            if merged is None:
                merged = part
            else:
                merged.merge(part)
            if spool is not None:
                part_spool = spools[index]
                assert part_spool is not None
                spool.adopt(part_spool, written, advice)  # closed with ``spool`` from now on
        adopted = spool is not None
        if merged is not None and repairs:
            recovered = tuple(
                sorted(repairs.values(), key=lambda r: (r.line is None, r.line or 0, r.offset or 0))
            )
            merged.scan = replace(merged.scan, recovered=recovered)
            merged.warnings = [w for w in merged.warnings if w not in part_warnings]
            merged.warnings.append(describe_repairs(recovered))
        return merged
    finally:
        for name in files:
            with contextlib.suppress(OSError):
                os.unlink(name)
        if not adopted:
            for part_spool in spools:
                if part_spool is not None:
                    part_spool.close()


def _in_file(repair: Repair, path: str, cut: Plan, index: int) -> Repair:
    """A part's damage placed in the whole file by its byte offset (a part's stream is the
    file's prologue, then the part's bytes); stray text with an exact line already has the
    file's, and one known only by a bound is looked for again by its text."""
    if repair.offset is None:
        return repair
    offset = repair.offset
    if offset >= len(cut.prologue):
        offset = min(offset + cut.parts[index][0] - len(cut.prologue), cut.parts[-1][1])
    try:
        with open(path, "rb") as fh:
            if repair.kind != "stray-text":
                line, column = line_and_column(fh, offset)
                return replace(repair, line=line, column=column, offset=offset)
            found = find_before(fh, offset, repair.excerpt)
            fh.seek(0)
            where = line_and_column(fh, found if found is not None else offset)
    except OSError:
        return replace(repair, offset=offset)
    return place_stray(repair, found, where)


def _run_workers(
    ctx: Any,
    path: str,
    cut: Plan,
    kb: KnowledgeBase,
    options: Options,
    source: str,
    progress: Any,
    spools: list[FindingSpool | None],
    files: list[str],
) -> list[str]:
    """Run one worker per part; return each one's status ("ok" or why it failed)."""
    count = len(cut.parts)
    workers = []
    conns: list[Connection] = []
    # Parts of equal size finish together: one writes its report at a time, so that the
    # memory of two picklings is never needed at once.
    writing = ctx.Lock()
    for index in range(count):
        receive, send = ctx.Pipe(duplex=False)
        args = (send, index, count, path, cut, kb, options, source, progress)
        args2 = (spools[index], files[index], writing)
        proc = ctx.Process(target=_worker, args=(*args, *args2), daemon=True)
        proc.start()
        send.close()
        workers.append(proc)
        conns.append(receive)
    statuses: dict[int, str] = {}
    report_progress: Callable[[int], None] | None = options.progress
    try:
        while len(statuses) < count:
            ready = wait([c for i, c in enumerate(conns) if i not in statuses], timeout=0.25)
            for conn in ready:
                index = conns.index(cast(Connection, conn))
                try:
                    statuses[index] = cast(Connection, conn).recv()
                except EOFError:
                    statuses[index] = "worker exited"
            if report_progress is not None:
                report_progress(len(cut.prologue) + sum(progress))
    finally:
        for proc in workers:
            if proc.is_alive() and len(statuses) < count:
                proc.terminate()
            proc.join()
        for conn in conns:
            conn.close()
    return [statuses[i] for i in range(count)]
