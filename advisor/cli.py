"""The ``advisor`` command: a thin click layer over :mod:`advisor.api` and the renderers.

Exit codes (also in README.md and ``advisor --help``):

* 0 - nothing at or above ``--fail-on``
* 1 - at least one finding at or above ``--fail-on``
* 2 - usage or input error (missing file, not nmap output, bad knowledge base, bad flag)
* 3 - the scan was incomplete (cut off mid-file, or not XML from some line on) and nothing
  reached ``--fail-on``; damage that could be read past (bytes or text nmap never writes)
  is a warning, not an incomplete scan: the exit code is then 0 or 1 as usual
* 4 - internal error (a bug in advisor; please report it)
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, TypeVar, cast

import click

from advisor import __version__
from advisor.advise.accept import AcceptError, load_acceptances
from advisor.advise.advice import SEVERITY_ORDER, severity_rank
from advisor.advise.report import Report, split_unknown
from advisor.api import Options, explain
from advisor.i18n import Catalog, available_languages
from advisor.kb import EntryError, KnowledgeBase, knowledge_dir
from advisor.kb.informational import Informational, load_informational
from advisor.parallel import explain_file
from advisor.render import Format, render
from advisor.render.diff import DIFF_FORMATS
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
        kb = KnowledgeBase.load(path)
        load_informational(kb.root)  # informational.toml is part of the knowledge base
        return kb
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


def _summary(report: Report, output: str | None, informational: Informational | None = None) -> str:
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
    shown, unknown = split_unknown(report, informational or Informational())
    if shown:
        parts.append(f"{len(shown)} script(s) informational")
    if unknown:
        parts.append(f"{len(unknown)} script(s) without an entry")
    line = "advisor: " + "; ".join(parts)
    if output and output != "-":
        line += f"; report written to {output}"
    return line


def _format_option(formats: Iterable[Format] = tuple(Format)) -> Callable[[F], F]:
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice([f.value for f in formats]),
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


#: The evidence-file flags of ``explain`` and ``diff``: flag, parameter, evidence kind, help.
_EVIDENCE_FILES = (
    (
        "--ss",
        "ss_file",
        "listeners",
        "Listener evidence from the server: 'ss -lnpt' (or netstat -tlnp, lsof) output.",
    ),
    (
        "--postconf",
        "postconf_file",
        "postconf",
        "'postconf -n' output (or main.cf) from the server.",
    ),
    (
        "--postconf-master",
        "master_file",
        "master",
        "'postconf -M' output (or master.cf) from the server.",
    ),
    ("--mail-version", "mail_version_file", "mail_version", "'postconf mail_version' output."),
    ("--doveconf", "doveconf_file", "doveconf", "'doveconf -n' output from the server."),
    ("--nginx", "nginx_file", "nginx", "'nginx -T' output from the server."),
)


@dataclass(frozen=True, slots=True)
class AdviceFlags:
    """The options that shape the advice, shared by ``explain`` and ``diff``: what to leave
    out (``--ignore``), what is accepted (``--accept``), and what is known about the server
    (the evidence files, ``--host``, ``--evidence-dir``, ``--local``, ``--os``)."""

    ignore: tuple[str, ...] = ()
    accept_file: Path | None = None
    files: Mapping[str, Path | None] = field(default_factory=dict)
    """Evidence files by kind (``listeners``, ``postconf``, ...); None when not given."""
    host: str | None = None
    evidence_dir: Path | None = None
    local: bool = False
    os_id: str | None = None

    @property
    def wants_evidence(self) -> bool:
        return any(self.files.values()) or self.evidence_dir is not None or self.local

    def options(self, kb: KnowledgeBase) -> Options:
        """The :class:`~advisor.api.Options` these flags ask for, checked against ``kb``
        (evidence is attached per scan: :meth:`attach_evidence`)."""
        for entry_id in self.ignore:
            if kb.get(entry_id) is None:
                raise InputError(
                    f"--ignore {entry_id}: no such knowledge entry (see 'advisor kb list')"
                )
        options = Options(ignore=frozenset(i.upper() for i in self.ignore))
        if self.accept_file is not None:
            try:
                options.acceptances = load_acceptances(self.accept_file)
            except AcceptError as exc:
                raise InputError(str(exc)) from None
            for rule in options.acceptances:
                if kb.get(rule.entry_id) is None:
                    raise InputError(f"{self.accept_file}: no knowledge entry {rule.entry_id}")
        if self.os_id is not None:
            _apply_os(options, self.os_id)
        return options

    def attach_evidence(
        self, options: Options, stream: BinaryIO, local_from: Options | None = None
    ) -> BinaryIO:
        """Set ``options.evidence`` for the scan in ``stream``; return the stream to read
        (re-opened when the scan had to be read first to find its one host).

        ``local_from``: options whose ``--local`` evidence to reuse instead of running the
        commands again (the two sides of a diff)."""
        if not self.wants_evidence:
            return stream
        from advisor.evidence.attach import EvidenceSet
        from advisor.evidence.gather import EvidenceError, build_evidence

        earlier = local_from.evidence if local_from is not None else None
        reuse = self.local and isinstance(earlier, EvidenceSet) and earlier.local is not None
        try:
            stream, evidence = build_evidence(
                stream, self.files, self.host, self.evidence_dir, self.local and not reuse
            )
        except (EvidenceError, ScanError) as exc:
            raise InputError(str(exc)) from None
        if reuse:
            assert isinstance(earlier, EvidenceSet)
            evidence.local, evidence.local_addresses = earlier.local, earlier.local_addresses
        options.evidence = evidence
        return stream


def advice_options(func: F) -> F:
    """Add the options of :class:`AdviceFlags` to a command, which receives them as one
    ``advice`` argument (one definition for ``explain`` and ``diff``)."""

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        kwargs["advice"] = AdviceFlags(
            ignore=kwargs.pop("ignore"),
            accept_file=kwargs.pop("accept_file"),
            files={kind: kwargs.pop(param) for _, param, kind, _ in _EVIDENCE_FILES},
            host=kwargs.pop("evidence_host"),
            evidence_dir=kwargs.pop("evidence_dir"),
            local=kwargs.pop("local"),
            os_id=kwargs.pop("os_id"),
        )
        return func(*args, **kwargs)

    decorators: list[Callable[[F], F]] = [
        click.option(
            "--ignore",
            "ignore",
            multiple=True,
            metavar="ID",
            help="Leave out findings of this knowledge entry (repeatable).",
        ),
        click.option(
            "--accept",
            "accept_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Accepted-risk file (TOML; see docs/accepted-risks.md).",
        ),
        *(_evidence_file(flag, param, text) for flag, param, _, text in _EVIDENCE_FILES),
        click.option(
            "--host",
            "evidence_host",
            metavar="ADDRESS",
            help="The scanned host the evidence files above came from (needed for multi-host "
            "scans).",
        ),
        click.option(
            "--evidence-dir",
            type=click.Path(file_okay=False, exists=True, path_type=Path),
            help="Evidence for several hosts: one sub-folder per host (ss.txt, postconf.txt, "
            "master.txt, doveconf.txt, nginx.txt), or files named HOST.ss.txt ...",
        ),
        click.option(
            "--local",
            is_flag=True,
            help="Run read-only commands on this machine (ss -lnpt, postconf -n/-M, doveconf "
            "-n) for findings on its own addresses.",
        ),
        click.option(
            "--os",
            "os_id",
            metavar="RELEASE",
            help="No configuration at hand: assume the packages of this release "
            "(ubuntu-20.04, debian-12, rhel-9, ...).",
        ),
    ]
    wrapped = cast(F, command)
    for decorator in reversed(decorators):
        wrapped = decorator(wrapped)
    return wrapped


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
@advice_options
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
    advice: AdviceFlags,
    lang: str,
    jobs: int | None,
    knowledge: Path | None,
) -> None:
    """Explain the findings in SCAN (nmap -oX XML or nmap's normal text output; '-' for stdin)."""
    kb = _load_kb(knowledge)
    _batch_gc()
    options = advice.options(kb)
    try:
        catalog = Catalog.load(lang, kb.root)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    fmt_enum = Format(fmt)
    spool: FindingSpool | None = None
    if fmt_enum.per_finding:  # JSON, SARIF, CSV, DefectDojo: every finding, as read
        spool = FindingSpool()
        options.on_advice = spool.add
        options.on_repeat = spool.repeat
    stream, total, name = _open_input(scan)
    stream = advice.attach_evidence(options, stream)
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
    click.echo(_summary(report, output, load_informational(kb.root)), err=True)
    worst = report.worst()
    if worst is not None and severity_rank(worst) >= severity_rank(fail_on):
        sys.exit(EXIT_FINDINGS)
    if not report.scan.complete:
        sys.exit(EXIT_INCOMPLETE)
    sys.exit(EXIT_OK)


@main.command("diff", epilog=EXIT_CODES_HELP)
@click.argument("before", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("after", type=click.Path(dir_okay=False, allow_dash=True))
@_format_option(DIFF_FORMATS)
@_output_option()
@_fail_on_option("a new or still-open finding")
@advice_options
@click.option(
    "--evidence-before/--no-evidence-before",
    default=True,
    show_default=True,
    help="Apply the evidence options to BEFORE too, not only to AFTER. They describe the "
    "server now; turn this off when the change replaced the software behind a port.",
)
@_knowledge_option()
def diff_cmd(
    before: str,
    after: str,
    fmt: str,
    output: str | None,
    fail_on: str,
    advice: AdviceFlags,
    evidence_before: bool,
    knowledge: Path | None,
) -> None:
    """Compare two scans of the same hosts: fixed, new, still open, accepted (per host:port
    and entry), each advised as 'explain' would with the same options.

    Exit code 1 when a new or still-open finding reaches --fail-on (its severity in context:
    port 25 is not 465), whatever is accepted or ignored: that is how a ticket is shown to be
    done."""
    from advisor.diff import compare, read_side
    from advisor.render.diff import render_diff

    if before == "-" and after == "-":
        raise InputError("only one of BEFORE and AFTER can be '-' (stdin)")
    kb = _load_kb(knowledge)
    base = advice.options(kb)
    sides = {}
    after_options: Options | None = None
    # AFTER first: the evidence describes the server after the change
    for label, scan in (("after", after), ("before", before)):
        options = replace(base)
        stream, _, name = _open_input(scan)
        try:
            if label == "after" or evidence_before:
                stream = advice.attach_evidence(options, stream, local_from=after_options)
            sides[label] = read_side(stream, kb, options, name)
        except ScanError as exc:
            raise InputError(f"{name}: {exc}") from None
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        if label == "after":
            after_options = options
        for warning in sides[label].warnings:
            click.echo(f"advisor: warning: {label}: {neutralise(warning)}", err=True)
    result = compare(sides["before"], sides["after"])
    with atomic_output(output) as out:
        render_diff(result, Format(fmt), out, before, after)
    expired = len(result.expired)
    click.echo(
        f"advisor: {len(result.new)} new, {len(result.still_open)} still open, "
        f"{len(result.fixed)} fixed, {len(result.not_rechecked)} not rechecked, "
        f"{len(result.accepted)} accepted"
        + (f" ({expired} with an expired acceptance, counted again)" if expired else ""),
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


# ------------------------------------------------------------------------ rescan and scan
# Running nmap: `advisor rescan` looks again at what had findings and prints the diff,
# `advisor scan` runs a recommended scan and explains it. The planning and running live in
# advisor/rescan/; this section only parses flags and reuses the diff and explain commands.
from advisor.rescan.profiles import PROFILES  # noqa: E402  (this section is self-contained)

RESCAN_EXIT_HELP = """\b
Exit codes:
  0  nothing new or still open at or above --fail-on (or nothing to recheck)
  1  a new or still-open finding at or above --fail-on
  2  usage or input error; a target the original did not scan; nmap missing, failed or timed out
  4  internal error (a bug: please report it)"""

SCAN_EXIT_HELP = """\b
Exit codes (as 'advisor explain'):
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage or input error; nmap missing, failed or timed out
  3  scan incomplete (cut off) and nothing reached --fail-on
  4  internal error (a bug: please report it)"""


def _timeout_option() -> Callable[[F], F]:
    from advisor.rescan.run import DEFAULT_TIMEOUT

    return click.option(
        "--timeout",
        type=click.FloatRange(min=1),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="Stop nmap after this long (its XML is then not kept).",
    )


def _dry_run_option() -> Callable[[F], F]:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Print the nmap command (one shell-quoted line); run nothing.",
    )


def _utc_stamp() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _unused_path(path: Path) -> Path:
    """``path``, or ``NAME-2.xml``, ``NAME-3.xml`` ... when it exists (two runs in a second)."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _rescan_xml(original: str, output: str | None) -> Path:
    if output:
        return Path(output)
    stamp = _utc_stamp()
    if original == "-":
        return _unused_path(Path(f"rescan-{stamp}.xml"))
    source = Path(original)
    known = source.suffix.lower() in (".xml", ".json", ".nmap", ".txt")
    stem = source.stem if known else source.name
    return _unused_path(source.with_name(f"{stem}.rescan-{stamp}.xml"))


def _scan_xml(output: str | None, xml_output: str | None) -> Path:
    if xml_output:
        return Path(xml_output)
    if output and output != "-":
        report = Path(output)
        if report.suffix.lower() == ".xml":
            return report.with_name(f"{report.stem}.nmap.xml")
        return report.with_suffix(".xml")
    return _unused_path(Path(f"scan-{_utc_stamp()}.xml"))


def _run_nmap(command: Any, xml: Path, timeout: float) -> None:
    """Run nmap for ``command`` (an :class:`advisor.rescan.Command`) with messages on stderr."""
    from advisor.rescan.run import NmapError, find_nmap, run_nmap

    try:
        binary = find_nmap()
        click.echo(f"advisor: running: {neutralise(command.line(str(xml)))}", err=True)
        done = run_nmap(command, xml, timeout, binary)
    except NmapError as exc:
        raise InputError(str(exc)) from None
    for warning in done.warnings[-5:]:
        click.echo(f"advisor: nmap: {neutralise(warning)}", err=True)
    click.echo(f"advisor: nmap finished in {done.seconds:.0f} s; XML kept in {xml}", err=True)


@main.command("rescan", epilog=RESCAN_EXIT_HELP)
@click.argument("original", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--host",
    "hosts",
    multiple=True,
    metavar="ADDRESS",
    help="Rescan only this host of the original (its address or name; repeatable). "
    "A host the original did not scan is refused.",
)
@click.option(
    "-o",
    "--output",
    "xml_output",
    type=click.Path(dir_okay=False),
    help="Keep the rescan's nmap XML in FILE (default: beside ORIGINAL, as "
    "NAME.rescan-<UTC time>.xml).",
)
@_format_option(DIFF_FORMATS)
@click.option(
    "--report",
    "report_output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the diff to FILE (atomically) instead of stdout.",
)
@_fail_on_option("a new or still-open finding")
@_timeout_option()
@_dry_run_option()
@_knowledge_option()
def rescan_cmd(
    original: str,
    hosts: tuple[str, ...],
    xml_output: str | None,
    fmt: str,
    report_output: str | None,
    fail_on: str,
    timeout: float,
    dry_run: bool,
    knowledge: Path | None,
) -> None:
    """Run nmap again against only the hosts, ports and scripts that had findings in
    ORIGINAL (nmap XML or normal output, or a JSON report of 'advisor explain -f json'),
    keep the new XML, and print the diff: fixed, still open, new, not rechecked.

    The original's --script-args, --datadir and -sV are carried as they were; -sV is added
    only where the findings need it. See docs/rescan.md."""
    from advisor.diff import compare, read_side
    from advisor.render.diff import render_diff
    from advisor.rescan.original import OriginalError, open_ports, read_original
    from advisor.rescan.plan import (
        NothingToRecheck,
        NotRechecked,
        PlanRefused,
        build_plan,
        mark_not_rechecked,
    )

    def not_rechecked(items: Iterable[NotRechecked]) -> None:
        for item in items:
            click.echo(
                f"advisor: not rechecked: {neutralise(item.endpoint)} {neutralise(item.script)}: "
                f"{neutralise(item.why)}",
                err=True,
            )

    kb = _load_kb(knowledge)
    try:
        before = read_original(original, kb)
        plan = build_plan(before, hosts)
    except (OriginalError, PlanRefused) as exc:
        raise InputError(str(exc)) from None
    except NothingToRecheck as exc:
        not_rechecked(exc.not_rechecked)
        click.echo(f"advisor: {neutralise(str(exc))}", err=True)
        sys.exit(EXIT_OK)
    not_rechecked(plan.not_rechecked)
    for note in plan.notes:
        click.echo(f"advisor: note: {neutralise(note)}", err=True)
    xml = _rescan_xml(original, xml_output)
    if dry_run:
        click.echo(plan.command.line(str(xml)))
        sys.exit(EXIT_OK)
    _run_nmap(plan.command, xml, timeout)
    try:
        with xml.open("rb") as fh:
            after = read_side(fh, kb, Options(), str(xml))
    except ScanError as exc:
        raise InputError(f"{xml}: {exc}") from None
    for warning in after.warnings:
        click.echo(f"advisor: warning: after: {neutralise(warning)}", err=True)
    result = compare(before.side, after)
    try:
        moved = mark_not_rechecked(result, plan, open_ports(xml))
    except OriginalError as exc:
        raise InputError(str(exc)) from None
    for item, why in moved:
        click.echo(
            f"advisor: not rechecked: {neutralise(item.endpoint)} {neutralise(item.script)}: {why}",
            err=True,
        )
    with atomic_output(report_output) as out:
        render_diff(result, Format(fmt), out, before.source, str(xml))
    click.echo(
        f"advisor: {len(result.new)} new, {len(result.still_open)} still open, "
        f"{len(result.fixed)} fixed, {len(result.not_rechecked)} not rechecked",
        err=True,
    )
    if result.not_rechecked:
        click.echo(
            f"advisor: warning: {len(result.not_rechecked)} finding(s) not rechecked: the exit "
            "code says nothing about them",
            err=True,
        )
    worst = result.worst_open()
    sys.exit(EXIT_FINDINGS if worst and severity_rank(worst) >= severity_rank(fail_on) else EXIT_OK)


@main.command("scan", epilog=SCAN_EXIT_HELP)
@click.argument("hosts", nargs=-1, required=True, metavar="HOST...")
@click.option(
    "--profile",
    type=click.Choice(list(PROFILES)),
    default="vuln",
    show_default=True,
    help="What to scan for: "
    + "; ".join(f"{p.name}: {p.summary}" for p in PROFILES.values())
    + ".",
)
@click.option(
    "--ports",
    metavar="LIST",
    help="Scan these TCP ports instead of the profile's (e.g. 25,465,41000-41010).",
)
@_format_option()
@_output_option()
@click.option(
    "--xml",
    "xml_output",
    type=click.Path(dir_okay=False),
    help="Keep nmap's XML in FILE (default: beside --output, e.g. report.xml next to "
    "report.md; with no --output, scan-<UTC time>.xml in the current directory).",
)
@_fail_on_option("a finding")
@click.option(
    "--lang",
    type=click.Choice(available_languages() or ["en"]),
    default="en",
    show_default=True,
    help="Language of the report (Markdown and HTML).",
)
@_timeout_option()
@_dry_run_option()
@_knowledge_option()
@click.pass_context
def scan_cmd(
    ctx: click.Context,
    hosts: tuple[str, ...],
    profile: str,
    ports: str | None,
    fmt: str,
    output: str | None,
    xml_output: str | None,
    fail_on: str,
    lang: str,
    timeout: float,
    dry_run: bool,
    knowledge: Path | None,
) -> None:
    """Scan hosts with the nmap command advisor recommends for a profile, then explain it.

    The command is printed first (on stderr); nmap's XML is kept, and the report is what
    'advisor explain' makes of it with the same options.

    Scan only servers you are allowed to scan. See docs/rescan.md."""
    from advisor.rescan.nmapdata import data_dirs, script_names
    from advisor.rescan.profiles import ProfileError, profile_command

    try:
        command, notes = profile_command(
            PROFILES[profile], hosts, ports, script_names(data_dirs(None, None))
        )
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    for note in notes:
        click.echo(f"advisor: note: {neutralise(note)}", err=True)
    xml = _scan_xml(output, xml_output)
    line = command.line(str(xml))
    click.echo(f"advisor: nmap command for profile {profile}: {neutralise(line)}", err=True)
    if dry_run:
        click.echo(line)
        sys.exit(EXIT_OK)
    _run_nmap(command, xml, timeout)
    ctx.invoke(
        explain_cmd,
        scan=str(xml),
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        lang=lang,
        knowledge=knowledge,
    )
