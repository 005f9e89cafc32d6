"""Cut an nmap XML byte stream into runs of whole ``<host>`` elements, parsed off the main thread.

Parsing is the largest single cost of reading a big scan, and libxml2 does it without holding
Python's GIL when it is given a whole document. So the XML reader hands runs of complete hosts
(about a megabyte at a time) to a worker thread that parses each run as a small document of its
own, while the main thread builds findings and advice from the run before. Everything that is
not a run of hosts (the prologue up to the first host, the trailer after the last one, and all
of the input once anything looks unusual) goes through the reader's one streaming parser as
before, so that parser stays the authority on what the document means.

A run is only cut where the byte stream cannot be ambiguous: after a plain prolog (XML and
stylesheet declarations, a ``<!DOCTYPE>`` without an internal subset, comments) and the
``<nmaprun>`` start tag, from the start of a ``<host>`` tag to the end of a ``</host>`` tag, and
never across a comment, a CDATA section, a processing instruction or a DOCTYPE (which nmap
never writes inside ``<nmaprun>``). Since ``<`` cannot occur in well-formed text or attribute
values, every ``<host`` and ``</host>`` found that way is real markup. A run that still does not
parse as a sequence of whole hosts (a cut-off or hand-edited file, an undefined entity, a
nested ``<host>``) is not an error here: the reader turns the splitting off and feeds that run
and everything after it to the streaming parser, which reports exactly what it always did.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lxml import etree

#: Bytes of input per run of hosts (the last run may be shorter).
RUN_BYTES = 1 << 20
#: Held back without a cut (one enormous host, or no host at all): give up splitting.
MAX_HOLD = 16 << 20

HOST_START = re.compile(rb"<host[\s>]")
_HOST_END = b"</host>"
# Markup that makes a byte-level cut unsafe (comments, CDATA, DOCTYPE, processing instructions).
_MARKUP = re.compile(rb"<[!?]")
# ... and, inside a run, elements the streaming parser must see in document order.
_NOT_IN_RUN = re.compile(rb"<[!?]|<(?:nmaprun|prescript|postscript|runstats)[\s>/]")
_ROOT_START = re.compile(rb"<nmaprun[\s>]")
_PROLOG = re.compile(
    rb"""\A(?:\s+
        |<\?(?:[^?]|\?(?!>))*\?>            # <?xml ...?>, <?xml-stylesheet ...?>
        |<!DOCTYPE\s+nmaprun\s*(?:(?:SYSTEM|PUBLIC)\s+(?:"[^"]*"|'[^']*')\s*)*>
        |<!--(?:[^-]|-(?!-))*-->
    )*\Z""",
    re.X,
)
_ENCODING = re.compile(rb"""\A<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8 = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_WRAP_START = b"<advisor-run>"
_WRAP_END = b"</advisor-run>"


#: What every XML parser of advisor is built with: no entities expanded, no DTD loaded, no
#: network, libxml2's size limits kept; comments and processing instructions dropped, and
#: the whitespace between elements (half the nodes of nmap's XML; libxml2 keeps the text of
#: an element without children, so whitespace-only values stay).
SAFE_PARSING: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "collect_ids": False,
    "remove_blank_text": True,
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**SAFE_PARSING)


def parse_run(data: bytes) -> etree._Element | None:
    """Parse a run of hosts (in the worker thread); None when it is not a clean run."""
    try:
        root = etree.fromstring(_WRAP_START + data + _WRAP_END, _parser())
    except etree.XMLSyntaxError:
        return None
    # Other elements between hosts (<taskprogress>, <hosthint>, ...) are skipped, as the
    # streaming reader skips them. A <host> nested anywhere would be read differently.
    hosts = sum(1 for _ in root.iterchildren("host"))
    return root if hosts == len(HOST_START.findall(data)) else None


@dataclass
class Piece:
    """A stretch of the input, in document order: raw XML for the streaming parser, or a run
    of hosts being parsed by the worker thread."""

    data: bytes
    run: Future[etree._Element | None] | None = None
    newlines: int = 0
    """Line breaks in ``data`` (a run's lines are missing from the streaming parser's count)."""
    first_line: int = 0
    """The input line a run starts on, set when the reader takes it (0 until then)."""


class HostSplitter:
    """Feed it sanitised input chunks; it returns pieces to process in order."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._buf = b""
        self._mode = "prologue"
        self.active = True
        """False once splitting is off (unsafe input): every later piece is raw XML."""

    def push(self, chunk: bytes, final: bool) -> list[Piece]:
        """Split ``chunk`` (appended to what is held back); ``final`` at end of input."""
        buf = self._buf + chunk if self._buf else chunk
        self._buf = b""
        if not self.active:
            return [Piece(buf)] if buf else []
        out: list[Piece] = []
        if self._mode == "prologue":
            m = HOST_START.search(buf)
            if m is None:
                if final or len(buf) > MAX_HOLD:  # no hosts, or an odd, huge prologue
                    return self._stop(out, buf)
                self._buf = buf
                return out
            prologue = buf[: m.start()]
            if not safe_prologue(prologue):
                return self._stop(out, buf)
            out.append(Piece(prologue))
            buf = buf[m.start() :]
            self._mode = "hosts"
        end = buf.rfind(_HOST_END)
        if end != -1 and (final or end >= RUN_BYTES // 2 or len(buf) > 2 * RUN_BYTES):
            cut = end + len(_HOST_END)
            run = buf[:cut]
            if _NOT_IN_RUN.search(run):
                return self._stop(out, buf)
            out.append(Piece(run, self._pool.submit(parse_run, run), run.count(b"\n")))
            buf = buf[cut:]
        if final:
            if buf:
                out.append(Piece(buf))
        elif len(buf) > MAX_HOLD:  # a host too big to hold back: let the parser judge
            return self._stop(out, buf)
        else:
            self._buf = buf
        return out

    def _stop(self, out: list[Piece], buf: bytes) -> list[Piece]:
        self.active = False
        if buf:
            out.append(Piece(buf))
        return out

    def stop(self) -> bytes:
        """Turn splitting off; return what was held back (raw XML, to feed next)."""
        self.active = False
        buf, self._buf = self._buf, b""
        return buf


def safe_prologue(prologue: bytes) -> bool:
    m = _ROOT_START.search(prologue)
    if m is None or not _PROLOG.match(prologue[: m.start()]):
        return False
    if _MARKUP.search(prologue, m.end()):
        return False
    enc = _ENCODING.match(prologue)
    return enc is None or enc.group(1).lower() in _UTF8
