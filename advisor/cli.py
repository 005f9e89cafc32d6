"""The ``advisor`` command: a thin click layer over :mod:`advisor.api` and the renderers.

Exit codes (also in README.md and ``advisor --help``):

* 0 - nothing at or above ``--fail-on``
* 1 - at least one finding at or above ``--fail-on``
* 2 - usage or input error (missing file, not nmap output, bad knowledge base, bad flag)
* 3 - the scan was incomplete (cut off mid-file) and nothing reached ``--fail-on``
* 4 - internal error (a bug in advisor; please report it)
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, TypeVar

import click

from advisor import __version__
from advisor.advise.accept import AcceptError, load_acceptances
from advisor.advise.advice import SEVERITY_ORDER, severity_rank
from advisor.advise.report import Report
from advisor.api import Options, explain
from advisor.i18n import Catalog, available_languages
from advisor.kb import EntryError, KnowledgeBase, knowledge_dir
from advisor.parallel import explain_file
from advisor.render import Format, render
from advisor.render.escape import neutralise
from advisor.render.json import FindingSpool
from advisor.scan import ScanError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERNAL = 4

EXIT_CODES_HELP = """\b
Exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage or input error
  3  scan incomplete (cut off) and nothing reached --fail-on
  4  internal error (a bug: please report it)"""


class InputError(click.ClickException):
    exit_code = EXIT_USAGE

    def show(self, file: IO[str] | None = None) -> None:
        click.echo(f"advisor: error: {neutralise(self.format_message())}", err=True)


def _load_kb(path: Path | None) -> KnowledgeBase:
    try:
        return KnowledgeBase.load(path)
    except EntryError as exc:
        raise InputError(
            f"knowledge base is invalid: {exc.source}: {exc.problems[0]} (run 'advisor kb lint')"
        ) from None


def _batch_gc() -> None:
    """Tune the cyclic garbage collector for reading a scan: millions of short-lived objects
    and next to no cycles. The youngest generation is collected every 10,000 allocations
    instead of 700, and what start-up loaded (modules, knowledge base) is left out of
    collections (and not copied into forked workers by them). About 5 % of a large scan's
    time; cycles are still collected."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@contextmanager
def atomic_output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a temporary file next to ``path`` renamed over it only on success."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _Progress:
    """Bytes read of the total, on stderr, only when stderr is a terminal."""

    def __init__(self, total: int | None, name: str) -> None:
        self.total = total
        self.name = name
        self.enabled = bool(total and total > 20_000_000 and sys.stderr.isatty())
        self._last = -1

    def __call__(self, done: int) -> None:
        if not self.enabled or not self.total:
            return
        pct = min(100, done * 100 // self.total)
        if pct != self._last:
            self._last = pct
            bar = "#" * (pct // 4)
            sys.stderr.write(
                f"\r{self.name}: [{bar:<25}] {pct:3d}% ({done >> 20}/{self.total >> 20} MiB)"
            )
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self._last >= 0:
            sys.stderr.write("\n")


def _summary(report: Report, output: str | None) -> str:
    counts = ", ".join(
        f"{report.severity_counts[s]} {s}"
        for s in reversed(SEVERITY_ORDER)
        if report.severity_counts[s]
    )
    parts = [
        f"{report.finding_count} finding(s)" + (f" ({counts})" if counts else ""),
        f"{len(report.groups)} kind(s)",
        f"{report.hosts_read} host(s) read",
    ]
    if report.clean:
        parts.append(f"{sum(report.clean.values())} check(s) clean")
    if report.unknown:
        parts.append(f"{len(report.unknown)} script(s) without an entry")
    line = "advisor: " + "; ".join(parts)
    if output and output != "-":
        line += f"; report written to {output}"
    return line


def _format_option() -> Callable[[F], F]:
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice([f.value for f in Format]),
        default=Format.MARKDOWN.value,
        show_default=True,
        help="Output format.",
    )


def _output_option() -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, allow_dash=True),
        help="Write to FILE (atomically: a failed run leaves no partial file) instead of stdout.",
    )


def _fail_on_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--fail-on",
        type=click.Choice(SEVERITY_ORDER),
        default="low",
        show_default=True,
        help=f"Lowest severity of {what} that makes the exit code 1.",
    )


def _knowledge_option() -> Callable[[F], F]:
    return click.option(
        "--knowledge",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="Use this knowledge directory instead of the bundled one.",
    )


def _evidence_file(flag: str, dest: str, text: str) -> Callable[[F], F]:
    return click.option(
        flag, dest, type=click.Path(dir_okay=False, exists=True, path_type=Path), help=text
    )


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="advisor")
def main() -> None:
    """Explain nmap NSE findings: what they mean, who is responsible, whether they are
    real, and what to change."""


@main.command("explain", epilog=EXIT_CODES_HELP)
@click.argument("scan", type=click.Path(dir_okay=False, allow_dash=True))
@_format_option()
@_output_option()
@_fail_on_option("a finding")
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="ID",
    help="Leave out findings of this knowledge entry (repeatable).",
)
@click.option(
    "--accept",
    "accept_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Accepted-risk file (TOML; see docs/accepted-risks.md).",
)
@_evidence_file(
    "--ss",
    "ss_file",
    "Listener evidence from the server: 'ss -lnpt' (or netstat -tlnp, lsof) output.",
)
@_evidence_file("--postconf", "postconf_file", "'postconf -n' output (or main.cf) from the server.")
@_evidence_file(
    "--postconf-master", "master_file", "'postconf -M' output (or master.cf) from the server."
)
@_evidence_file("--mail-version", "mail_version_file", "'postconf mail_version' output.")
@_evidence_file("--doveconf", "doveconf_file", "'doveconf -n' output from the server.")
@_evidence_file("--nginx", "nginx_file", "'nginx -T' output from the server.")
@click.option(
    "--host",
    "evidence_host",
    metavar="ADDRESS",
    help="The scanned host the evidence files above came from (needed for multi-host scans).",
)
@click.option(
    "--evidence-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Evidence for several hosts: one sub-folder per host (ss.txt, postconf.txt, "
    "master.txt, doveconf.txt, nginx.txt), or files named HOST.ss.txt ...",
)
@click.option(
    "--local",
    is_flag=True,
    help="Run read-only commands on this machine (ss -lnpt, postconf -n/-M, doveconf -n) "
    "for findings on its own addresses.",
)
@click.option(
    "--os",
    "os_id",
    metavar="RELEASE",
    help="No configuration at hand: assume the packages of this release "
    "(ubuntu-20.04, debian-12, rhel-9, ...).",
)
@click.option(
    "--lang",
    type=click.Choice(available_languages() or ["en"]),
    default="en",
    show_default=True,
    help="Language of the report (Markdown and HTML).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that read a large scan file in parallel (default: one per CPU, for "
    "files over 8 MB; 1 reads in one process). The report is the same either way.",
)
@_knowledge_option()
def explain_cmd(
    scan: str,
    fmt: str,
    output: str | None,
    fail_on: str,
    ignore: tuple[str, ...],
    accept_file: Path | None,
    ss_file: Path | None,
    postconf_file: Path | None,
    master_file: Path | None,
    mail_version_file: Path | None,
    doveconf_file: Path | None,
    nginx_file: Path | None,
    evidence_host: str | None,
    evidence_dir: Path | None,
    local: bool,
    os_id: str | None,
    lang: str,
    jobs: int | None,
    knowledge: Path | None,
) -> None:
    """Explain the findings in SCAN (nmap -oX XML or nmap's normal text output; '-' for stdin)."""
    kb = _load_kb(knowledge)
    _batch_gc()
    for entry_id in ignore:
        if kb.get(entry_id) is None:
            raise InputError(
                f"--ignore {entry_id}: no such knowledge entry (see 'advisor kb list')"
            )
    try:
        catalog = Catalog.load(lang, kb.root)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    fmt_enum = Format(fmt)
    spool: FindingSpool | None = None
    options = Options(ignore=frozenset(i.upper() for i in ignore))
    if accept_file is not None:
        try:
            options.acceptances = load_acceptances(accept_file)
        except AcceptError as exc:
            raise InputError(str(exc)) from None
        for rule in options.acceptances:
            if kb.get(rule.entry_id) is None:
                raise InputError(f"{accept_file}: no knowledge entry {rule.entry_id}")
    if fmt_enum is Format.JSON:
        spool = FindingSpool()
        options.on_advice = spool.add
        options.on_repeat = spool.repeat
    if os_id is not None:
        _apply_os(options, os_id)
    files = {
        "listeners": ss_file,
        "postconf": postconf_file,
        "master": master_file,
        "mail_version": mail_version_file,
        "doveconf": doveconf_file,
        "nginx": nginx_file,
    }
    stream, total, name = _open_input(scan)
    if any(files.values()) or evidence_dir is not None or local:
        from advisor.evidence.gather import EvidenceError, build_evidence

        try:
            stream, options.evidence = build_evidence(
                stream, files, evidence_host, evidence_dir, local
            )
        except (EvidenceError, ScanError) as exc:
            raise InputError(str(exc)) from None
    progress = _Progress(total, name)
    options.progress = progress
    try:
        if scan != "-" and options.evidence is None and jobs != 1:
            stream.close()  # read by path: large files are read in parallel
            report = explain_file(scan, kb, options, name, jobs, spool)
        else:
            report = explain(stream, kb, options, source=name)
    except ScanError as exc:
        raise InputError(f"{name}: {exc}") from None
    finally:
        progress.finish()
        if stream is not sys.stdin.buffer:
            stream.close()
    with atomic_output(output) as out:
        render(fmt_enum, report, out, kb, catalog, spool)
    if spool is not None:
        spool.close()
    for warning in report.warnings:
        click.echo(f"advisor: warning: {neutralise(warning)}", err=True)
    click.echo(_summary(report, output), err=True)
    worst = report.worst()
    if worst is not None and severity_rank(worst) >= severity_rank(fail_on):
        sys.exit(EXIT_FINDINGS)
    if not report.scan.complete:
        sys.exit(EXIT_INCOMPLETE)
    sys.exit(EXIT_OK)


@main.command("diff", epilog=EXIT_CODES_HELP)
@click.argument("before", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("after", type=click.Path(dir_okay=False, allow_dash=True))
@_format_option()
@_output_option()
@_fail_on_option("a new or still-open finding")
@_knowledge_option()
def diff_cmd(
    before: str, after: str, fmt: str, output: str | None, fail_on: str, knowledge: Path | None
) -> None:
    """Compare two scans of the same hosts: fixed, new, still open (per host:port and entry).

    Exit code 1 when a new or still-open finding reaches --fail-on: that is how a ticket is
    shown to be done."""
    from advisor.diff import compare, read_side
    from advisor.render.diff import render_diff

    if before == "-" and after == "-":
        raise InputError("only one of BEFORE and AFTER can be '-' (stdin)")
    kb = _load_kb(knowledge)
    sides = []
    for scan in (before, after):
        stream, _, name = _open_input(scan)
        try:
            sides.append(read_side(stream, kb, Options(), name))
        except ScanError as exc:
            raise InputError(f"{name}: {exc}") from None
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    result = compare(sides[0], sides[1])
    with atomic_output(output) as out:
        render_diff(result, Format(fmt), out, before, after)
    click.echo(
        f"advisor: {len(result.new)} new, {len(result.still_open)} still open, "
        f"{len(result.fixed)} fixed, {len(result.not_rechecked)} not rechecked",
        err=True,
    )
    worst = result.worst_open()
    sys.exit(EXIT_FINDINGS if worst and severity_rank(worst) >= severity_rank(fail_on) else EXIT_OK)


def _apply_os(options: Options, os_id: str) -> None:
    from advisor.api import release_defaults
    from advisor.evidence.distros import all_releases, lookup

    release = lookup(os_id)
    if release is None:
        known = ", ".join(r.os_id for r in all_releases())
        raise InputError(f"--os {os_id}: unknown release (known: {known})")
    options.os_defaults = release_defaults(release)
    options.os_name = release.name
    options.os_how = ("assumed_given", os_id)


def _open_input(scan: str) -> tuple[BinaryIO, int | None, str]:
    if scan == "-":
        return sys.stdin.buffer, None, "<stdin>"
    path = Path(scan)
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{scan}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{scan}: is a directory, expected an nmap output file") from None
    except OSError as exc:
        raise InputError(f"{scan}: cannot read: {exc.strerror}") from None
    try:
        size: int | None = path.stat().st_size
    except OSError:
        size = None
    return fh, size, scan


# --------------------------------------------------------------------------------- kb
@main.group("kb")
def kb_group() -> None:
    """Read and check the knowledge base."""


@kb_group.command("list")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_knowledge_option()
def kb_list(fmt: str, knowledge: Path | None) -> None:
    """List every knowledge entry."""
    from advisor.kb.catalogue import entry_summary

    kb = _load_kb(knowledge)
    rows = [entry_summary(e, kb) for e in kb]
    if fmt == "json":
        click.echo(json.dumps({"schema": "advisor-kb-list/1", "entries": rows}, indent=2))
        return
    for row in rows:
        scripts = ",".join(row["scripts"])
        proven = "proven" if row["proven"] else ""
        click.echo(
            f"{row['id']}  {row['severity']:<8} {scripts:<28} {row['title']}  {proven}".rstrip()
        )


@kb_group.command("show")
@click.argument("entry_id")
@_knowledge_option()
def kb_show(entry_id: str, knowledge: Path | None) -> None:
    """Show one entry as Markdown."""
    from advisor.kb.catalogue import entry_markdown

    kb = _load_kb(knowledge)
    entry = kb.get(entry_id)
    if entry is None:
        raise InputError(f"no knowledge entry {entry_id!r} (see 'advisor kb list')")
    click.echo(entry_markdown(entry, kb))


@kb_group.command("catalogue")
@_knowledge_option()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write to FILE (atomically) instead of stdout (docs/catalogue.md in the repository).",
)
def kb_catalogue(knowledge: Path | None, output: str | None) -> None:
    """Write the whole knowledge base as one Markdown page, with the proof matrix."""
    from advisor.kb.catalogue import catalogue_markdown

    kb = _load_kb(knowledge)
    with atomic_output(output) as out:
        out.write(catalogue_markdown(kb))


@kb_group.command("lint")
@_knowledge_option()
@click.option(
    "--samples",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of per-entry nmap samples to check (default: tests/kb_samples "
    "next to the knowledge folder, when present).",
)
def kb_lint(knowledge: Path | None, samples: Path | None) -> None:
    """Check every entry against the schema, IDs, samples and translations."""
    from advisor.kb.lint import lint

    root = knowledge or knowledge_dir()
    problems, checked = lint(root, samples)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"advisor kb lint: {len(problems)} problem(s) in {checked} entries", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"advisor kb lint: {checked} entries OK")


def run() -> None:
    """Entry point that turns unexpected exceptions into exit code 4 without a traceback."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("advisor: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # pragma: no cover - a bug
        if os.environ.get("ADVISOR_DEBUG"):
            raise
        click.echo(
            f"advisor: internal error: {type(exc).__name__}: {neutralise(str(exc))} "
            "(set ADVISOR_DEBUG=1 for a traceback, and please report it)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
