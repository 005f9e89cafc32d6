"""Make scan text harmless in Markdown and on a terminal.

Everything in a scan can be chosen by the scanned host (banners, titles, certificate fields,
NSE output). In Markdown such text is only ever placed inside code spans or fenced code
blocks, where Markdown, HTML and autolinks are not interpreted; the fence is always longer
than any backtick run inside. Control characters (terminal escape sequences included) are
shown as ``\\xNN``. HTML output relies on Jinja2's autoescaping instead.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def neutralise(text: str) -> str:
    """Replace control characters (ESC, bidi overrides, ...) by visible ``\\xNN`` escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02X}", text)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(r) for r in runs), default=0)


def code(text: str | None, limit: int = 300) -> str:
    """An inline code span holding ``text`` literally (one line, shortened)."""
    text = neutralise(" ".join((text or "").split()))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text:
        return "``"
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str | None, lang: str = "", limit: int = 20000) -> str:
    """A fenced code block holding ``text`` literally."""
    text = neutralise((text or "").strip("\n"))
    if len(text) > limit:
        text = text[:limit] + "\n… (shortened)"
    ticks = "`" * max(3, _longest_run(text, "`") + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&:])")


def md_text(text: str | None) -> str:
    """Plain untrusted words in running Markdown text: every special character escaped."""
    text = neutralise(" ".join((text or "").split()))
    return _MD_SPECIAL.sub(r"\\\1", text)
