"""JSON advisory, schema ``advisor-report/3`` (documented in docs/json-schema.md).

Findings are streamed: the CLI writes one record per finding to a temporary spool while the
scan is read (so memory stays flat), and this module wraps them with the ``scan``,
``summary`` and ``advice`` objects at the end. Without a spool (library use), records are
rebuilt from the report's representative advice for each endpoint.

What advisor says about a finding depends on its context (entry, software, version, port),
not on its address, and a large scan has few contexts: each distinct one is written once
under ``advice`` and findings refer to it by id, as SARIF results refer to rules. Ids are
derived from the content (``A`` and 12 hex digits of a BLAKE2b hash), so they are the same in
every run. Version 1 repeated the advice in every finding: a 10k-host report was 230 MB.

Prose is plain text (:mod:`advisor.render.plain` for knowledge text, :func:`english` for
messages); where Markdown is worth keeping, a ``*_md`` sibling carries it (version 3; version 2
shipped Markdown in the plain fields).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from functools import lru_cache
from typing import Any, Generic, TextIO, TypeVar, cast

from advisor.advise.advice import Advice, VerifyAt
from advisor.advise.report import Report, split_unknown
from advisor.findings.model import Finding, Location
from advisor.kb import KnowledgeBase, Verdict
from advisor.kb.informational import load_informational
from advisor.kb.proof import proof_status
from advisor.messages import Msg, english_md, note_english, note_english_md
from advisor.render.escape import md_text
from advisor.render.plain import plain, warm

SCHEMA = "advisor-report/3"
V = TypeVar("V")


def _shared(advice: Advice) -> dict[str, Any]:
    """The part of a finding's record that depends on its context, not on its address."""
    entry = advice.entry
    ident = advice.identity
    matched = entry is not None and advice.verdict is Verdict.MATCHED
    return {
        "kb_id": entry.id if matched and entry else None,
        "kb_title": entry.title if matched and entry else None,
        "verdict": advice.verdict.value,
        "severity": advice.severity,
        # from messages, severity_reason is their English plain text already
        "severity_reason": advice.severity_reason
        if advice.severity_parts
        else plain(advice.severity_reason),
        "severity_reason_md": _markdown(advice.severity_parts)
        if advice.severity_parts
        else advice.severity_reason,
        "tls_mode": advice.tls_mode,
        "false_positive": "\n\n".join(note_english(n) for n in advice.false_positives) or None,
        "false_positive_md": "\n\n".join(note_english_md(n) for n in advice.false_positives)
        or None,
        "software": {
            "name": ident.software,
            "version": ident.version,
            "confidence": ident.confidence,
            "candidates": list(ident.candidates),
            "evidence": [
                {
                    "source": c.source,
                    "text": c.text,
                    "text_md": _markdown(c.parts) if c.parts else md_text(c.text),
                }
                for c in ident.clues
            ],
            "disagreement": ident.disagreement,
        },
        "fixes": [
            {
                "software": c.fix.software,
                "versions": c.fix.versions.describe(),
                "title": c.fix.title,
                "scope": c.fix.scope,
                "applies": c.applies,
                "config": c.config or None,
                "commands": list(c.commands),
                "reload": c.fix.reload or None,
                "recommended": c.fix.recommended,
                "already_applied": c.already_applied,
            }
            for c in advice.fixes
        ],
        "not_fixes": [
            {"change": n.change, "why": plain(n.why), "why_md": n.why} for n in advice.not_fixes
        ],
        "notes": [note_english(n) for n in advice.notes],
        "notes_md": [note_english_md(n) for n in advice.notes],
        "references": [r.url for r in entry.references] if entry is not None else [],
    }


@lru_cache(maxsize=4096)
def _markdown(parts: tuple[Msg, ...]) -> str:
    """Messages in English Markdown (clues repeat across the contexts of a scan)."""
    return english_md(parts)


def _own(advice: Advice, advice_id: str) -> dict[str, Any]:
    """The part of a finding's record that is its own: where, what nmap said, verify."""
    f = advice.finding
    loc = f.location
    entry = advice.entry
    matched = entry is not None and advice.verdict is Verdict.MATCHED
    return {
        "host": loc.host,
        "hostname": loc.hostname,
        "port": loc.port,
        "protocol": loc.protocol,
        "scope": loc.scope,
        "service": loc.service.name if loc.service and loc.service.name else None,
        "script": f.script,
        "kind": f.kind.value,
        "title": f.title,
        "state": f.state,
        "ids": list(f.ids),
        "kb_id": entry.id if matched and entry else None,
        "severity": advice.severity,
        "advice": advice_id,
        "verify": [{"command": cmd, "expect": plain(exp)} for cmd, exp in advice.verify],
        "nmap": {
            "table_key": f.table_key,
            "description": f.description or None,
            "check_results": list(f.check_results),
            "exploit_results": list(f.exploit_results),
            "extra_info": list(f.extra_info),
            "references": list(f.references),
            "disclosure": f.disclosure,
            "details": dict(f.details),
            "output": f.output if advice.entry is None else None,
            "problems": list(f.problems),
        },
    }


class FindingWriter:
    """Serialises findings one by one, numbering the distinct contexts (``advice``) as it
    goes; :attr:`advice` holds each one's record for the top-level ``advice`` object.

    A large scan repeats the same findings in the same contexts, so the parts of a record
    that do not name the endpoint are encoded once and reused (bounded caches)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[object, ...], tuple[Advice, str]] = {}
        self._by_digest: dict[bytes, str] = {}
        self._static: _TwoGenerations[tuple[str, Finding]] = _TwoGenerations(2_000)
        self._expects: dict[str, str] = {}
        self._repeats: _TwoGenerations[tuple[Advice, str]] = _TwoGenerations(500)
        self._verify: _TwoGenerations[tuple[VerifyAt, list[str]]] = _TwoGenerations(500)
        self._middles: dict[tuple[object, ...], str] = {}
        self._pieces: dict[str | tuple[str, ...], str] = {}
        self._where: Location | None = None
        self._where_text = ""
        self.advice: dict[str, str] = {}
        """Each distinct context's record by id, encoded (as ``json.dumps(record,
        ensure_ascii=False)`` writes it): a large diverse scan has thousands, and their
        text is a fraction of the memory their dicts would take."""

    def advice_id(self, advice: Advice) -> str:
        key = (
            id(advice.fixes),
            id(advice.identity),
            id(advice.entry),
            id(advice.notes),
            id(advice.false_positives),
            advice.verdict,
            advice.severity,
            advice.severity_reason,
            advice.tls_mode,
        )
        hit = self._ids.get(key)
        if hit is None:
            if len(self._ids) > 4_000:
                self._ids.clear()
            record = _shared(advice)
            # Named by content: equal records share an id, in any process and any run.
            canonical = json.dumps(record, ensure_ascii=False, sort_keys=True)
            digest = hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()
            name = self._by_digest.get(digest)
            if name is None:
                name = self._by_digest[digest] = self.add_record(digest, _encode(record))
            # the advice stays referenced so that the ids in the key stay unique
            hit = self._ids[key] = (advice, name)
        return hit[1]

    def _expect(self, text: str) -> str:
        """A verify step's expected result, as plain text, encoded (entries repeat them for
        every host)."""
        if len(self._expects) > 4_000:
            self._expects.clear()
        encoded = self._expects[text] = _str(plain(text))
        return cast(str, encoded)

    def add_record(self, digest: bytes, encoded: str) -> str:
        """Name a record by its content (``digest``: BLAKE2b-128 of its canonical JSON) and
        keep it (``encoded``)."""
        hexed = digest.hex()
        name = "A" + hexed[:12]
        if name in self.advice and self.advice[name] != encoded:
            name = "A" + hexed  # 48 bits collided: use all 128
        self.advice[name] = encoded
        return name

    def __call__(self, advice: Advice) -> str:
        """One finding's record: the same JSON as ``json.dumps(_own(advice, id))``."""
        static = self._static_parts(advice)
        expects = self._expects
        steps = ", ".join(
            f'{{"command": {_str(cmd)}, "expect": {expects.get(exp) or self._expect(exp)}}}'
            for cmd, exp in advice.verify
        )
        return self._record(advice.finding.location, static[0], steps, static[1])

    def repeat(self, first: Advice, finding: Finding, where: Location, verify: VerifyAt) -> str:
        """The record of a finding with ``first``'s advice at ``where`` (see
        :attr:`advisor.api.Options.on_repeat`): what :meth:`__call__` gives for
        ``replace(first, finding=finding.at(where), verify=verify.at(where))``. ``finding``
        is ``first``'s, the same under another run-numbered table key, or another finding
        whose advice reads the same (its own evidence)."""
        hit = self._repeats.get(id(first))
        if hit is None or hit[0] is not first:
            # the advice stays referenced so that its id stays unique
            hit = (first, self.advice_id(first))
            self._repeats.put(id(first), hit)
        middle = self._middle(first, hit[1], finding)
        nmap = self._evidence(finding, first.entry is None)
        pieces = self._verify.get(id(verify))
        if pieces is None or pieces[0] is not verify:
            pieces = (verify, _verify_pieces(verify))
            self._verify.put(id(verify), pieces)
        host = cast(str, _str(verify.host(where)))[1:-1]
        return self._record(where, middle, host.join(pieces[1]), nmap)

    def _static_parts(self, advice: Advice) -> tuple[str, str]:
        """The encoded parts of a record that do not name the endpoint: from ``"script"`` to
        ``"advice"``, and ``"nmap"``."""
        name = self.advice_id(advice)
        return self._middle(advice, name, advice.finding), self._evidence(
            advice.finding, advice.entry is None
        )

    def _evidence(self, f: Finding, show_output: bool) -> str:
        """The encoded ``"nmap"`` member of a record (see :meth:`_nmap`), cached by the
        finding's evidence, whatever its advice: one finding seen in many contexts, or under
        many run-numbered table keys, is encoded once."""
        # Repeats of a finding share its field objects (Finding.at, with_table_key), so
        # their identities key the cache; the cached value keeps the finding, so the ids
        # stay unique.
        key = (
            f.disclosure,
            id(f.description),
            id(f.check_results),
            id(f.exploit_results),
            id(f.extra_info),
            id(f.references),
            id(f.details),
            id(f.output) if show_output else None,
            id(f.problems),
        )
        hit = self._static.get(key)
        if hit is None:
            rest = _without_table_key(self._nmap(f, show_output), f.table_key)
            hit = (rest, f)
            self._static.put(key, hit)
        return f'{{"table_key": {_opt(f.table_key)}, {hit[0]}'

    def _middle(self, advice: Advice, name: str, f: Finding) -> str:
        """The encoded members from ``"script"`` to ``"advice"`` (see :func:`_own`) of ``f``
        under ``advice`` (named ``name``): they depend on the finding's title, state and ids
        and on its advice, not on its evidence, so the findings of distinct script results
        share them."""
        key = (name, f.script, f.kind, f.title, f.state, f.ids)
        hit = self._middles.get(key)
        if hit is None:
            if len(self._middles) > 20_000:
                self._middles.clear()
            if f is not advice.finding:
                advice = _with_finding(advice, f)
            own = _own(advice, name)
            hit = self._middles[key] = _encode({k: own[k] for k in _MIDDLE})[1:-1]
        return hit

    def _nmap(self, f: Finding, show_output: bool) -> str:
        """The encoded ``"nmap"`` member of :func:`_own`: the finding's own evidence, built
        from encoded pieces (descriptions, reference and check-result lists repeat across
        the findings of distinct script results)."""
        piece = self._piece
        details = dict(f.details)
        return (
            f'{{"table_key": {_opt(f.table_key)}, '
            f'"description": {piece(f.description) if f.description else "null"}, '
            f'"check_results": {piece(f.check_results)}, '
            f'"exploit_results": {piece(f.exploit_results)}, '
            f'"extra_info": {piece(f.extra_info)}, '
            f'"references": {piece(f.references)}, '
            f'"disclosure": {_opt(f.disclosure)}, '
            f'"details": {_encode(details) if details else "{}"}, '
            f'"output": {_opt(f.output) if show_output else "null"}, '
            f'"problems": {piece(f.problems)}}}'
        )

    def _piece(self, value: str | tuple[str, ...]) -> str:
        """A string or a list of strings, encoded (bounded cache by value)."""
        hit = self._pieces.get(value)
        if hit is None:
            if len(self._pieces) > 20_000:
                self._pieces.clear()
            hit = self._pieces[value] = _encode(list(value) if isinstance(value, tuple) else value)
        return hit

    def _record(self, loc: Location, middle: str, verify: str, nmap: str) -> str:
        if loc is not self._where:  # a port's findings come together: encode it once
            service = loc.service.name if loc.service and loc.service.name else None
            self._where = loc
            self._where_text = (
                f'{{"host": {_str(loc.host)}, "hostname": {_opt(loc.hostname)}, '
                f'"port": {_num(loc.port)}, "protocol": {_opt(loc.protocol)}, '
                f'"scope": {_str(loc.scope)}, "service": {_opt(service)}, '
            )
        return f'{self._where_text}{middle}, "verify": [{verify}], "nmap": {nmap}}}'


def _with_finding(advice: Advice, finding: Finding) -> Advice:
    """``advice`` for another finding of the same advice (its verify steps are not used)."""
    return Advice(
        finding,
        advice.verdict,
        advice.entry,
        advice.severity,
        advice.severity_reason,
        advice.tls_mode,
        advice.identity,
        advice.false_positives,
        advice.fixes,
        advice.not_fixes,
        advice.verify,
        advice.notes,
        advice.severity_parts,
    )


def _without_table_key(nmap: str, table_key: str | None) -> str:
    """An encoded ``"nmap"`` object after its first member, ``"table_key"`` (see _own)."""
    head = f'{{"table_key": {_opt(table_key)}, '
    if not nmap.startswith(head):
        raise AssertionError("the nmap object must start with its table key")
    return nmap[len(head) :]


def _verify_pieces(verify: VerifyAt) -> list[str]:
    """The encoded ``"verify"`` steps of a context, split where the (encoded) host goes.

    JSON escapes character by character, so encoding the pieces apart and joining them
    with the encoded host gives the encoding of the filled-in commands."""
    pieces = [""]
    for i, (parts, expect) in enumerate(verify.steps):
        pieces[-1] += (", " if i else "") + '{"command": "' + _str(parts[0])[1:-1]
        pieces.extend(cast(str, _str(part))[1:-1] for part in parts[1:])
        pieces[-1] += f'", "expect": {_str(plain(expect))}}}'
    return pieces


class _TwoGenerations(Generic[V]):
    """A bounded cache that keeps what is in use: when the young generation fills up it
    becomes the old one (and the old one goes); a hit in the old generation moves back.
    A scan's one-off findings pass through without evicting the ones that repeat."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._young: dict[object, V] = {}
        self._old: dict[object, V] = {}

    def get(self, key: object) -> V | None:
        hit = self._young.get(key)
        if hit is None:
            hit = self._old.pop(key, None)
            if hit is not None:
                self.put(key, hit)
        return hit

    def put(self, key: object, value: V) -> None:
        if len(self._young) >= self._size:
            self._old = self._young
            self._young = {}
        self._young[key] = value


_MIDDLE = ("script", "kind", "title", "state", "ids", "kb_id", "severity", "advice")
_str = json.encoder.encode_basestring  # the C-accelerated escaper json.dumps uses
#: ``json.dumps(value, ensure_ascii=False)`` without building an encoder per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _opt(value: str | None) -> str:
    return "null" if value is None else cast(str, _str(value))


def _num(value: int | None) -> str:
    return "null" if value is None else str(int(value))


class FindingSpool:
    """Findings written as they are advised, to a temporary file (flat memory for any scan
    size); :func:`render_json` copies them into the report.

    A scan read in parallel has one spool per part, written by another process through the
    inherited file; :meth:`adopt` appends them in order."""

    def __init__(self) -> None:
        warm()  # the spools of a parallel read are made before the workers are forked
        self.writer = FindingWriter()
        self.file: TextIO = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.count = 0
        self._pending: list[str] = []
        self._parts: list[FindingSpool] = []

    def add(self, advice: Advice) -> None:
        self._pending.append(self.writer(advice))
        if len(self._pending) >= 512:
            self.flush()

    def repeat(self, first: Advice, finding: Finding, where: Location, verify: VerifyAt) -> None:
        """:attr:`advisor.api.Options.on_repeat`: a repeat of ``first``'s finding."""
        self._pending.append(self.writer.repeat(first, finding, where, verify))
        if len(self._pending) >= 512:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.file.write(("" if not self.count else ",\n") + ",\n".join(self._pending))
            self.count += len(self._pending)
            self._pending.clear()
        self.file.flush()

    def adopt(self, part: FindingSpool, count: int, advice: dict[str, str]) -> None:
        """Append ``count`` findings another process wrote to ``part``, with its advice
        (records by id, encoded)."""
        for name, record in advice.items():
            if self.writer.advice.setdefault(name, record) != record:
                raise ValueError(f"advice id {name} names two different records")
        part.count = count
        self._parts.append(part)

    def copy_to(self, out: TextIO) -> None:
        """Write the comma-separated records of this spool and the adopted ones, in order;
        byte for byte when ``out`` has a binary buffer (no decoding and re-encoding of a
        report that can be hundreds of megabytes)."""
        raw = getattr(out, "buffer", None)
        if raw is not None:
            out.flush()
        first = True
        for spool in (self, *self._parts):
            spool.flush()
            if not spool.count:
                continue
            if not first:
                out.write(",\n") if raw is None else raw.write(b",\n")
            first = False
            spool.file.seek(0)
            if raw is None:
                shutil.copyfileobj(spool.file, out, 1 << 16)
            else:
                shutil.copyfileobj(spool.file.buffer, raw, 1 << 20)

    def close(self) -> None:
        for spool in (self, *self._parts):
            spool.file.close()


def finding_record(advice: Advice) -> dict[str, Any]:
    """One finding with its advice resolved (the version 1 shape): for library use."""
    return _own(advice, "") | _shared(advice)


def _scan(report: Report) -> dict[str, Any]:
    s = report.scan
    return {
        "source": report.source,
        "format": s.source_format,
        "scanner": s.scanner,
        "version": s.version,
        "args": s.args,
        "start": s.start,
        "complete": s.complete,
        "problem": s.problem,
        "recovered": [
            {
                "kind": r.kind,
                "line": r.line,
                "column": r.column,
                "offset": r.offset,
                "bound": r.bound or None,
                "excerpt": r.excerpt,
            }
            for r in s.recovered
        ],
        "hosts_read": report.hosts_read,
        "hosts_up": report.hosts_up,
        "hosts_total_reported": s.hosts_total,
    }


def _summary(report: Report, kb: KnowledgeBase) -> dict[str, Any]:
    proofs = proof_status(kb)
    informational, unknown = split_unknown(report, load_informational(kb.root))
    return {
        "findings": report.finding_count,
        "by_severity": {k: v for k, v in report.severity_counts.items() if v},
        "groups": [
            {
                "kb_id": g.entry.id if g.entry else None,
                "title": g.title,
                "script": g.script,
                "severity": g.severity,
                "count": g.count,
                "hosts": len(g.hosts),
                "proven": proofs.get(g.entry.id, []) if g.entry else [],
            }
            for g in report.sorted_groups()
        ],
        "clean": [{"title": t, "count": n} for t, n in sorted(report.clean.items())],
        "unknown_scripts": [
            {
                "script": u.script,
                "count": u.count,
                "endpoints": u.endpoints[:50],
                "sample_output": u.samples[0].output if u.samples else "",
            }
            for u in unknown
        ],
        "informational": [
            {
                "script": i.script,
                "severity": i.severity,
                "count": i.count,
                "hosts": i.hosts,
                "weakness_entries": i.info.weakness,
                "text": i.info.line("en"),
                "translations": {k: v for k, v in sorted(i.info.lines.items()) if k != "en"},
            }
            for i in informational
        ],
        "false_positive_notes": report.false_positive_count,
        "accepted": [
            {
                "kb_id": a.entry.id,
                "reason": a.rule.reason,
                "accepted_by": a.rule.accepted_by,
                "expires": a.rule.expires.isoformat() if a.rule.expires else None,
                "endpoints": a.endpoints,
            }
            for a in report.accepted.values()
        ],
        "expired_acceptances": report.expired_acceptances,
        "warnings": report.warnings,
        "evidence": [plain(line) for line in report.evidence],
    }


def render_json(
    report: Report, out: TextIO, kb: KnowledgeBase, findings: FindingSpool | None = None
) -> None:
    """Write the report; without a spool of findings, they are rebuilt from the report."""
    spool = findings if findings is not None else _rebuild(report)
    head = {"schema": SCHEMA, "scan": _scan(report), "summary": _summary(report, kb)}
    text = json.dumps(head, indent=2, ensure_ascii=False)
    out.write(text[:-2] + ',\n  "advice": {')
    for i, (name, record) in enumerate(spool.writer.advice.items()):
        sep = "," if i else ""
        out.write(f"{sep}\n    {json.dumps(name)}: {record}")
    out.write('\n  },\n  "findings": [\n')
    spool.copy_to(out)
    out.write("\n  ]\n}\n")
    if findings is None:
        spool.close()


def _rebuild(report: Report) -> FindingSpool:
    spool = FindingSpool()
    writer = spool.writer
    for group in report.sorted_groups():
        for variant in group.sorted_variants():
            record = _own(variant.advice, writer.advice_id(variant.advice))
            for loc in variant.locations:
                record.update(
                    host=loc.host,
                    hostname=loc.hostname,
                    port=loc.port,
                    protocol=loc.protocol,
                    scope=loc.scope,
                )
                spool._pending.append(json.dumps(record, ensure_ascii=False))
                if len(spool._pending) >= 512:
                    spool.flush()
    return spool
