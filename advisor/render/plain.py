"""Markdown to plain text, for formats whose consumers show text as it is (JSON, SARIF, CSV).

Knowledge entries are written in a small subset of CommonMark (code spans, emphasis, links,
lists, the odd fenced block). :func:`plain` turns such text into something a person reads
comfortably where no Markdown renderer runs:

- code spans become their content, emphasis and strong emphasis their words;
- a link becomes its text, followed by `` (URL)`` when the text is not the URL itself;
  an image becomes its alt text;
- paragraphs are reflowed (a soft line break is a space) and separated by a blank line;
- list items keep a ``-`` or ``1.`` marker, nested content is indented under it;
- fenced and indented code blocks keep their lines verbatim, indented by four spaces;
- headings become their text, block quotes keep a ``> `` prefix;
- backslash escapes and entities are resolved (``\\*`` is ``*``, ``&amp;`` is ``&``).

Control characters are shown as ``\\xNN`` (:func:`advisor.render.escape.neutralise`), so the
result is safe on a terminal too. Raw HTML is not interpreted: it stays literal text.

:func:`plain_line` is the same text on one line, for single-line fields (titles, CSV cells).
:func:`plain_inline` converts a fragment of a sentence (the joined templates of a message,
see :mod:`advisor.messages`): inline Markdown only, surrounding spaces kept. Results are
cached: the same text is converted once per process, and a single line without markup
characters is returned as it is without loading the parser.

Plain text of the rest of a report, for renderers (the JSON renderer does this):

- knowledge text (``Entry.text``, severity reasons, false-positive notes, ``why``,
  ``expect``, fix notes): ``plain(text)``; titles carry no markup;
- messages built by the code (``Clue.parts``, ``ChosenFix.applies_parts``):
  :func:`advisor.messages.english` (or ``Catalog.parts`` in another language);
  ``Clue.text`` and ``ChosenFix.applies`` already hold that English plain text;
- ``Advice.notes``: :func:`advisor.messages.note_english`;
- report ``evidence`` lines: ``plain(line)``; ``warnings`` are plain already.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from advisor.render.escape import neutralise

if TYPE_CHECKING:  # markdown-it is imported when a text first needs it (not for one-liners)
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from markdown_it.tree import SyntaxTreeNode

__all__ = ["plain", "plain_inline", "plain_line", "warm"]

#: Indentation of code-block lines in the plain text.
CODE_INDENT = "    "


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # The same dialect the HTML renderer uses: CommonMark, raw HTML off, no linkify.
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def warm() -> None:
    """Load the Markdown parser now: before forking workers that will each need it
    (:mod:`advisor.parallel`), so that it is loaded once."""
    _parser()


def _tree(tokens: list[Token]) -> SyntaxTreeNode:
    from markdown_it.tree import SyntaxTreeNode

    return SyntaxTreeNode(tokens)


#: Text that can hold Markdown: markup characters anywhere, or a line break.
_MARKUP = re.compile(r"[\n`*_\[\]<>&\\!|~]")
#: What starts a block (list, heading, quote, code, thematic break) on a single line.
_BLOCK_START = re.compile(r"\s|[-+=#>]|\d+[.)]")


@lru_cache(maxsize=4096)
def plain(md: str | None) -> str:
    """``md`` (trusted Markdown, e.g. knowledge-entry text) as plain text."""
    if not md or not md.strip():
        return ""
    if _MARKUP.search(md) is None and _BLOCK_START.match(md) is None and not md[-1].isspace():
        return neutralise(md)  # one plain line: nothing to convert (and no parser to load)
    root = _tree(_parser().parse(md))
    return neutralise(_blocks(root.children).strip("\n"))


@lru_cache(maxsize=4096)
def plain_line(md: str | None) -> str:
    """:func:`plain` with every run of whitespace (line breaks included) made one space."""
    return " ".join(plain(md).split())


@lru_cache(maxsize=1024)
def plain_inline(md: str) -> str:
    """A fragment of running text (``md`` is trusted inline Markdown) as plain text: code
    spans, emphasis and links as in :func:`plain`; no block structure is recognised and
    leading or trailing spaces are kept, so fragments can be joined."""
    if not md:
        return ""
    (inline,) = _tree(_parser().parseInline(md)).children  # one "inline" node
    return neutralise(_span(inline))


def _blocks(nodes: list[SyntaxTreeNode], tight: bool = False) -> str:
    sep = "\n" if tight else "\n\n"
    return sep.join(text for node in nodes if (text := _block(node, tight)))


def _block(node: SyntaxTreeNode, tight: bool) -> str:
    kind = node.type
    if kind in ("paragraph", "heading"):
        return _inline(node)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind in ("fence", "code_block"):
        lines = node.content.rstrip("\n").split("\n")
        return "\n".join(CODE_INDENT + line if line else "" for line in lines)
    if kind == "blockquote":
        inner = _blocks(node.children)
        return "\n".join("> " + line if line else ">" for line in inner.split("\n"))
    if kind == "hr":
        return "----"
    if kind == "html_block":  # not produced with html off; kept literal if it ever is
        return node.content.rstrip("\n")
    return _blocks(node.children, tight)


def _list(node: SyntaxTreeNode) -> str:
    ordered = node.type == "ordered_list"
    number = int(node.attrs.get("start", 1) or 1) if ordered else 0
    # markdown-it marks the paragraphs of a tight list hidden; a loose list gets blank lines.
    tight = all(
        child.hidden
        for item in node.children
        for child in item.children
        if child.type == "paragraph"
    )
    items = []
    for i, item in enumerate(node.children):
        marker = f"{number + i}. " if ordered else "- "
        body = _blocks(item.children, tight)
        pad = " " * len(marker)
        lines = body.split("\n") if body else [""]
        items.append(
            "\n".join(
                [marker + lines[0]] + [pad + line if line else "" for line in lines[1:]]
            ).rstrip()
        )
    return ("\n" if tight else "\n\n").join(items)


def _inline(node: SyntaxTreeNode) -> str:
    out: list[str] = []
    for child in node.children:
        out.append(_span(child))
    return "".join(out).strip()


def _span(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in ("text", "code_inline", "html_inline"):
        return node.content
    if kind == "softbreak":
        return " "
    if kind == "hardbreak":
        return "\n"
    if kind == "image":
        return "".join(_span(c) for c in node.children) or str(node.attrs.get("alt", ""))
    if kind == "link":
        text = "".join(_span(c) for c in node.children)
        url = str(node.attrs.get("href", ""))
        if node.markup == "autolink" or not url or url in (text, f"mailto:{text}"):
            return text or url
        return f"{text} ({url})"
    # inline, em, strong and anything else: the words inside
    return "".join(_span(c) for c in node.children)
