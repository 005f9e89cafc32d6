"""Which distribution package ships the server nmap identified (``advisor/data/packages.toml``).

Used by notes that tell the reader how to check a package for a backported fix: the package
of *this* finding's product, never a fixed example.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "packages.toml"

#: What the commands say when the product is not in the table.
UNKNOWN = "PACKAGE"


@dataclass(frozen=True, slots=True)
class Package:
    """The package names of one server program."""

    debian: str
    """On Debian and Ubuntu (``dpkg -l``, ``apt changelog``)."""
    rhel: str
    """On RHEL and its rebuilds (``rpm -q``)."""


_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]*")


@cache
def _table() -> tuple[tuple[frozenset[str], re.Pattern[str] | None, Package], ...]:
    with DATA.open("rb") as fh:
        data = tomllib.load(fh)
    rows = []
    for i, row in enumerate(data["package"]):
        names = (row["debian"], row["rhel"])
        if not all(_NAME.fullmatch(n) for n in names):
            raise ValueError(f"{DATA.name}: package[{i}]: bad package name in {names}")
        product = row.get("product")
        rows.append(
            (
                frozenset(row.get("cpe", ())),
                re.compile(product, re.I) if product else None,
                Package(*names),
            )
        )
    return tuple(rows)


def vendor_product(cpe: str) -> str | None:
    """``vendor:product`` of a CPE 2.2 URI (``cpe:/a:memcached:memcached:1.4.25``)."""
    parts = cpe.split(":")
    if len(parts) >= 4 and parts[0] == "cpe" and parts[1] in ("/a", "/o", "/h"):
        return f"{parts[2]}:{parts[3]}".lower()
    return None


def package_for(cpes: tuple[str, ...], product: str | None) -> Package | None:
    """The package of the first of ``cpes`` the table knows, else of nmap's ``product``."""
    table = _table()
    for cpe in cpes:
        key = vendor_product(cpe)
        if key is None:
            continue
        for keys, _pattern, package in table:
            if key in keys:
                return package
    if product:
        for _keys, pattern, package in table:
            if pattern is not None and pattern.search(product):
                return package
    return None
