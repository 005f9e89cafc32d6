"""Sentences built by the code (not the templates), kept translatable and format-neutral.

A message is a key of ``advisor/locales/<lang>.toml`` and its arguments. Code that explains
evidence (who holds a port, which release was assumed) builds messages; the renderers turn
them into text in the report's language. One source for the English wording, no sentences
hidden in Python for translators to miss.

Messages hold structured text, not formatted text: an argument that is a literal value (a
software or process name, an endpoint, a CPE, a setting) is a :class:`Code`, and a run of
words and literal values is a tuple of both (:data:`Seg`). Each output format decides what a
literal looks like:

- :func:`english` / :meth:`advisor.i18n.Catalog.parts`: plain text (JSON, SARIF, CSV,
  terminals): the raw value, control characters shown as ``\\xNN``;
- :func:`english_md` / :meth:`advisor.i18n.Catalog.parts_md`: Markdown (the Markdown and
  HTML reports): a code span made by :func:`advisor.render.escape.code`.

The message templates themselves are trusted inline Markdown (code spans such as ```master```,
emphasis that may open in one message and close in the next); the plain forms drop that
markup, converting the joined templates of a text at once
(:func:`advisor.render.plain.plain_inline`, cached per sequence of templates). Words given as
``str`` are inserted as they are in Markdown: pass scan or evidence values as :class:`Code`.
Messages are tuples of strings and small named tuples: hashable, cheap to pickle to worker
processes (:mod:`advisor.parallel`) and to keep in caches (:mod:`advisor.findings.memo`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from string import Formatter
from typing import NamedTuple

from advisor.render.escape import code, neutralise


class Code(NamedTuple):
    """A literal value inside a message: a code span in Markdown, the value itself in plain
    text. Scan and evidence values (endpoints, process names, CPEs) are untrusted."""

    text: str


Seg = str | Code
"""A piece of a run of text: words (``str``) or a literal value."""
Arg = str | Code | tuple[Seg, ...]
"""A message argument: words, a literal value, or a run of both."""
Msg = tuple[str, tuple[tuple[str, Arg], ...]]
"""A message key of ``advisor/locales/<lang>.toml`` and its arguments."""

#: The key of a message that is not translated (:func:`text`): its template is ``{text}``.
TEXT = "="

LOCALES = Path(__file__).parent / "locales"


@cache
def english_strings() -> dict[str, str]:
    with (LOCALES / "en.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return {k: v for k, v in data.items() if isinstance(v, str)}


def msg(key: str, **args: object) -> Msg:
    """The message ``key`` with ``args``: a :class:`Code` or a tuple of segments is kept as
    it is, anything else becomes its ``str``."""
    return key, tuple(
        (k, v if isinstance(v, tuple) else str(v))  # Code is a (named) tuple
        for k, v in args.items()
    )


def text(*segments: Seg) -> Msg:
    """A message that is the same in every language (e.g. wording that comes from a parser
    and has no translation yet), made of words and literal values."""
    return TEXT, (("text", tuple(segments)),)


Note = str | tuple[Msg, ...]
"""A remark in an advisory: trusted Markdown text (English), or messages."""


def english(parts: tuple[Msg, ...]) -> str:
    """``parts`` in English, as plain text."""
    return format_parts(parts, english_strings().__getitem__, markdown=False)


def english_md(parts: tuple[Msg, ...]) -> str:
    """``parts`` in English, as Markdown (literal values in code spans)."""
    return format_parts(parts, english_strings().__getitem__, markdown=True)


def note_english(note: Note) -> str:
    """A note in English, as plain text."""
    if isinstance(note, str):
        from advisor.render.plain import plain

        return plain(note)
    return english(note)


def note_english_md(note: Note) -> str:
    """A note in English, as Markdown."""
    return note if isinstance(note, str) else english_md(note)


def format_parts(parts: tuple[Msg, ...], template: Callable[[str], str], *, markdown: bool) -> str:
    """``parts`` with each key's text from ``template`` (trusted inline Markdown), as
    Markdown or as plain text."""
    templates = tuple(template(key) if key != TEXT else "{text}" for key, _ in parts)
    if markdown:
        return "".join(
            t.format(**{k: _md(v) for k, v in args})
            for t, (_, args) in zip(templates, parts, strict=True)
        )
    pieces, fields = _plain_skeleton(templates)
    values = [dict(args) for _, args in parts]
    out = [pieces[0]]
    for (i, name, spec), piece in zip(fields, pieces[1:], strict=True):
        out.append(format(_plain(values[i][name]), spec))
        out.append(piece)
    return "".join(out)


#: Stand-ins for the arguments while the joined templates are made plain (private use).
_FIELD = 0xE000
_MARKUP = re.compile(r"[`*_\\[\]<&!]")


@cache
def _plain_skeleton(
    templates: tuple[str, ...],
) -> tuple[list[str], list[tuple[int, str, str]]]:
    """The plain text of the joined ``templates`` around their fields: text pieces and, for
    each field between two pieces, (message index, name, format spec).

    The templates are made plain together, since markup may span two of them (``from **``,
    ``{level}``, ``** to``); each field stands in as one letter-like character, so it takes
    part in the Markdown the way a plain word would."""
    joined: list[str] = []
    fields: list[tuple[int, str, str]] = []
    for i, t in enumerate(templates):
        for literal, name, spec, conversion in Formatter().parse(t):
            joined.append(literal)
            if name is not None:
                if conversion:
                    raise ValueError(f"message template {t!r}: no conversions (!r, !s)")
                joined.append(chr(_FIELD + len(fields)))
                fields.append((i, name, spec or ""))
    text = "".join(joined)
    if _MARKUP.search(text) is not None:  # most messages: no need to load the parser
        from advisor.render.plain import plain_inline

        text = plain_inline(text)
    pieces = re.split(f"[{chr(_FIELD)}-{chr(_FIELD + max(len(fields), 1) - 1)}]", text)
    if len(pieces) != len(fields) + 1:
        raise AssertionError(f"message templates {templates!r} lost an argument")
    return pieces, fields


def _plain(value: Arg) -> str:
    if isinstance(value, Code):
        return neutralise(value.text)
    if isinstance(value, tuple):
        return "".join(_plain(v) for v in value)
    return neutralise(value)


def _md(value: Arg) -> str:
    if isinstance(value, Code):
        return code(value.text)
    if isinstance(value, tuple):
        return "".join(_md(v) for v in value)
    return value
