"""``advisor kb lint``: the schema, plus the rules that span files.

* every entry parses and validates (schema.py), IDs match file names, are unique, not retired;
* placeholders in commands are known ones;
* every entry has at least one positive and one negative nmap sample, each with provenance in
  ``SOURCES.toml``, and each positive sample really produces a finding of that entry while each
  negative one does not;
* translation overlays name existing entries and only known fields, and record the digest of
  the English they translate (``english_sha256``): a translation of English that has changed
  since is stale (advisor/kb/translation.py);
* ``informational.toml`` follows its format, with an English and a Japanese line per script,
  each script once and one of nmap 7.93's default/safe/auth scripts
  (advisor/kb/informational.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from advisor.advise.advice import Advice
from advisor.kb import KnowledgeBase, Verdict
from advisor.kb.informational import lint_informational
from advisor.kb.proof import MATRIX_NAME
from advisor.kb.schema import UNPROVEN_REASONS
from advisor.kb.translation import DIGEST_KEY, english_digest

_PLACEHOLDER = re.compile(r"(?<!%)\{([a-z_]+)\}")  # %{http_code} is curl syntax
_KNOWN_PLACEHOLDERS = {"service", "port", "host"}
#: Verify commands also get the finding's own values (advisor.advise.advice.NOTE_PLACEHOLDERS).
_VERIFY_PLACEHOLDERS = _KNOWN_PLACEHOLDERS | {"deb_package", "rpm_package", "product", "cve"}
_OVERLAY_KEYS = {
    "title",
    "summary",
    "meaning",
    "why",
    "detection",
    "severity_reason",
    "severity_context",
    "false_positives",
    "fixes",
    "not_fixes",
    "verify",
    "references",
    DIGEST_KEY,
}


def default_samples_dir(knowledge: Path) -> Path:
    return knowledge.parent / "tests" / "kb_samples"


def sample_matches(path: Path, kb: KnowledgeBase) -> set[str]:
    """IDs of the entries that the findings in one nmap sample match: the same pipeline as
    ``advisor explain``, so a sample passes lint exactly when the report shows the entry."""
    from advisor.api import Options, explain

    found: set[str] = set()

    def collect(advice: Advice) -> None:
        if advice.verdict is Verdict.MATCHED and advice.entry is not None:
            found.add(advice.entry.id)

    with path.open("rb") as fh:
        explain(fh, kb, Options(on_advice=collect, guess_os=False))
    return found


def _check_samples(kb: KnowledgeBase, samples: Path) -> list[str]:
    problems: list[str] = []
    for entry in kb:
        folder = samples / entry.id
        positives = sorted(folder.glob("positive-*")) if folder.is_dir() else []
        negatives = sorted(folder.glob("negative-*")) if folder.is_dir() else []
        where = f"{entry.id}.toml: samples"
        if not positives:
            problems.append(f"{where}: no positive sample in {folder}/positive-*")
        if not negatives:
            problems.append(f"{where}: no negative sample in {folder}/negative-*")
        sources_file = folder / "SOURCES.toml"
        sources: dict[str, object] = {}
        if folder.is_dir():
            if not sources_file.exists():
                problems.append(f"{where}: {sources_file} is missing (provenance of each sample)")
            else:
                try:
                    with sources_file.open("rb") as fh:
                        sources = tomllib.load(fh)
                except tomllib.TOMLDecodeError as exc:
                    problems.append(f"{where}: {sources_file.name} is not valid TOML: {exc}")
        for sample in positives + negatives:
            if sources and not _described(sources, sample.name):
                problems.append(f"{where}: {sample.name} has no provenance in SOURCES.toml")
            try:
                matched = sample_matches(sample, kb)
            except Exception as exc:
                problems.append(f"{where}: {sample.name} cannot be read: {exc}")
                continue
            is_positive = sample.name.startswith("positive-")
            if is_positive and entry.id not in matched:
                problems.append(f"{where}: {sample.name} does not produce a finding of {entry.id}")
            if not is_positive and entry.id in matched:
                problems.append(f"{where}: {sample.name} produces a finding of {entry.id}")
    return problems


def _described(sources: dict[str, object], name: str) -> bool:
    if name in sources:
        return True
    files = sources.get("files") or sources.get("file") or sources.get("samples")
    if isinstance(files, list):
        return any(isinstance(f, dict) and f.get("file", f.get("name")) == name for f in files)
    if isinstance(files, dict):
        return name in files
    return False


def _check_overlays(kb: KnowledgeBase, root: Path) -> list[str]:
    problems: list[str] = []
    for path in sorted((root / "i18n").glob("*/*.toml")):
        rel = f"i18n/{path.parent.name}/{path.name}"
        if kb.get(path.stem) is None:
            problems.append(f"{rel}: no entry {path.stem}")
            continue
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{rel}: not valid TOML: {exc}")
            continue
        for key in sorted(data.keys() - _OVERLAY_KEYS):
            problems.append(
                f"{rel}: unknown key {key!r} (allowed: {', '.join(sorted(_OVERLAY_KEYS))})"
            )
        entry = kb.get(path.stem)
        recorded = data.get(DIGEST_KEY)
        stamp_hint = f"python -m advisor.kb.translation stamp knowledge/{rel}"
        if entry is not None and recorded is None:
            problems.append(
                f"{rel}: no {DIGEST_KEY}: which English was translated is unknown "
                f"(check the translation, then run {stamp_hint})"
            )
        elif entry is not None and recorded != english_digest(entry, data):
            problems.append(
                f"{rel}: stale translation: entries/{entry.id}.toml changed since it was "
                f"translated (update the translation, then run {stamp_hint})"
            )
    return problems


def _fix_contradictions(kb: KnowledgeBase) -> list[str]:
    """A change listed as not fixing the finding must not also be offered as a fix (same
    software, same settings, overlapping ports and versions)."""
    problems = []
    for entry in kb:
        for i, fix in enumerate(entry.fixes):
            for j, nf in enumerate(entry.not_fixes):
                if not fix.settings or dict(fix.settings) != dict(nf.settings):
                    continue
                if nf.software is not None and nf.software != fix.software:
                    continue
                if fix.ports and nf.ports and not set(fix.ports) & set(nf.ports):
                    continue
                if not (
                    fix.versions.is_any
                    or nf.versions.is_any
                    or fix.versions.text == nf.versions.text
                ):
                    continue
                problems.append(
                    f"{entry.id}.toml: fixes[{i}] applies the same settings as not_fixes[{j}] "
                    f"({nf.change!r}): a change cannot both fix and not fix the finding"
                )
    return problems


def _check_proof(root: Path) -> list[str]:
    """Every fix the committed proof matrix lists as not proven has one reason from the closed
    list (:data:`~advisor.kb.schema.UNPROVEN_REASONS`)."""
    try:
        doc = json.loads((root / MATRIX_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        return [f"{MATRIX_NAME}: unreadable ({exc})"]
    problems = []
    rows = doc.get("not_provable", []) if isinstance(doc, dict) else []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        reason = row.get("reason")
        if reason in UNPROVEN_REASONS and row.get("why") == UNPROVEN_REASONS[reason]:
            continue
        problems.append(
            f"{MATRIX_NAME}: {row.get('entry')} fix {row.get('fix')!r} ({row.get('software')}) "
            "is not proven and has no reason from the closed list "
            f"({row.get('detail') or row.get('why')}): "
            "add a proof case in tests/proof, or set the fix's unproven key "
            f"({', '.join(UNPROVEN_REASONS)})"
        )
    return problems


def lint(root: Path, samples: Path | None = None) -> tuple[list[str], int]:
    """All problems in the knowledge base at ``root``; and how many entries were checked."""
    kb, errors = KnowledgeBase.load_collecting(root)
    problems = [f"{e.source}: {p}" for e in errors for p in e.problems]
    for entry in kb:
        texts = [(c, _KNOWN_PLACEHOLDERS) for f in entry.fixes for c in f.commands]
        texts += [(v.command, _VERIFY_PLACEHOLDERS) for v in entry.verify]
        for text, known in texts:
            for name in _PLACEHOLDER.findall(text):
                if name not in known:
                    problems.append(f"{entry.id}.toml: unknown placeholder {{{name}}} in {text!r}")
    samples = samples or default_samples_dir(root)
    if samples.is_dir():
        problems += _check_samples(kb, samples)
    problems += _fix_contradictions(kb)
    problems += _check_overlays(kb, root)
    problems += lint_informational(root)
    problems += _check_proof(root)
    return problems, len(kb) + len(errors)
