"""Streaming reader for nmap XML (``-oX``).

Hosts are built one at a time and their elements dropped from the document once built, so
memory does not grow with the number of hosts: runs of whole hosts are parsed in a worker
thread (:mod:`advisor.scan.batches`), everything else from lxml pull-parser events. A host's
NSE tables are read on demand from its element (:class:`ElementTable`), which lives as long
as the host. The parsers never resolve entities, never load a DTD and never touch the
network. A document that ends early (a scan cut off mid-file) yields every host read so far
and marks the scan incomplete. Damage the reader can read past (bytes nmap never writes, text
between top-level elements) is kept in :attr:`ScanInfo.recovered <advisor.model.ScanInfo>`,
first place of each kind, with its line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, BinaryIO, cast

from lxml import etree

from advisor.model import (
    VOLATILE_KEY,
    Address,
    Host,
    NseElem,
    NseNode,
    NseTable,
    OsClass,
    Port,
    Repair,
    ScanInfo,
    ScriptResult,
    Service,
)
from advisor.render.escape import neutralise
from advisor.scan.batches import RUN_BYTES, SAFE_PARSING, HostSplitter, Piece
from advisor.scan.errors import ScanError
from advisor.scan.sanitize import SanitizingReader

_TAGS = ("nmaprun", "host", "prescript", "postscript", "runstats")
#: libxml2 keeps an element's line only below this without blank text nodes to hold more.
_BIG_LINE = 65535


def _make_parser() -> etree.XMLPullParser:
    return etree.XMLPullParser(events=("start", "end"), tag=_TAGS, **SAFE_PARSING)


_SHARED: dict[str, str] = {}
_NUMBERS: dict[str | None, int] = {}


def _shared(text: str) -> str:
    """One string object per distinct short value (``tcp``): a large report keeps one per
    endpoint."""
    got = _SHARED.get(text)
    if got is None:
        if len(_SHARED) > 1000:
            _SHARED.clear()
        got = _SHARED[text] = text
    return got


def _port_number(text: str | None) -> int:
    """The port number, one int object per distinct port (as for :func:`_shared`)."""
    got = _NUMBERS.get(text)
    if got is None:
        if len(_NUMBERS) > 70_000:
            _NUMBERS.clear()
        got = _NUMBERS[text] = _int(text) or 0
    return got


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _children(el: etree._Element) -> tuple[NseNode, ...]:
    """``<elem>`` and ``<table>`` children in order, built in full."""
    out: list[NseNode] = []
    append = out.append
    for child in el.iterchildren("elem", "table"):
        if child.tag == "elem":
            append(NseElem(child.get("key"), child.text or ""))
        else:
            append(ElementTable(child))
    return tuple(out)


class ElementTable(NseTable):
    """An NSE table read on demand from its parsed ``<table>`` (or ``<script>``) element.

    The host's element stays alive while its :class:`~advisor.model.Host` does and is freed
    with it. Lookups go to lxml directly; :attr:`children` builds the full model once, when
    something needs it (a generic vulns table, a test)."""

    __slots__ = ("_el", "_index")

    def __init__(self, el: etree._Element, key: str | None = None) -> None:
        self._el: etree._Element | None = el
        self._index: dict[str, etree._Element] | None = None
        self.key = el.get("key") if el.tag == "table" else key
        self._children = ()

    @property
    def children(self) -> tuple[NseNode, ...]:
        el = self._el
        if el is not None:
            self._children = _children(el)
            self._el = self._index = None
        return self._children

    def __len__(self) -> int:
        el = self._el
        if el is None:
            return len(self._children)
        return sum(1 for _ in el.iterchildren("elem", "table"))

    def get(self, key: str) -> NseNode | None:
        el = self._el
        if el is None:
            return super().get(key)
        index = self._index
        if index is None:  # one pass over the children, then every lookup is a dict's
            index = self._index = {}
            for c in el.iterchildren("elem", "table"):
                k = c.get("key")
                if k is not None and k not in index:
                    index[k] = c
        child = index.get(key)
        if child is None:
            return None
        if child.tag == "elem":
            return NseElem(key, child.text or "")
        return ElementTable(child)

    def values(self) -> list[str]:
        el = self._el
        if el is None:
            return super().values()
        return [c.text or "" for c in el.iterchildren("elem") if c.get("key") is None]

    def tables(self) -> Iterator[NseTable]:
        el = self._el
        if el is None:
            return super().tables()
        return (ElementTable(c) for c in el.iterchildren("table"))

    def fields(self) -> dict[str | None, str]:
        el = self._el
        if el is None:
            return super().fields()
        out: dict[str | None, str] = {}
        for c in el.iterchildren("elem"):
            key = c.get("key")
            if key not in out:
                out[key] = c.text or ""
        return out

    def content_key(self) -> tuple[str, tuple[str, ...]] | None:
        """Every text value in document order, then the keys of the top-level children, with
        run-numbered keys (``NMAP-n``, :data:`~advisor.model.VOLATILE_KEY`) left out and
        returned apart.

        Two C-level calls, a third of the cost of serialising the element. With the script's
        id and ``output`` this tells results apart for anything nmap writes: ``output`` is
        rendered from the same table, every value is here, and the one key nmap leaves out of
        ``output`` (a vulns table's ``NMAP-n``) is returned with it. A hand-made file whose
        tables contradict their own ``output`` could alias; it then gets the findings of the
        identical-looking result, which is what its text says."""
        el = self._el
        if el is None:
            return None
        keys = [c.get("key") or "" for c in el]
        volatile = tuple(k for k in keys if k.startswith("NMAP-") and VOLATILE_KEY.fullmatch(k))
        if volatile:
            keys = ["\x00n" if k in volatile else k for k in keys]  # no XML text has NUL
        return cast(str, _STRING(el)) + "\x00\x00" + "\x00".join(keys), volatile

    def column(self, table: str, key: str) -> list[str]:
        el = self._el
        if el is None:
            return super().column(table, key)
        # First matching sub-table only, as NseTable.table() does.
        for child in el.iterchildren("table"):
            if child.get("key") == table:
                rows = cast(list[etree._Element], _COLUMN(child, key=key))
                return [e.text or "" for e in rows]
        return []


_COLUMN = etree.XPath("table/elem[@key=$key][1]")
_STRING = etree.XPath("string()", smart_strings=False)


def script_from_element(el: etree._Element) -> ScriptResult:
    """Build a :class:`ScriptResult` from a ``<script>`` element (tables are read lazily)."""
    return ScriptResult(el.get("id") or "(no id)", el.get("output") or "", ElementTable(el))


_SERVICES: dict[tuple[object, ...], Service] = {}


def forget_services() -> None:
    """Empty the cache of :func:`_service` (a reader that is done with its scan)."""
    _SERVICES.clear()


def _service(el: etree._Element) -> Service:
    """The port's service; equal ``<service>`` elements give the same object (a large scan has
    few distinct ones, and the advise stage keys its caches on them)."""
    cpes = tuple([c.text for c in el.iterchildren("cpe") if c.text]) if len(el) else ()
    key = (tuple(el.items()), cpes)
    service = _SERVICES.get(key)
    if service is None:
        if len(_SERVICES) > 2_000:
            _SERVICES.clear()
        service = _SERVICES[key] = _new_service(el, cpes)
    return service


def _new_service(el: etree._Element, cpes: tuple[str, ...]) -> Service:
    attrib = cast(dict[str, str], dict(el.attrib))  # one C call, then plain dict lookups
    get = attrib.get
    return Service(
        name=get("name") or "",
        product=get("product") or "",
        version=get("version") or "",
        extrainfo=get("extrainfo") or "",
        tunnel=get("tunnel") or "",
        method=get("method") or "",
        conf=get("conf") or "",
        ostype=get("ostype") or "",
        cpes=cpes,
        devicetype=get("devicetype") or "",
    )


def _port(el: etree._Element) -> Port:
    state_el = service_el = None
    scripts: list[ScriptResult] = []
    for child in el:
        tag = child.tag
        if tag == "script":
            scripts.append(script_from_element(child))
        elif tag == "state":
            if state_el is None:
                state_el = child
        elif tag == "service" and service_el is None:
            service_el = child
    get = el.get
    if state_el is not None:
        state, reason = state_el.get("state", ""), state_el.get("reason", "")
    else:
        state = reason = ""
    return Port(
        _shared(get("protocol") or "tcp"),
        _port_number(get("portid")),
        state,
        reason,
        _service(service_el) if service_el is not None else None,
        tuple(scripts),
    )


def host_from_element(el: etree._Element) -> Host:
    """Build a :class:`Host` from a complete ``<host>`` element."""
    status: str | None = None
    ports: list[Port] = []
    hostscripts: tuple[ScriptResult, ...] = ()
    hostnames: list[str] = []
    os_matches: list[str] = []
    os_classes: tuple[OsClass, ...] = ()
    addresses: list[Address] = []
    for child in el:
        tag = child.tag
        if tag == "address":
            addresses.append(Address(child.get("addr") or "", child.get("addrtype") or "ipv4"))
        elif tag == "ports":
            ports.extend(_port(p) for p in child.iterchildren("port"))
        elif tag == "status":
            if status is None:
                status = child.get("state", "unknown")
        elif tag == "hostscript":
            hostscripts = tuple(script_from_element(s) for s in child.iterchildren("script"))
        elif tag == "hostnames":
            hostnames.extend(h.get("name") or "" for h in child.iterchildren("hostname"))
        elif tag == "os":
            os_matches.extend(m.get("name") or "" for m in child.iterchildren("osmatch"))
            os_classes = _os_classes(child)
    return Host(
        addresses=tuple(addresses),
        status=status if status is not None else "unknown",
        hostnames=tuple(h for h in hostnames if h),
        ports=tuple(ports),
        hostscripts=hostscripts,
        os_matches=tuple(m for m in os_matches if m),
        os_classes=os_classes,
    )


def _os_classes(os_el: etree._Element) -> tuple[OsClass, ...]:
    """The classes of the best OS match: the first ``<osmatch>``'s (nmap lists them best
    first), or, in nmap 4.x XML, the most accurate ``<osclass>`` children of ``<os>``."""
    best = next(os_el.iterchildren("osmatch"), None)
    classes = list(best.iterchildren("osclass")) if best is not None else []
    if not classes:
        direct = list(os_el.iterchildren("osclass"))
        if direct:
            top = max(_int(c.get("accuracy")) or 0 for c in direct)
            classes = [c for c in direct if (_int(c.get("accuracy")) or 0) == top]
    return tuple(
        OsClass(c.get("type") or "", c.get("vendor") or "", c.get("osfamily") or "")
        for c in classes
    )


class XmlScan:
    """An nmap XML scan, read lazily. Iterate it for hosts.

    ``prescripts`` are known before the first host is yielded (nmap writes them first);
    ``postscripts`` and the final ``info`` after iteration ends.
    """

    def __init__(
        self,
        stream: BinaryIO,
        progress: Callable[[int], None] | None = None,
        threaded: bool = True,
        line_offset: Callable[[], int] | None = None,
    ) -> None:
        self._stream = stream
        self._origin: int | None = None
        """Where ``stream`` started, when it can be read again to count lines."""
        try:
            if stream.seekable():
                self._origin = stream.tell()
        except (AttributeError, OSError, ValueError):
            pass
        self._reader = SanitizingReader(stream)
        self._parser = _make_parser()
        self._progress = progress
        self.info = ScanInfo()
        self.prescripts: tuple[ScriptResult, ...] = ()
        self.postscripts: tuple[ScriptResult, ...] = ()
        self.hosts_read = 0
        self._root: etree._Element | None = None
        self._pending: deque[tuple[str, Any]] = deque()
        self._pieces: deque[Piece] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._splitter: HostSplitter | None = None
        if threaded:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="advisor-parse")
            self._splitter = HostSplitter(self._pool)
        self._lines_elsewhere = 0
        """Input lines parsed as runs of hosts, which the streaming parser never saw."""
        self._lines_taken = 0
        """Input lines in the pieces taken so far, while runs of hosts can still come."""
        self._stray: Repair | None = None
        self._line_offset = line_offset
        self._retired: deque[etree._Element] = deque()
        self._input_done = False
        self._deferred: etree.XMLSyntaxError | None = None
        self._error_at_end = False
        self._done = False
        self._ended = False
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    @property
    def bytes_read(self) -> int:
        return self._reader.bytes_read

    def close(self) -> None:
        """Stop the parsing thread (iteration does this when it ends)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # -- reading -------------------------------------------------------------------------
    def _read(self) -> None:
        """Read one chunk of input into pieces."""
        splitter = self._splitter
        if splitter is not None and splitter.active:
            chunk = self._reader.read(RUN_BYTES)
            self._input_done = not chunk
            self._pieces.extend(splitter.push(chunk, final=not chunk))
        else:
            chunk = self._reader.read()
            self._input_done = not chunk
            if chunk:
                self._pieces.append(Piece(chunk))

    def _feed(self) -> bool:
        """Take the next piece of input; return False at end of input or on a parse error."""
        if self._done:
            return False
        splitter = self._splitter
        if splitter is not None and splitter.active:
            # Keep the parsing thread one run ahead of the hosts being read.
            while not self._input_done and sum(1 for p in self._pieces if p.run) < 2:
                self._read()
        elif not self._pieces and not self._input_done:
            self._read()
        if self._pieces:
            piece = self._pieces.popleft()
            if piece.run is not None:
                piece.first_line = self._lines_taken + 1
                self._lines_taken += piece.newlines
                self._pending.append(("run", piece))
                return True
            chunk = piece.data
            if splitter is not None and (
                splitter.active or any(p.run is not None for p in self._pieces)
            ):
                self._lines_taken += chunk.count(b"\n")  # a run may follow: count its start
        else:
            chunk = b""
        error: etree.XMLSyntaxError | None = None
        try:
            if chunk:
                self._parser.feed(chunk)
            else:
                self._done = True
                self._parser.close()
        except etree.XMLSyntaxError as exc:
            self._done = True
            error = exc
        finally:
            events = cast(Iterator[tuple[str, Any]], self._parser.read_events())
            if error is not None and not chunk:
                # At end of input, libxml2 >= 2.13 (lxml 6) closes every element still open
                # and reports it as ended; none of those elements was complete in the input.
                for _ in events:
                    pass
            else:
                self._pending.extend(events)
            if self._progress is not None:
                self._progress(self._reader.bytes_read)
        if error is not None:
            self._error_at_end = not chunk
            root_pending = self._root is None and any(e == "start" for e, _ in self._pending)
            if root_pending and "entity" not in str(error.msg).lower():
                self._deferred = error  # the root was read: _start() records the error
            else:
                self._syntax_error(error)
        return not self._done

    def _unsplit(self, piece: Piece) -> None:
        """A run did not parse on its own: give it, and all input after it, to the parser."""
        assert self._splitter is not None
        tail = self._splitter.stop()
        for later in self._pieces:
            if later.run is not None:
                later.run.cancel()
        raw = [piece.data, *(p.data for p in self._pieces), tail]
        self._pieces = deque(Piece(data) for data in raw if data)

    def _run_hosts(self, piece: Piece) -> list[etree._Element] | None:
        """The ``<host>`` elements of a run parsed by the worker thread, or None if the run
        must be unsplit."""
        assert piece.run is not None
        root = piece.run.result()
        piece.run = None
        if root is None:
            return None
        self._lines_elsewhere += piece.newlines
        if self._stray is None:
            self._check_text(root, piece.first_line - 1)
        hosts = list(root.iterchildren("host"))
        hosts.reverse()  # popped from the end, in document order
        self._retire(root)
        return hosts

    def _retire(self, root: etree._Element) -> None:
        """Have the worker thread free a run once its hosts are (very likely) gone.

        Memory libxml2 took in the worker thread is much slower to free from this one
        (allocator arenas), and a run is ~10 MB of nodes. Runs are handed back two runs
        late: by then the hosts read from them have normally been dropped, so the worker
        holds the last reference. If not, the run is freed here later; only slower."""
        self._retired.append(root)
        if len(self._retired) > 2 and self._pool is not None:
            self._pool.submit(_drop, self._retired.popleft())

    def _syntax_error(self, exc: etree.XMLSyntaxError) -> None:
        if self._root is None:
            raise ScanError(_first_error(exc, self._reader.bytes_read)) from None
        if self._ended:
            return  # junk after </nmaprun>: everything was read
        line: int | str = "?"
        if exc.lineno:
            line = exc.lineno + self._lines_elsewhere
            if self._line_offset is not None:
                line += self._line_offset()
        if self._error_at_end:
            why = f"the input ends at line {line} before </nmaprun> (cut off mid-file?)"
        else:
            why = f"the XML stops being readable at line {line} ({neutralise(_short(exc.msg))})"
        self.info = replace(
            self.info,
            complete=False,
            problem=f"the scan is incomplete: {why}; showing the hosts read before that",
        )

    def _start(self) -> None:
        """Read until the ``<nmaprun>`` start tag, or fail with a one-line error."""
        while self._root is None:
            while self._pending:
                event, el = self._pending[0]
                if event == "run":  # hosts before the root was seen: let the parser judge
                    self._pending.popleft()
                    self._unsplit(el)
                    continue
                if event == "start":
                    if el.tag != "nmaprun":
                        raise ScanError(
                            f"not an nmap XML file: the root element is <{_short(str(el.tag))}>,"
                            " expected <nmaprun>"
                        )
                    self._root = el
                    self.info = ScanInfo(
                        scanner=el.get("scanner") or "nmap",
                        version=el.get("version") or "",
                        args=el.get("args") or "",
                        start=_int(el.get("start")),
                        xml_output_version=el.get("xmloutputversion") or "",
                        complete=False,
                        problem="the scan is incomplete: the input ends before </nmaprun>",
                    )
                    self._pending.popleft()
                    if self._deferred is not None:
                        self._syntax_error(self._deferred)
                    break
                raise ScanError("not an nmap XML file: no <nmaprun> element")
            if self._root is None and not self._feed() and not self._pending:
                if self._reader.bytes_read == 0:
                    raise ScanError("the input is empty: expected nmap XML (-oX output)")
                raise ScanError("not an nmap XML file: no <nmaprun> element")

    def __iter__(self) -> Iterator[Host]:
        try:
            yield from self._hosts()
        finally:
            self.close()

    def _hosts(self) -> Iterator[Host]:
        assert self._root is not None
        while True:
            while self._pending:
                event, el = self._pending.popleft()
                if event == "run":
                    elements = self._run_hosts(el)
                    if elements is None:
                        self._unsplit(el)
                        continue
                    del el
                    while elements:
                        host = host_from_element(elements.pop())
                        self.hosts_read += 1
                        yield host
                        del host
                    continue
                if event != "end":
                    continue
                tag = el.tag
                if tag == "host":
                    host = host_from_element(el)
                    self._discard(el)
                    self.hosts_read += 1
                    yield host
                elif tag == "prescript":
                    self.prescripts += tuple(script_from_element(s) for s in el.iter("script"))
                    self._discard(el)
                elif tag == "postscript":
                    self.postscripts += tuple(script_from_element(s) for s in el.iter("script"))
                    self._discard(el)
                elif tag == "runstats":
                    self._runstats(el)
                    self._discard(el)
                elif tag == "nmaprun":
                    self._ended = True
                    self.info = replace(self.info, complete=True, problem=None)
                    if self._stray is None:
                        self._check_text(el, self._lines_elsewhere)
            if not self._feed() and not self._pending:
                self.info = replace(self.info, recovered=self._recovered())
                return

    def _runstats(self, el: etree._Element) -> None:
        finished = el.find("finished")
        hosts = el.find("hosts")
        self.info = replace(
            self.info,
            finished=finished is not None,
            hosts_up=_int(hosts.get("up")) if hosts is not None else None,
            hosts_down=_int(hosts.get("down")) if hosts is not None else None,
            hosts_total=_int(hosts.get("total")) if hosts is not None else None,
        )

    def _discard(self, el: etree._Element) -> None:
        """Drop a finished element, and everything before it, from the document.

        The element is detached, not cleared: the scripts built from it read their tables
        from it on demand. lxml frees it when the last object referring to it goes. Until
        stray text was found, the text around what is dropped is looked at first (nmap
        writes none there)."""
        parent = el.getparent()
        if parent is not None:
            check = self._stray is None
            if check:
                text = parent.text
                if text is not None and not text.isspace():
                    self._found_stray(text, parent[0], None, self._lines_elsewhere)
            while (first := parent[0]) is not el:
                if check:
                    tail = first.tail
                    if tail is not None and not tail.isspace():
                        self._found_stray(tail, first.getnext(), first, self._lines_elsewhere)
                del parent[0]
            if check:
                tail = el.tail
                if tail is not None and not tail.isspace():
                    self._found_stray(tail, el.getnext(), el, self._lines_elsewhere)
            parent.remove(el)

    # -- damage read past ------------------------------------------------------------------
    def _check_text(self, parent: etree._Element, lines_before: int) -> None:
        """Look for text directly in ``parent`` (the root, or a run of hosts): nmap writes
        only whitespace between its top-level elements."""
        text = parent.text
        if text is not None and not text.isspace():
            self._found_stray(text, parent[0] if len(parent) else None, None, lines_before)
            return
        for child in parent:
            tail = child.tail
            if tail is not None and not tail.isspace():
                self._found_stray(tail, child.getnext(), child, lines_before)
                return

    def _found_stray(
        self,
        text: str,
        following: etree._Element | None,
        before: etree._Element | None,
        lines_before: int,
    ) -> None:
        """Keep the first stray text: the line of its first non-blank character is counted
        back from the element that follows it, else it is after the element before it."""
        if self._stray is not None:
            return
        lead = len(text) - len(text.lstrip())
        line: int | None = None
        offset: int | None = None
        bound = ""
        if following is not None and 0 < _sourceline(following) < _BIG_LINE:
            line = _sourceline(following) - text.count("\n") + text.count("\n", 0, lead)
        else:  # read before what the input was read up to; found again by its text later
            offset, bound = self._reader.bytes_read, "before"
            if before is not None:
                last = before
                while len(last):
                    last = last[-1]
                if 0 < _sourceline(last) < _BIG_LINE:
                    line, bound = _sourceline(last), "after"
        if line is not None:
            line += lines_before + (self._line_offset() if self._line_offset is not None else 0)
        self._stray = Repair(
            "stray-text", line, offset=offset, excerpt=_excerpt(text.strip()), bound=bound
        )

    def _recovered(self) -> tuple[Repair, ...]:
        """Every kind of damage read past, first place of each, in document order."""
        found = []
        stray = self._stray
        if stray is not None:
            if stray.offset is not None:
                stray = self._place_stray(stray, stray.offset)
            found.append(stray)
        for kind, (offset, raw) in self._reader.damage.items():
            where = self._position(offset)
            line, column = where if where is not None else (None, None)
            text = raw[:12].decode("utf-8", "backslashreplace")
            found.append(Repair(kind, line, column, offset, _excerpt(text, 64)))
        return tuple(sorted(found, key=lambda r: (r.line is None, r.line or 0, r.offset or 0)))

    def _place_stray(self, stray: Repair, end: int) -> Repair:
        """Stray text known only to lie before input byte ``end``: its exact line, found
        again by its text when that is plain; else the line it is after or before."""
        origin = self._origin
        if origin is None:
            return stray
        try:
            self._stream.seek(origin)
            found = find_before(self._stream, end, stray.excerpt)
        except (OSError, ValueError):
            return stray
        return place_stray(stray, found, self._position(found if found is not None else end))

    def _position(self, offset: int) -> tuple[int, int] | None:
        """(line, byte column) of input byte ``offset``, read again from a seekable input;
        None for a pipe (the byte offset is all there is)."""
        origin = self._origin
        if origin is None:
            return None
        stream = self._stream
        try:
            here = stream.tell()
            stream.seek(origin)
            try:
                return line_and_column(stream, offset)
            finally:
                stream.seek(here)
        except (OSError, ValueError):
            return None


def _drop(_root: etree._Element) -> None:
    """Run in the worker thread: the last reference to a run goes when this returns."""


def _sourceline(el: etree._Element) -> int:
    """The line libxml2 recorded for ``el`` (0 when none)."""
    return cast(int | None, el.sourceline) or 0


def line_and_column(stream: BinaryIO, offset: int) -> tuple[int, int]:
    """(1-based line, 1-based byte column) of byte ``offset`` of ``stream``, read from its
    current position."""
    lines = 0
    last_newline = -1
    done = 0
    while done < offset:
        chunk = stream.read(min(1 << 20, offset - done))
        if not chunk:
            break
        found = chunk.count(b"\n")
        if found:
            lines += found
            last_newline = done + chunk.rfind(b"\n")
        done += len(chunk)
    return lines + 1, offset - last_newline


def place_stray(stray: Repair, found: int | None, where: tuple[int, int] | None) -> Repair:
    """``stray`` once looked for again: ``found`` is where its text starts (None when not
    found), ``where`` the (line, column) of that or of the bound it lies before."""
    if where is None:
        return stray
    if found is not None:
        return replace(stray, line=where[0], offset=None, bound="")
    if stray.line is None:
        return replace(stray, line=where[0], offset=None)
    return replace(stray, offset=None)  # after its line: the bound it is before says less


def find_before(stream: BinaryIO, end: int, excerpt: str, window: int = 1 << 18) -> int | None:
    """Where the last occurrence of ``excerpt`` (plain ASCII text only) starts within the
    ``window`` bytes of ``stream`` before ``end``, counted from the stream's current position;
    None when it is not there."""
    needle = excerpt.rstrip("…").encode("ascii", "replace")
    if not needle or b"\\" in needle or b"?" in needle:
        return None  # escaped or shortened bytes: not what the file holds
    start = max(0, end - window)
    here = stream.tell()
    stream.seek(here + start)
    found = stream.read(end - start).rfind(needle)
    return start + found if found != -1 else None


def _excerpt(text: str, limit: int = 16) -> str:
    """The first ``limit`` characters of scan text on one line, control characters (line
    breaks too) shown as ``\\xNN``."""
    short = text[:limit]
    return neutralise(short.replace("\n", "\\x0A").replace("\t", "\\x09")) + (
        "…" if len(text) > limit else ""
    )


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_error(exc: etree.XMLSyntaxError, nbytes: int) -> str:
    if nbytes == 0:
        return "the input is empty: expected nmap XML (-oX output)"
    if "entity" in str(exc.msg).lower():
        return (
            f"refusing XML entity references (line {exc.lineno}): nmap never writes them, "
            "and advisor never expands or loads entities"
        )
    return f"not an nmap XML file: {_short(exc.msg)} (line {exc.lineno})"
