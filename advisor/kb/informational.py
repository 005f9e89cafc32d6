"""``knowledge/informational.toml``: one line per script of nmap's default, safe, auth categories.

Most scripts an admin gets from ``nmap -sC`` only describe (``nbstat``, ``rpcinfo``,
``traceroute-geolocation``): their output is no finding, and advisor shows each of them as
*informational* with one line saying what the output tells the admin, instead of "no knowledge
entry". Scripts whose output can state a weakness (``weakness = true``) have knowledge entries;
their line is shown when an output of theirs matched none of those entries (``ssh-hostkey``
with only strong keys). The file is data (docs/knowledge-format.md, "Informational scripts"),
validated when loaded; ``advisor kb lint`` adds the checks that need the source tree
(:func:`lint_informational`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from advisor.kb.cache import parse_files
from advisor.kb.schema import EntryError

__all__ = [
    "FILE_NAME",
    "FROZEN_LIST",
    "InfoLine",
    "Informational",
    "InformationalError",
    "frozen_scripts",
    "lint_informational",
    "load_informational",
    "parse_informational",
]

FILE_NAME = "informational.toml"
#: The scripts of nmap 7.93's default, safe and auth categories, frozen from script.db
#: (relative to the repository root: the source tree has it, an install does not).
FROZEN_LIST = Path("tests") / "data" / "nmap-default-safe-auth-7.93.txt"
#: Languages every line must have (English is the text; the others are translations).
REQUIRED_LANGUAGES = ("en", "ja")
_KEYS = {"id", "weakness"}
_MARKUP = re.compile(r"[`*<>\[\]|\\]")


class InformationalError(EntryError):
    """``informational.toml`` does not follow its format: one ``file: key: problem`` line each."""


@dataclass(frozen=True, slots=True)
class InfoLine:
    """What one script's output tells the admin, in each language."""

    script: str
    """The NSE script id (``http-title``)."""
    weakness: bool
    """Its output can state a weakness: knowledge entries explain that; this line is shown
    for an output of it that matched none of them."""
    lines: Mapping[str, str]
    """Language code -> the line (``en`` always present)."""

    def line(self, lang: str = "en") -> str:
        """The line in ``lang``; English when there is none in that language."""
        return self.lines.get(lang) or self.lines["en"]

    def translated(self, lang: str) -> bool:
        return lang == "en" or bool(self.lines.get(lang))


@dataclass(frozen=True, slots=True)
class Informational:
    """Every script's line, by script id."""

    scripts: Mapping[str, InfoLine] = field(default_factory=dict)
    source: Path | None = None

    def get(self, script: str) -> InfoLine | None:
        return self.scripts.get(script)

    def __contains__(self, script: object) -> bool:
        return script in self.scripts

    def __iter__(self) -> Iterator[InfoLine]:
        return iter(sorted(self.scripts.values(), key=lambda i: i.script))

    def __len__(self) -> int:
        return len(self.scripts)


def _languages() -> tuple[str, ...]:
    from advisor.i18n import available_languages  # advisor.i18n imports advisor.kb

    return tuple(available_languages())


def parse_informational(data: Mapping[str, Any], source: str) -> tuple[Informational, list[str]]:
    """The lines in a parsed ``informational.toml``, and every problem found (``key: what``)."""
    problems: list[str] = []
    languages = set(_languages()) | set(REQUIRED_LANGUAGES)
    for key in sorted(set(data) - {"script"}):
        problems.append(f"{key}: unknown key (only [[script]] tables)")
    rows = data.get("script", [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return Informational(source=Path(source)), [*problems, "script: must be [[script]] tables"]
    scripts: dict[str, InfoLine] = {}
    for i, row in enumerate(rows):
        sid = row.get("id")
        where = f"script[{i}]" + (f" ({sid})" if isinstance(sid, str) else "")
        row_problems = []
        if not isinstance(sid, str) or not sid.strip() or sid != sid.strip():
            row_problems.append(f"{where}.id: a script id is required (e.g. 'http-title')")
        for key in sorted(set(row) - _KEYS - languages):
            row_problems.append(
                f"{where}.{key}: unknown key (allowed: id, weakness, "
                f"{', '.join(sorted(languages))})"
            )
        weakness = row.get("weakness", False)
        if not isinstance(weakness, bool):
            row_problems.append(f"{where}.weakness: must be true or false")
        lines: dict[str, str] = {}
        for lang in sorted(languages):
            text = row.get(lang)
            if text is None:
                if lang in REQUIRED_LANGUAGES:
                    row_problems.append(f"{where}.{lang}: the line in {lang!r} is missing")
                continue
            if not isinstance(text, str) or not text.strip():
                row_problems.append(f"{where}.{lang}: must be a non-empty line")
            elif "\n" in text.strip():
                row_problems.append(f"{where}.{lang}: one line only")
            elif _MARKUP.search(text):
                row_problems.append(
                    f"{where}.{lang}: plain text only (no {_MARKUP.pattern[1:-1]}): the line is "
                    "shown as it is in Markdown, HTML and JSON"
                )
            else:
                lines[lang] = text.strip()
        if isinstance(sid, str) and sid in scripts:
            row_problems.append(f"{where}.id: {sid!r} is listed twice")
        problems.extend(row_problems)
        if not row_problems and isinstance(sid, str) and isinstance(weakness, bool):
            scripts[sid] = InfoLine(sid, weakness, lines)
    return Informational(scripts, Path(source)), problems


def load_informational(root: Path | None) -> Informational:
    """The lines of the knowledge base at ``root`` (none when it has no file, or ``root`` is
    None); raise :class:`InformationalError` naming the file and key of the first problems."""
    if root is None:
        return Informational()
    path = root / FILE_NAME
    try:
        stat = path.stat()
    except OSError:
        return Informational()
    return _load(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int, size: int) -> Informational:
    """Parsed once per file version, through the knowledge cache (advisor/kb/cache.py: TOML
    parsing is slow, the same data as JSON is not)."""
    (data,) = parse_files([path])
    if isinstance(data, str):
        raise InformationalError(path.name, [data])
    info, problems = parse_informational(data, str(path))
    if problems:
        raise InformationalError(path.name, problems)
    return info


def frozen_scripts(path: Path) -> list[str]:
    """Script ids in a frozen list (one a line, ``#`` comments)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def lint_informational(root: Path) -> list[str]:
    """``advisor kb lint``'s checks of ``informational.toml``: its format, and (in the source
    tree, where the frozen list of nmap 7.93's default/safe/auth scripts is) that every id is
    one of those scripts. A knowledge directory without the file has nothing to check."""
    path = root / FILE_NAME
    if not path.exists():
        return []
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        return [f"{FILE_NAME}: not valid TOML: {exc}"]
    _, problems = parse_informational(data, str(path))
    out = [f"{FILE_NAME}: {p}" for p in problems]
    frozen = root.parent / FROZEN_LIST
    if frozen.exists():
        known = set(frozen_scripts(frozen))
        for i, row in enumerate(data.get("script", [])):
            sid = row.get("id") if isinstance(row, dict) else None
            if isinstance(sid, str) and sid not in known:
                out.append(
                    f"{FILE_NAME}: script[{i}] ({sid}).id: not a script of nmap 7.93's "
                    f"default, safe or auth categories ({FROZEN_LIST})"
                )
    return out
