"""Make real-world nmap XML byte streams parseable, without changing what nmap meant.

Real files contain things a strict XML parser rejects (nse-facts.md 1e, peers.md 2.9):

* a comment or blank lines *before* the ``<?xml?>`` declaration (secureCodeBox fixtures);
* raw control characters from banners (nmap/nmap#2657) and character references to them
  (``&#x1;``), both invalid in XML 1.0;
* bytes that are not UTF-8.

The filter rewrites each of these into the literal text ``\\xNN``, which is exactly how nmap's
own ``protect_xml`` escapes unprintable bytes, so downstream code sees one convention. It works
chunk by chunk in constant memory and counts the bytes read for the progress bar.

nmap itself writes control characters (the bug above) but never a NUL byte or a byte that is
not ASCII, so the first place of each of those two is kept (:attr:`SanitizingReader.damage`):
the reader reports it as damage rather than repairing it silently. Clean ASCII input never
pays for this check.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

CHUNK = 1 << 16

# Control characters other than \t \n \r are not allowed in XML 1.0, raw or as references.
_RAW_CTRL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_REF_CTRL = re.compile(rb"&#(?:x0*([0-8bBcCeEfF]|1[0-9a-fA-F])|0*([0-8]|1[1-24-9]|2[0-9]|3[01]));")
# Control bytes, for a fast C-level test (bytes.translate) before the slower regex runs.
_CTRL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_LEADING_JUNK = re.compile(rb"\A(?:\s|<!--.*?-->)+(?=<\?xml)", re.S)


def _raw_ctrl(m: re.Match[bytes]) -> bytes:
    return b"\\x%02X" % m.group(0)[0]


def _ref_ctrl(m: re.Match[bytes]) -> bytes:
    value = int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))
    return b"\\x%02X" % value


class SanitizingReader:
    """A ``read(n)`` wrapper over a binary stream that yields well-formed-able XML bytes."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        self._carry = b""
        self._first = True
        self.bytes_read = 0
        """Bytes consumed from the underlying stream so far."""
        self.eof = False
        self.damage: dict[str, tuple[int, bytes]] = {}
        """``not-utf8`` / ``nul`` -> (input byte offset, the raw bytes from there) of the
        first such place."""

    def read(self, size: int = CHUNK) -> bytes:
        """Return the next sanitised chunk; ``b""`` at end of input."""
        while True:
            data = self._raw.read(max(size, CHUNK))
            self.bytes_read += len(data)
            if not data:
                self.eof = True
                tail, self._carry = self._carry, b""
                offset = self.bytes_read - len(tail)
                return self._clean(tail, final=True, offset=offset) if tail else b""
            data = self._carry + data
            offset = self.bytes_read - len(data)
            # Keep a possibly split character reference for the next round.
            amp = data.rfind(b"&", max(0, len(data) - 12))
            if amp != -1 and b";" not in data[amp:]:
                data, self._carry = data[:amp], data[amp:]
            else:
                self._carry = b""
            out = self._clean(data, final=False, offset=offset)
            if out:
                return out

    def _clean(self, data: bytes, final: bool, offset: int = 0) -> bytes:
        """Sanitise ``data``, which starts at byte ``offset`` of the input."""
        if self._first:
            self._first = False
            size = len(data)
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            data = _LEADING_JUNK.sub(b"", data, count=1)
            offset += size - len(data)
        raw = data
        pending = self._decoder.getstate()[0]
        if not data.isascii() or pending:
            if "not-utf8" not in self.damage:
                self._check_utf8(pending, raw, final, offset)
            text = self._decoder.decode(data, final)
            data = text.encode("utf-8", "surrogateescape")
        elif final:
            self._decoder.decode(b"", True)
        if _REF_CTRL.search(data):
            data = _REF_CTRL.sub(_ref_ctrl, data)
        if len(data.translate(None, _CTRL_BYTES)) != len(data):
            if "nul" not in self.damage:
                nul = raw.find(b"\x00")
                if nul != -1:
                    self.damage["nul"] = (offset + nul, raw[nul : nul + 32])
            data = _RAW_CTRL.sub(_raw_ctrl, data)
        return data

    def _check_utf8(self, pending: bytes, raw: bytes, final: bool, offset: int) -> None:
        """Keep the first byte that is not UTF-8 (``pending``: the start of a character cut
        by the previous chunk)."""
        data = pending + raw
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not final and exc.end == len(data) and exc.reason == "unexpected end of data":
                return  # a character cut at the end of the chunk: the next one completes it
            start = exc.start - len(pending)
            self.damage["not-utf8"] = (offset + start, data[exc.start : exc.start + 32])
