"""Read each distinct script result once per run.

A large scan repeats itself: the same ``ssl-enum-ciphers`` result on every server built from
one image, the same ``vulners`` rows for every host running one package version. The memo
keys a script result by its content (script id, ``output``, every table value and the
top-level table keys; see :meth:`advisor.scan.xml.ElementTable.content_key` for why that is
enough), extracts its findings once, and hands
out the same location-free :class:`Template` objects for every repeat, which the advise stage
places at each endpoint. Extraction does not depend on where a script ran, so this changes
nothing but the time taken.

The ``vulns`` library numbers reports without an id through the run (``NMAP-1``, ``NMAP-2``,
...; :data:`advisor.model.VOLATILE_KEY`), so the same ``ssl-dh-params`` result has a new key
on every host. The key is left out of the content and mapped: a repeat under other numbers
gets copies of the templates that carry its own keys and share the originals' signatures.

Memory is bounded: keys are counted in bytes and the memo starts afresh past
:data:`MAX_BYTES`; a script whose results rarely repeat (``ssl-cert``: every certificate
differs) stops being memoised after a trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from advisor.findings import extract_script
from advisor.findings.model import NOWHERE, Finding
from advisor.model import ScriptResult

#: Bytes of keys (script output and table text) kept before the memo starts afresh.
MAX_BYTES = 8 << 20
#: Lookups of one script id before its hit rate is judged, and the rate that keeps it memoised.
TRIAL = 256
MIN_HIT_RATE = 0.25


@dataclass(slots=True, eq=False)
class Template:
    """A finding as extracted, before it is placed at an endpoint (location NOWHERE)."""

    finding: Finding
    sig: tuple[object, ...] | None = None
    """What advising it reads of the finding (:func:`advisor.api._signature`), computed once:
    the advise stage replays one plan per signature and endpoint context."""


class FindingMemo:
    """Findings of script results already seen in this run, by content."""

    def __init__(self, scan_time: datetime, enabled: bool = True) -> None:
        self._scan_time = scan_time
        self._enabled = enabled
        self._seen: dict[tuple[str, str, str], tuple[tuple[str, ...], list[Template]]] = {}
        self._bytes = 0
        self._tries: dict[str, list[int]] = {}
        self._off: set[str] = set()
        self.hits = 0
        self.misses = 0

    def _extract(self, script: ScriptResult) -> list[Template]:
        return [Template(f) for f in extract_script(script, NOWHERE, self._scan_time)]

    def templates(self, script: ScriptResult) -> list[Template]:
        """The findings of ``script``, location-free; repeats get the same objects, or
        (when only run-numbered table keys differ) copies that share their signatures."""
        sid = script.id
        got = None if sid in self._off or not self._enabled else script.content_key()
        if got is None:
            return self._extract(script)
        key, volatile = got
        tries = self._tries.get(sid)
        if tries is None:
            tries = self._tries[sid] = [0, 0]
        tries[0] += 1
        hit = self._seen.get(key)
        if hit is not None:
            keys, templates = hit
            if keys == volatile:
                tries[1] += 1
                self.hits += 1
                return templates
            rekeyed = _rekeyed(templates, keys, volatile)
            if rekeyed is not None:
                tries[1] += 1
                self.hits += 1
                return rekeyed
        self.misses += 1
        if tries[0] >= TRIAL and tries[1] < tries[0] * MIN_HIT_RATE:
            self._off.add(sid)
            return self._extract(script)
        templates = self._extract(script)
        if hit is not None:
            return templates  # run-numbered keys that do not map one to one: keep the first
        size = len(key[1]) + len(key[2]) + 64
        if self._bytes + size > MAX_BYTES:
            self._seen.clear()
            self._bytes = 0
        self._seen[key] = (volatile, templates)
        self._bytes += size
        return templates


def _rekeyed(
    templates: list[Template], old: tuple[str, ...], new: tuple[str, ...]
) -> list[Template] | None:
    """``templates`` of a result seen under the run-numbered keys ``old``, for the same result
    under ``new`` (position by position): the findings carry the new keys and share the
    signatures, since advice never depends on these keys. None when the keys do not correspond one
    to one."""
    if len(old) != len(new):
        return None
    mapping: dict[str, str] = {}
    for a, b in zip(old, new, strict=True):
        if mapping.setdefault(a, b) != b:
            return None
    if len(set(mapping.values())) != len(mapping):
        return None
    out = []
    for template in templates:
        table_key = template.finding.table_key
        if table_key is not None and table_key in mapping:
            finding = template.finding.with_table_key(mapping[table_key])
            template = Template(finding, template.sig)
        out.append(template)
    return out
