"""Sentences built by the code (not the templates), kept translatable.

A message is a key of ``advisor/locales/<lang>.toml`` and its arguments. Code that explains
evidence (who holds a port, which release was assumed) builds messages; the English text is
made from ``en.toml`` at once (for JSON and the default report), and the renderers re-read the
same messages in the report's language. One source for the English wording, no sentences
hidden in Python for translators to miss.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

Msg = tuple[str, tuple[tuple[str, str], ...]]

LOCALES = Path(__file__).parent / "locales"


@cache
def english_strings() -> dict[str, str]:
    with (LOCALES / "en.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return {k: v for k, v in data.items() if isinstance(v, str)}


def msg(key: str, **args: object) -> Msg:
    return key, tuple((k, str(v)) for k, v in args.items())


Note = str | tuple[Msg, ...]
"""A remark in an advisory: plain (English) text, or translatable messages."""


def note_english(note: Note) -> str:
    return note if isinstance(note, str) else english(note)


def english(parts: tuple[Msg, ...]) -> str:
    strings = english_strings()
    return "".join(strings[key].format(**dict(args)) for key, args in parts)
