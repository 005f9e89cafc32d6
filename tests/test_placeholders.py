"""No knowledge entry leaves a placeholder unfilled, in any context, format or language.

Entries write ``{host}``, ``{port}`` and ``{service}`` (advisor.advise.advice.PLACEHOLDERS) in
commands, configuration, notes, false-positive notes and verify steps; the advise stage and
the renderers fill them for the finding's endpoint. Every entry is advised here for findings
on a port (each port a fix is limited to, and the usual ones), on a host (host scripts) and
for the whole run (pre-scan scripts), with the software unknown and with each software the
entry has fixes for, then rendered as Markdown (English and Japanese), HTML and JSON, and
the output searched for a placeholder. Braces that are not placeholders stay: nginx's
``server {``, curl's ``%{http_code}``, shell's ``${var}``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest

from advisor.advise.advice import PLACEHOLDERS, advise
from advisor.advise.context import Identity
from advisor.advise.report import Report
from advisor.findings.model import REPORTED, Finding, Kind, Location
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase, MatchResult, Verdict
from advisor.kb.schema import Entry
from advisor.model import Service
from advisor.render import Format, render
from advisor.render.json import finding_record
from advisor.render.view import build

KB = KnowledgeBase.load()
EN = Catalog.load("en")
JA = Catalog.load("ja")

#: A placeholder the filler knows, or any ``{identifier}`` that looks like one (a typo such as
#: ``{hostname}`` would be shown as is). curl's ``%{...}`` and shell's ``${...}`` are not.
_LEFT_OVER = re.compile(r"(?<![%$\w}])\{[a-z][a-z0-9_]*\}")  # `}{no}` is Exim expansion syntax


Context = tuple[str, Location, Identity, str]


def _contexts(entry: Entry) -> Iterator[Context]:
    """(name, where, identity, state): the usual places, then one context made to meet each
    false-positive note's condition, so that every note is shown at least once."""
    software = sorted({f.software for f in entry.fixes if f.software not in ("generic", "vendor")})
    identities = [Identity(None, None, "low")] + [
        Identity(name, version, "medium")
        for name in software
        for version in (None, "3.4.13")  # a version before Postfix 3.5's service rename
    ]
    ports = sorted({443, 25, 465, 587, *(p for f in entry.fixes for p in f.ports)})
    service = Service(name="https", product="", method="table", conf="3")
    for identity in identities:
        for port in ports:
            where = Location("192.0.2.10", "mail.example.org", port, "tcp", service)
            yield f"port {port}, {identity.software}", where, identity, REPORTED
        host = Location("192.0.2.10", None, None, None, None, "host")
        yield "host script", host, identity, REPORTED
        run = Location("(scan)", None, None, None, None, "prescript")
        yield "pre-scan", run, identity, REPORTED
    for i, fp in enumerate(entry.false_positives):
        when = fp.when
        name = when.software[0] if when.software else None
        if name is None and when.not_software:
            name = next(s for s in ("postfix", "nginx", "openssh") if s not in when.not_software)
        port = when.ports[0] if when.ports else 443
        seen = Service(name=when.services[0] if when.services else "https", method="table")
        where = Location("192.0.2.10", None, port, "tcp", seen)
        state = when.states[0] if when.states else REPORTED
        yield f"false positive {i}", where, Identity(name, None, "medium"), state


#: Result lines that meet the ``check_results`` conditions the entries use (a vulners row).
_ROWS = ("CVE-2016-8704\t9.8\thttps://vulners.com/cve/CVE-2016-8704 CVSS",)


def _finding(entry: Entry, where: Location, state: str = REPORTED) -> Finding:
    script = entry.match.scripts[0] if entry.match.scripts else "unknown-script"
    title = entry.match.titles[0] if entry.match.titles else entry.title
    return Finding(where, script, Kind.OUTPUT, title, state, check_results=_ROWS, output=title)


def _view_texts(report: Report, cat: Catalog) -> list[str]:
    """Every text the templates show per endpoint, from the view they are rendered from."""
    out: list[str] = []
    for group in build(report, KB, cat)["groups"]:
        out += group.text.values()
        for v in group.variants:
            for fix in v.fixes:
                out += [fix["title"], fix["notes"], fix["config"], *fix["commands"]]
                out.append(fix["fix"].reload)
            out += [n["why"] for n in v.not_fixes] + v.false_positives + v.notes
            out += [text for step in v.verify for text in step]
            out.append(v.severity_reason)
    return out


def _rendered(entry: Entry) -> Iterator[tuple[str, str]]:
    """(context, text) for every context of ``entry``: what the templates get in English
    and Japanese, and the JSON record."""
    for name, where, identity, state in _contexts(entry):
        finding = _finding(entry, where, state)
        advice = advise(finding, MatchResult(Verdict.MATCHED, entry), identity)
        report = Report(source="scan.xml")
        report.add(advice)
        for cat in (EN, JA):
            yield f"{name}: report {cat.lang}", "\n".join(_view_texts(report, cat))
        yield f"{name}: json", json.dumps(finding_record(advice), ensure_ascii=False)


@pytest.mark.parametrize("entry", list(KB), ids=lambda e: e.id)
def test_every_placeholder_is_filled(entry: Entry) -> None:
    for where, text in _rendered(entry):
        left = sorted(set(_LEFT_OVER.findall(text)))
        assert not left, f"{entry.id} ({where}): {left} left unfilled"


def test_whole_reports_have_no_placeholder() -> None:
    """Every entry at once, on a port, on a host and for the run, through the real
    templates: Markdown in both languages, HTML and JSON."""
    report = Report(source="scan.xml")
    unknown = Identity(None, None, "low")
    service = Service(name="https", method="table", conf="3")
    places = (
        Location("192.0.2.10", "mail.example.org", 465, "tcp", service),
        Location("192.0.2.10", None, None, None, None, "host"),
        Location("(scan)", None, None, None, None, "prescript"),
    )
    for entry in KB:
        for where in places:
            report.add(advise(_finding(entry, where), MatchResult(Verdict.MATCHED, entry), unknown))
    assert len(report.groups) == len(KB)
    for fmt, cat in (
        (Format.MARKDOWN, EN),
        (Format.MARKDOWN, JA),
        (Format.HTML, JA),
        (Format.JSON, EN),
    ):
        buf = io.StringIO()
        render(fmt, report, buf, KB, cat)
        left = sorted(set(_LEFT_OVER.findall(buf.getvalue())))
        assert not left, f"{fmt.value} {cat.lang}: {left} left unfilled"


def test_every_false_positive_note_is_reached() -> None:
    """The contexts above show every note whose condition the test can meet."""
    shown = missed = 0
    for entry in KB:
        notes = set()
        for _name, where, identity, state in _contexts(entry):
            finding = _finding(entry, where, state)
            advice = advise(finding, MatchResult(Verdict.MATCHED, entry), identity)
            notes.update(n for n in advice.false_positives if isinstance(n, str))
        for fp in entry.false_positives:
            if fp.when.honeypot or fp.when.tls_mode:
                continue  # needs a host or a port the findings above do not have
            if any(n.startswith(fp.note.split("{")[0][:60]) for n in notes):
                shown += 1
            else:
                missed += 1
    assert shown > 50 and missed <= shown // 10, (shown, missed)


def test_the_test_sees_the_placeholders() -> None:
    """The entries do use every placeholder, in commands and in notes: what is checked above
    is really there to be filled."""
    texts = [
        text
        for e in KB
        for text in (
            *(c for f in e.fixes for c in f.commands),
            *(f.config for f in e.fixes),
            *(f.notes for f in e.fixes),
            *(fp.note for fp in e.false_positives),
            *(v.command for v in e.verify),
        )
    ]
    for placeholder in PLACEHOLDERS:
        assert any(placeholder in t for t in texts), placeholder
    notes = [fp.note for e in KB for fp in e.false_positives]
    assert any("sport = :{port}" in n for n in notes)


def test_a_false_positive_note_names_the_port() -> None:
    """The issue: ADV-2000's note printed ``ss -lntp 'sport = :{port}'`` as is."""
    entry = KB.get("ADV-2000")
    assert entry is not None
    where = Location("192.0.2.10", None, 25, "tcp", Service(name="smtp", product="Postfix smtpd"))
    advice = advise(
        _finding(entry, where),
        MatchResult(Verdict.MATCHED, entry),
        Identity("postfix", None, "medium"),
    )
    notes = [n for n in advice.false_positives if isinstance(n, str)]
    assert any("`ss -lntp 'sport = :25'`" in n for n in notes)
    report = Report(source="scan.xml")
    report.add(advice)
    buf = io.StringIO()
    render(Format.MARKDOWN, report, buf, KB, JA)
    assert "`ss -lntp 'sport = :25'`" in buf.getvalue()


def test_an_odd_host_stays_out_of_notes() -> None:
    """Notes are trusted Markdown: a host that is not an address or a DNS name (a hostile
    file) is written as HOST there, never as Markdown."""
    entry = KB.get("ADV-1014")
    assert entry is not None and any("{host}" in f.notes for f in entry.fixes)
    where = Location("[x](https://evil.example)", None, 443, "tcp")
    advice = advise(
        _finding(entry, where), MatchResult(Verdict.MATCHED, entry), Identity(None, None, "low")
    )
    report = Report(source="scan.xml")
    report.add(advice)
    buf = io.StringIO()
    render(Format.MARKDOWN, report, buf, KB, EN)
    text = buf.getvalue()
    note = next(line for line in text.splitlines() if "s_client -connect" in line and "`" in line)
    assert "`openssl s_client -connect HOST:443 -tls1_3 -msg`" in note  # the fix's note
    assert "evil" not in note  # commands, in fenced blocks, still name the address as given
