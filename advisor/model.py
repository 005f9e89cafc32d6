"""The nmap object model advisor works on: frozen, typed, and faithful to the XML.

Everything here is produced by a reader in :mod:`advisor.scan` (XML or nmap's normal
text output) and consumed by :mod:`advisor.findings`. Text fields hold what the scanned
host sent: treat every string as untrusted.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


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
    devicetype: str = ""
    """nmap's device type for this service (``router``, ``printer``, ``WAP``...), from
    ``-sV``'s ``d/`` field; empty when nmap's match gives none."""
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Services key several caches on the advise path; hash the fields once.
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
            self.devicetype,
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
class OsClass:
    """An ``<osclass>`` of an OS match: what kind of device nmap's fingerprint is."""

    type: str
    """nmap's device type: ``general purpose``, ``router``, ``WAP``, ``printer``..."""
    vendor: str = ""
    osfamily: str = ""


@dataclass(frozen=True, slots=True)
class Host:
    addresses: tuple[Address, ...]
    status: str = "up"
    hostnames: tuple[str, ...] = ()
    ports: tuple[Port, ...] = ()
    hostscripts: tuple[ScriptResult, ...] = ()
    os_matches: tuple[str, ...] = ()
    os_classes: tuple[OsClass, ...] = ()
    """The ``<osclass>`` elements of nmap's best OS match: those of the first ``<osmatch>``,
    or in nmap 4.x XML, where they sit directly under ``<os>``, the most accurate ones."""

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
class Repair:
    """A place where the input is not what nmap writes, read past instead of stopping.

    nmap's XML is plain ASCII (``protect_xml`` writes any other byte as ``\\xNN``) with no
    text between elements, so such a place means the file was damaged or edited after nmap
    wrote it. The reader keeps the first place of each :attr:`kind`."""

    kind: str
    """``not-utf8`` (bytes that are not UTF-8, read as ``\\xNN``), ``nul`` (NUL bytes, read
    as ``\\x00``) or ``stray-text`` (text between elements, skipped)."""
    line: int | None
    """Line of the input (1-based); None when it cannot be told (stdin)."""
    column: int | None = None
    """Byte column in that line (1-based), when known."""
    offset: int | None = None
    """Byte offset in the input (0-based), for the byte-level kinds."""
    excerpt: str = ""
    """The first characters there, control characters shown as ``\\xNN`` (scan text:
    untrusted)."""
    bound: str = ""
    """``after`` or ``before`` when the place is only known to be after or before
    :attr:`line` (and :attr:`offset`); empty when it is exact."""

    def where(self, t: Translate | None = None) -> str:
        """``at line 176, column 3`` (or what is known of the place)."""
        t = t or _english
        if self.line is None:
            if self.offset is None:
                return t("recovered_somewhere")
            return t(f"recovered_{self.bound or 'at'}_byte", offset=self.offset)
        if self.bound:
            return t(f"recovered_{self.bound}_line", line=self.line)
        if self.column is not None:
            return t("recovered_at_line_column", line=self.line, column=self.column)
        return t("recovered_at_line", line=self.line)


Translate = Callable[..., str]
"""A catalogue lookup: ``t(key, **values)`` (:meth:`advisor.i18n.Catalog.t`)."""


def describe_repairs(repairs: tuple[Repair, ...], t: Translate | None = None) -> str:
    """One line on the damage read past: the first place, then where the other kinds start.
    English (stderr, JSON, the report's warnings) unless ``t`` says otherwise."""
    t = t or _english
    first = repairs[0]
    also = "".join(
        t("recovered_also", what=t(f"recovered_short_{r.kind.replace('-', '_')}"), where=r.where(t))
        for r in repairs[1:]
    )
    return t(
        "warn_recovered",
        where=first.where(t),
        what=t(f"recovered_{first.kind.replace('-', '_')}"),
        excerpt=first.excerpt,
        also=also,
    )


@cache
def _english_strings() -> dict[str, str]:
    with (Path(__file__).parent / "locales" / "en.toml").open("rb") as fh:
        return {k: v for k, v in tomllib.load(fh).items() if isinstance(v, str)}


def _english(key: str, **values: object) -> str:
    return _english_strings()[key].format(**values)


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
    recovered: tuple[Repair, ...] = ()
    """Places where the input was not nmap's XML and was read past (first of each kind,
    in document order): the report is complete but the file was damaged there."""
