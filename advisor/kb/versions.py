"""Software versions and version ranges as the knowledge base writes them.

Versions are compared on their leading dotted numbers only (``3.4.13-0ubuntu1.4`` is 3.4.13,
``2.3.19.1`` is 2.3.19.1), because distribution suffixes say nothing about upstream syntax.
A range is a comma-separated list of comparisons, all of which must hold: ``">=3.4,<3.6"``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_LEADING = re.compile(r"(\d+(?:\.\d+)*)")
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)?\s*(\d+(?:\.\d+)*)\s*$")
_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
}


class VersionRangeError(ValueError):
    pass


@lru_cache(maxsize=4096)
def parse_version(text: str | None) -> tuple[int, ...] | None:
    """The leading dotted number of a version string, as a tuple; None if there is none."""
    if not text:
        return None
    m = _LEADING.search(text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _pad(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


@dataclass(frozen=True, slots=True)
class VersionRange:
    clauses: tuple[tuple[str, tuple[int, ...]], ...] = ()
    text: str = ""

    @classmethod
    def any(cls) -> VersionRange:
        return cls()

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        if not text.strip():
            return cls()
        clauses = []
        for part in text.split(","):
            m = _CLAUSE.match(part)
            if not m:
                raise VersionRangeError(
                    f"bad version range {text!r}: write comparisons like '>=3.4,<3.6'"
                )
            clauses.append((m.group(1) or "==", tuple(int(p) for p in m.group(2).split("."))))
        return cls(tuple(clauses), text.strip())

    @property
    def is_any(self) -> bool:
        return not self.clauses

    def contains(self, version: tuple[int, ...]) -> bool:
        for op, bound in self.clauses:
            a, b = _pad(version, bound)
            if not _OPS[op](a, b):
                return False
        return True

    def describe(self) -> str:
        return self.text or "all versions"
