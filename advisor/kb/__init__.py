"""Stage 3 of the pipeline: the knowledge base, loaded from ``knowledge/`` and matched.

Entries are TOML data (docs/knowledge-format.md), validated when loaded. :meth:`KnowledgeBase.match`
says which entry explains a :class:`~advisor.findings.Finding`, or that the finding is a clean
result, or that nothing is known about it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from advisor.findings.freeform import ENGINE_ERROR
from advisor.findings.model import NOT_VULNERABLE, Finding, Kind
from advisor.kb.cache import parse_files
from advisor.kb.schema import Entry, EntryError, parse_entry

__all__ = ["Entry", "EntryError", "KnowledgeBase", "MatchResult", "Verdict", "knowledge_dir"]

_ENV = "ADVISOR_KNOWLEDGE"


def knowledge_dir() -> Path:
    """Where the knowledge base lives: ``$ADVISOR_KNOWLEDGE``, the source tree, or the install."""
    env = os.environ.get(_ENV)
    if env:
        return Path(env)
    source_tree = Path(__file__).resolve().parents[2] / "knowledge"
    if (source_tree / "entries").is_dir():
        return source_tree
    return Path(__file__).resolve().parents[1] / "knowledge_data"


class Verdict(StrEnum):
    MATCHED = "matched"
    """An entry explains this finding."""
    CLEAN = "clean"
    """Checked and not vulnerable (``NOT VULNERABLE``, or a known 'nothing found' text)."""
    UNKNOWN = "unknown"
    """No entry for this script or this output."""


@dataclass(frozen=True, slots=True)
class MatchResult:
    verdict: Verdict
    entry: Entry | None = None


def _norm_id(value: str) -> str:
    value = value.strip().upper()
    return value.split(":", 1)[1] if value.startswith(("CVE:", "BID:", "OSVDB:")) else value


@dataclass
class KnowledgeBase:
    entries: dict[str, Entry]
    retired: frozenset[str] = frozenset()
    root: Path | None = None
    _by_script: dict[str, list[Entry]] = field(default_factory=dict, repr=False)
    _cache: dict[tuple[object, ...], MatchResult] = field(default_factory=dict, repr=False)
    """match() results for findings that are not free-form text (they repeat a lot)."""

    _engine_errors: list[Entry] = field(default_factory=list, repr=False)
    """Entries with ``error = true``: they explain nmap's engine error for any script."""

    def __post_init__(self) -> None:
        for entry in self.entries.values():
            for script in entry.match.scripts:
                self._by_script.setdefault(script, []).append(entry)
            if entry.match.error:
                self._engine_errors.append(entry)

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path | None = None) -> KnowledgeBase:
        """Load and validate every entry; raise :class:`EntryError` naming the first bad file."""
        kb, errors = cls.load_collecting(root)
        if errors:
            raise errors[0]
        return kb

    @classmethod
    def load_collecting(cls, root: Path | None = None) -> tuple[KnowledgeBase, list[EntryError]]:
        """Load what is valid and return the problems of what is not (for ``kb lint``)."""
        root = root or knowledge_dir()
        entries: dict[str, Entry] = {}
        errors: list[EntryError] = []
        retired_file = root / "retired.txt"
        retired = frozenset(
            line.split("#", 1)[0].strip()
            for line in (retired_file.read_text().splitlines() if retired_file.exists() else [])
            if line.split("#", 1)[0].strip()
        )
        files = sorted((root / "entries").glob("*.toml"))
        if not files:
            errors.append(EntryError(str(root), [f"no entries found in {root / 'entries'}"]))
        for path, data in zip(files, parse_files(files), strict=True):
            name = path.name
            if isinstance(data, str):
                errors.append(EntryError(name, [data]))
                continue
            try:
                entry = parse_entry(data, name)
            except EntryError as exc:
                errors.append(exc)
                continue
            problems = []
            if entry.id != path.stem:
                problems.append(f"id: {entry.id!r} does not match the file name {name!r}")
            if entry.id in retired:
                problems.append(
                    f"id: {entry.id} is retired (knowledge/retired.txt): never reuse it"
                )
            if entry.id in entries:
                problems.append(f"id: {entry.id} is used twice")
            if problems:
                errors.append(EntryError(name, problems))
                continue
            entries[entry.id] = entry
        slugs: dict[str, str] = {}
        for entry in entries.values():
            if entry.slug in slugs:
                errors.append(
                    EntryError(
                        f"{entry.id}.toml",
                        [f"slug: {entry.slug!r} already used by {slugs[entry.slug]}"],
                    )
                )
            slugs[entry.slug] = entry.id
        return cls(entries, retired, root), errors

    # -- lookup ----------------------------------------------------------------------------
    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id.upper())

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self.entries.values(), key=lambda e: e.id))

    def __len__(self) -> int:
        return len(self.entries)

    def candidates(self, script: str) -> list[Entry]:
        return self._by_script.get(script, []) + self._by_script.get("*", [])

    # -- matching --------------------------------------------------------------------------
    def forget_matches(self) -> None:
        """Empty the cache of :meth:`match` (it fills again as findings come)."""
        self._cache.clear()

    def match(self, finding: Finding) -> MatchResult:
        """The entry that explains ``finding``, a clean verdict, or unknown."""
        if finding.kind is Kind.OUTPUT:
            return self._match(finding)
        key = (
            finding.script,
            finding.kind,
            finding.title,
            finding.state,
            finding.ids,
            finding.detail("cert"),
        )
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 16_000:
                self._cache.clear()
            hit = self._cache[key] = self._match(finding)
        return hit

    def _match(self, finding: Finding) -> MatchResult:
        entries = self.candidates(finding.script)
        kind = finding.kind
        if kind is Kind.VULNS:
            return self._match_vulns(finding, entries)
        for entry in entries:
            m = entry.match
            if kind is Kind.WARNING and any(p.search(finding.title) for p in m.warnings):
                return MatchResult(Verdict.MATCHED, entry)
            if kind is Kind.GRADE and finding.title in m.grades:
                return MatchResult(Verdict.MATCHED, entry)
            if kind is Kind.PROTOCOL and finding.title in m.protocols:
                return MatchResult(Verdict.MATCHED, entry)
            if kind is Kind.VULNERS and m.vulners:
                return MatchResult(Verdict.MATCHED, entry)
            if kind is Kind.CERT and finding.detail("cert") in m.cert:
                return MatchResult(Verdict.MATCHED, entry)
            if kind is Kind.ERROR and m.error:
                return MatchResult(Verdict.MATCHED, entry)
        if kind is Kind.ERROR and self._engine_errors and ENGINE_ERROR.match(finding.title):
            # The engine's crash text is the same whatever the script (nse_main.lua): an entry
            # that explains errors explains it for scripts it does not list too.
            return MatchResult(Verdict.MATCHED, self._engine_errors[0])
        if kind is Kind.OUTPUT:
            text = finding.output
            for entry in entries:
                if any(p.search(text) for p in entry.match.clean_output):
                    return MatchResult(Verdict.CLEAN, entry)
            for entry in entries:
                if any(p.search(text) for p in entry.match.output):
                    return MatchResult(Verdict.MATCHED, entry)
        if kind in (Kind.PROTOCOL, Kind.GRADE):
            # Offering TLS 1.2/1.3 or an A/B grade is not a problem: nothing to explain.
            return MatchResult(Verdict.CLEAN)
        return MatchResult(Verdict.UNKNOWN)

    def match_all(self, finding: Finding) -> list[MatchResult]:
        """Every entry that explains ``finding``. Free-form output can hold several findings
        (http-cookie-flags prints one line per missing flag); other kinds have one."""
        if finding.kind is not Kind.OUTPUT:
            return [self.match(finding)]
        entries = self.candidates(finding.script)
        text = finding.output
        matched = [
            MatchResult(Verdict.MATCHED, e)
            for e in entries
            if any(p.search(text) for p in e.match.output)
        ]
        return matched or [self.match(finding)]

    def _match_vulns(self, finding: Finding, entries: list[Entry]) -> MatchResult:
        title = finding.title.lower()
        ids = {_norm_id(i) for i in finding.ids}
        clean = finding.state == NOT_VULNERABLE
        for entry in entries:
            m = entry.match
            if (m.titles and title in m.titles) or (m.ids and ids.intersection(m.ids)):
                if clean:
                    return MatchResult(Verdict.CLEAN, entry)
                if m.states and finding.state not in m.states:
                    continue
                return MatchResult(Verdict.MATCHED, entry)
        return MatchResult(Verdict.CLEAN if clean else Verdict.UNKNOWN)
