"""Languages: fixed template strings and knowledge-entry text, as data.

English strings live in ``advisor/locales/en.toml``; another language adds
``advisor/locales/<lang>.toml`` (same keys) and ``knowledge/i18n/<lang>/ADV-nnnn.toml``
overlays for entries. A missing string falls back to English with a visible marker, so a
half-translated report is still complete. Commands, configuration lines and nmap's own strings
are never translated.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.kb import knowledge_dir
from advisor.kb.schema import Entry
from advisor.messages import Msg, format_parts

LOCALES = Path(__file__).parent / "locales"
#: ``locales/scope/<lang>.toml``: where a fix lives (``scope``), keyed by the English value, for
#: the values many entries share. An overlay's own ``fixes[i].scope`` comes first.
SCOPES = LOCALES / "scope"


def available_languages() -> list[str]:
    return sorted(p.stem for p in LOCALES.glob("*.toml"))


#: Remarks advisor adds to a reference's title, and the message that says it in a language.
_REFERENCE_REMARKS = (
    (
        re.compile(
            r"^(?P<title>.+?)(?: \(|, |; )(?:the reference nmap gives|reference given by nmap)\)?$"
        ),
        "ref_given_by_nmap",
    ),
)


@dataclass
class Catalog:
    lang: str = "en"
    strings: dict[str, str] = field(default_factory=dict)
    english: dict[str, str] = field(default_factory=dict)
    overlays: dict[str, dict[str, Any]] = field(default_factory=dict)
    marker: str = "[EN]"
    scopes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, lang: str = "en", knowledge: Path | None = None) -> Catalog:
        english = _read(LOCALES / "en.toml")
        if lang == "en":
            return cls("en", english, english, {})
        path = LOCALES / f"{lang}.toml"
        if not path.exists():
            raise ValueError(
                f"no translation for language {lang!r} "
                f"(available: {', '.join(available_languages())})"
            )
        strings = _read(path)
        overlays: dict[str, dict[str, Any]] = {}
        kdir = (knowledge or knowledge_dir()) / "i18n" / lang
        for p in sorted(kdir.glob("ADV-*.toml")):
            with p.open("rb") as fh:
                overlays[p.stem] = tomllib.load(fh)
        scope_file = SCOPES / f"{lang}.toml"
        scopes = _read(scope_file) if scope_file.exists() else {}
        return cls(lang, strings, english, overlays, strings.get("fallback_marker", "[EN]"), scopes)

    # -- fixed strings -------------------------------------------------------------------
    def t(self, key: str, **values: object) -> str:
        """A template string, formatted with ``values``; English (marked) when missing."""
        text = self.strings.get(key)
        if text is None:
            text = self.english.get(key, key)
            if self.lang != "en":
                text = f"{self.marker} {text}"
        return text.format(**values) if values else text

    def parts(self, parts: tuple[Msg, ...]) -> str:
        """Messages built by the code (advisor.messages), in this language, as plain text."""
        return format_parts(parts, self.t, markdown=False)

    def parts_md(self, parts: tuple[Msg, ...]) -> str:
        """Messages built by the code (advisor.messages), in this language, as Markdown."""
        return format_parts(parts, self.t, markdown=True)

    # -- entry text ------------------------------------------------------------------------
    def entry(
        self, entry: Entry, key: str, index: int | None = None, sub: str | None = None
    ) -> str:
        """Entry text in this language. ``key`` is a ``text`` field, ``title`` or
        ``severity_reason``; with ``index``/``sub`` an item of ``fixes``, ``not_fixes``,
        ``false_positives`` or ``verify``."""
        english = _english(entry, key, index, sub)
        if self.lang == "en" or not english:
            return english
        overlay = self.overlays.get(entry.id, {})
        value: Any = overlay.get(key)
        if index is not None:
            items = value if isinstance(value, list) else []
            value = (
                items[index].get(sub)
                if index < len(items) and isinstance(items[index], dict)
                else None
            )
        if isinstance(value, str) and value.strip():
            return value.strip()
        return f"{self.marker} {english}"

    def optional(self, entry: Entry, key: str, index: int, sub: str) -> str | None:
        """An optional overlay text (a fix's ``scope``, a not-fix's ``change``, a reference's
        ``title``: see :data:`advisor.kb.translation.OPTIONAL`), or None when the overlay leaves
        it in English. These are half literal, so English shows without the marker."""
        if self.lang == "en":
            return None
        items = self.overlays.get(entry.id, {}).get(key)
        if not isinstance(items, list) or index >= len(items) or not isinstance(items[index], dict):
            return None
        value = items[index].get(sub)
        return value.strip() if isinstance(value, str) and value.strip() else None

    def scope(self, entry: Entry, index: int) -> str:
        """Where fix ``index`` of ``entry`` lives, in this language: the overlay's text, the
        locale's shared translation of the English value, or the English value."""
        english = entry.fixes[index].scope or ""
        return self.optional(entry, "fixes", index, "scope") or self.scopes.get(english, english)

    def reference_title(self, entry: Entry, index: int) -> str:
        """A reference's title: the overlay's translation, else the document's own title with
        advisor's usual remark about it (``(reference given by nmap)``) translated."""
        own = self.optional(entry, "references", index, "title")
        if own is not None:
            return own
        title = entry.references[index].title
        if self.lang != "en":
            for pattern, key in _REFERENCE_REMARKS:
                if m := pattern.match(title):
                    return m["title"] + self.t(key)
        return title

    def source(self, source: str) -> str:
        """The label of a clue's source (``ss``, ``config``, ``port``...) in this language."""
        key = "src_" + source.strip("-").replace(" ", "_").replace("-", "_")
        return self.t(key) if key in self.english else source

    def translated(self, entry: Entry) -> bool:
        return entry.id in self.overlays


def _english(entry: Entry, key: str, index: int | None, sub: str | None) -> str:
    if index is None:
        if key == "title":
            return entry.title
        if key == "severity_reason":
            return entry.severity.reason
        return str(getattr(entry.text, key, ""))
    items: tuple[Any, ...] = (
        entry.severity.context if key == "severity_context" else getattr(entry, key, ())
    )
    if index >= len(items):
        return ""
    return str(getattr(items[index], sub or "", "") or "")


def _read(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return {k: v for k, v in data.items() if isinstance(v, str)}
