"""The nmap object model advisor works on: frozen, typed, and faithful to the XML.

Everything here is produced by a reader in :mod:`advisor.scan` (XML or nmap's normal
text output) and consumed by :mod:`advisor.findings`. Text fields hold what the scanned
host sent: treat every string as untrusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field


# NSE nodes are treated as immutable but not declared frozen: a 100k-host scan builds about
# 17 million of them, and a frozen dataclass takes twice as long to construct (measured:
# 0.33 us vs 0.15 us per node on the benchmark machine).
@dataclass(slots=True)
class NseElem:
    """An ``<elem>``: a leaf of an NSE structured result."""

    key: str | None
    """The ``key`` attribute; None for list items."""
    value: str


class NseTable:
    """A ``<table>``: keyed and unkeyed children in document order.

    The XML reader hands out a subclass that reads its children straight from the parsed
    element and builds them only when :attr:`children` is asked for: the lookups below are all
    the extractors need, and a large scan has millions of cipher and CVE rows nobody reads in
    full.
    """

    __slots__ = ("_children", "key")

    def __init__(self, key: str | None, children: tuple[NseNode, ...] = ()) -> None:
        self.key = key
        self._children = children

    @property
    def children(self) -> tuple[NseNode, ...]:
        """Every ``<elem>`` and ``<table>`` child, in document order."""
        return self._children

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NseTable):
            return NotImplemented
        return self.key == other.key and self.children == other.children

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the dataclass was

    def __repr__(self) -> str:
        return f"NseTable(key={self.key!r}, children={self.children!r})"

    def __len__(self) -> int:
        return len(self.children)

    def get(self, key: str) -> NseNode | None:
        """The first child with this key, or None."""
        for child in self.children:
            if child.key == key:
                return child
        return None

    def text(self, key: str) -> str | None:
        """The value of the first ``<elem>`` with this key, or None."""
        child = self.get(key)
        return child.value if isinstance(child, NseElem) else None

    def table(self, key: str) -> NseTable | None:
        """The first sub-table with this key, or None."""
        child = self.get(key)
        return child if isinstance(child, NseTable) else None

    def values(self) -> list[str]:
        """Values of the unkeyed ``<elem>`` children (a Lua list of strings)."""
        return [c.value for c in self.children if isinstance(c, NseElem) and c.key is None]

    def tables(self) -> Iterator[NseTable]:
        """Sub-tables, keyed or not, in order."""
        return (c for c in self.children if isinstance(c, NseTable))

    def fields(self) -> dict[str | None, str]:
        """Key -> value of the ``<elem>`` children (the first one wins for a repeated key)."""
        out: dict[str | None, str] = {}
        for c in self.children:
            if isinstance(c, NseElem) and c.key not in out:
                out[c.key] = c.value
        return out

    def content_key(self) -> tuple[str, tuple[str, ...]] | None:
        """Text that, with a script's id and output, tells this table's content apart from
        any other's, and the run-numbered keys it leaves out (see :data:`VOLATILE_KEY`);
        None when there is no cheap way to say (the memo in :mod:`advisor.findings.memo`
        then reads the table every time)."""
        return None

    def column(self, table: str, key: str) -> list[str]:
        """``key`` of every row of sub-table ``table`` (rows without it are skipped).

        For example the cipher names of a protocol: ``column("ciphers", "name")``."""
        rows = self.table(table)
        if rows is None:
            return []
        out = []
        for row in rows.tables():
            value = row.text(key)
            if value is not None:
                out.append(value)
        return out


NseNode = NseElem | NseTable

#: Top-level table keys that number a report within a run rather than name it: the ``vulns``
#: library keys a vulnerability without an id ``NMAP-1``, ``NMAP-2``, ... in the order the
#: scan found them, so the same result on two hosts gets two keys. Findings never depend on
#: them (entries match titles and ids); they are only reported, as ``table_key``.
VOLATILE_KEY = re.compile(r"NMAP-[0-9]+")


class ScriptResult:
    """One ``<script>`` element: NSE output for a port, a host, or the whole run.

    ``children`` may be given as a tuple of nodes or as the (possibly lazy) root table."""

    __slots__ = ("_root", "id", "output")

    def __init__(self, id: str, output: str, children: tuple[NseNode, ...] | NseTable = ()) -> None:
        self.id = id
        self.output = output
        """The ``output`` attribute (human text); empty when absent."""
        self._root = children if isinstance(children, NseTable) else NseTable(None, children)

    @property
    def children(self) -> tuple[NseNode, ...]:
        """Structured output, exactly as nmap wrote it (order, keys, nesting)."""
        return self._root.children

    @property
    def structured(self) -> bool:
        """True when the script wrote any ``<elem>`` or ``<table>``."""
        return len(self._root) > 0

    def as_table(self) -> NseTable:
        """The structured output as an anonymous table, for uniform access."""
        return self._root

    def content_key(self) -> tuple[tuple[str, str, str], tuple[str, ...]] | None:
        """A key equal for two results when they say the same thing, and the run-numbered
        table keys it leaves out (:data:`VOLATILE_KEY`); or None."""
        got = self._root.content_key()
        return None if got is None else ((self.id, self.output, got[0]), got[1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScriptResult):
            return NotImplemented
        return (self.id, self.output, self.children) == (other.id, other.output, other.children)

    def __hash__(self) -> int:
        return hash((self.id, self.output))

    def __repr__(self) -> str:
        return f"ScriptResult(id={self.id!r}, output={self.output!r}, children={self.children!r})"


@dataclass(frozen=True, slots=True)
class Service:
    """``<service>``: what nmap thinks runs on a port (``-sV`` data when method=probed)."""

    name: str = ""
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    tunnel: str = ""
    method: str = ""
    conf: str = ""
    ostype: str = ""
    cpes: tuple[str, ...] = ()
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Services key several caches on the advise path; hash the nine fields once.
        object.__setattr__(self, "_hash", hash(self._fields()))

    def _fields(self) -> tuple[object, ...]:
        return (
            self.name,
            self.product,
            self.version,
            self.extrainfo,
            self.tunnel,
            self.method,
            self.conf,
            self.ostype,
            self.cpes,
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Service], tuple[object, ...]]:
        # Rebuilt through __init__, so the hash is that of the unpickling process.
        return (Service, self._fields())

    @property
    def probed(self) -> bool:
        """True when nmap -sV fingerprinted the service (not just the port table)."""
        return self.method == "probed"


@dataclass(frozen=True, slots=True)
class Port:
    protocol: str
    portid: int
    state: str
    reason: str = ""
    service: Service | None = None
    scripts: tuple[ScriptResult, ...] = ()


@dataclass(frozen=True, slots=True)
class Address:
    addr: str
    addrtype: str
    """``ipv4``, ``ipv6`` or ``mac``."""


@dataclass(frozen=True, slots=True)
class Host:
    addresses: tuple[Address, ...]
    status: str = "up"
    hostnames: tuple[str, ...] = ()
    ports: tuple[Port, ...] = ()
    hostscripts: tuple[ScriptResult, ...] = ()
    os_matches: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        """The IP address that names this host in reports (IPv4, else IPv6, else any)."""
        for kind in ("ipv4", "ipv6"):
            for a in self.addresses:
                if a.addrtype == kind:
                    return a.addr
        return self.addresses[0].addr if self.addresses else "(unknown)"

    @property
    def hostname(self) -> str | None:
        return self.hostnames[0] if self.hostnames else None


@dataclass(frozen=True, slots=True)
class ScanInfo:
    """What the ``<nmaprun>`` header and ``<runstats>`` say about the scan."""

    scanner: str = "nmap"
    version: str = ""
    args: str = ""
    start: int | None = None
    xml_output_version: str = ""
    finished: bool = False
    """True when ``<runstats><finished>`` was read."""
    complete: bool = False
    """True when the whole document was read; False for a scan cut off mid-file."""
    problem: str | None = None
    """Why the scan is incomplete, in one line, when it is."""
    hosts_up: int | None = None
    hosts_down: int | None = None
    hosts_total: int | None = None
    source_format: str = "xml"
    """``xml`` or ``text`` (nmap normal output)."""
    warnings: tuple[str, ...] = field(default=())
