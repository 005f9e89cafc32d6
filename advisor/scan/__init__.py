"""Stage 1 of the pipeline: read a scan (nmap XML or nmap's normal text output).

:func:`open_scan` detects the format from the first bytes and returns a reader that yields
:class:`~advisor.model.Host` objects one at a time.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol

from advisor.model import Host, ScanInfo, ScriptResult
from advisor.scan.errors import ScanError

__all__ = ["Scan", "ScanError", "open_scan"]

_PEEK = 8192


class Scan(Protocol):
    """What every reader offers. Iterate for hosts; ``info`` is final after iteration."""

    info: ScanInfo
    prescripts: tuple[ScriptResult, ...]
    postscripts: tuple[ScriptResult, ...]

    def __iter__(self) -> Iterator[Host]: ...


def _looks_like_xml(head: bytes) -> bool:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped.startswith(b"<")


def open_scan(
    stream: BinaryIO,
    progress: Callable[[int], None] | None = None,
    line_offset: Callable[[], int] | None = None,
    threaded: bool = True,
) -> Scan:
    """Return a reader for ``stream`` (a binary file or stdin), by content, not by name.

    ``line_offset`` says how many input lines precede ``stream`` (for one part of a file
    read in parallel); it is asked only to name the line where the XML stops. ``threaded``:
    parse runs of hosts in a second thread (see :mod:`advisor.scan.batches`)."""
    buffered = (
        stream
        if isinstance(stream, io.BufferedReader)
        else io.BufferedReader(_RawAdapter(stream), buffer_size=_PEEK)
    )
    head = buffered.peek(_PEEK)[:_PEEK]
    if not head.strip():
        raise ScanError("the input is empty: expected nmap XML (-oX) or nmap normal output (-oN)")
    if _looks_like_xml(head):
        from advisor.scan.xml import XmlScan

        return XmlScan(buffered, progress, threaded=threaded, line_offset=line_offset)
    from advisor.scan.text import looks_like_nmap_text, open_text_scan

    if looks_like_nmap_text(head):
        return open_text_scan(buffered, progress)
    raise ScanError(
        "not nmap output: expected nmap XML (-oX) or nmap normal output (-oN / terminal text)"
    )


class _RawAdapter(io.RawIOBase):
    """Let any object with ``read`` be wrapped in a BufferedReader for peeking."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n
