"""Read each distinct script result once per run.

A large scan repeats itself: the same ``ssl-enum-ciphers`` result on every server built from
one image, the same ``vulners`` rows for every host running one package version. The memo
keys a script result by its content (script id, ``output``, every table value and the
top-level table keys; see :meth:`advisor.scan.xml.ElementTable.content_key` for why that is
enough), extracts its findings once, and hands
out the same location-free :class:`Template` objects for every repeat, which the advise stage
places at each endpoint. Extraction does not depend on where a script ran, so this changes
nothing but the time taken.

Memory is bounded: keys are counted in bytes and the memo starts afresh past
:data:`MAX_BYTES`; a script whose results rarely repeat (``ssl-cert``: every certificate
differs) stops being memoised after a trial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    plans: dict[object, object] = field(default_factory=dict)
    """The advise stage's outcome per endpoint context, to replay for repeats
    (see :func:`advisor.api.explain`)."""


class FindingMemo:
    """Findings of script results already seen in this run, by content."""

    def __init__(self, scan_time: datetime, enabled: bool = True) -> None:
        self._scan_time = scan_time
        self._enabled = enabled
        self._seen: dict[tuple[str, str, str], list[Template]] = {}
        self._bytes = 0
        self._tries: dict[str, list[int]] = {}
        self._off: set[str] = set()
        self.hits = 0
        self.misses = 0

    def _extract(self, script: ScriptResult) -> list[Template]:
        return [Template(f) for f in extract_script(script, NOWHERE, self._scan_time)]

    def templates(self, script: ScriptResult) -> list[Template]:
        """The findings of ``script``, location-free; repeats get the same objects."""
        sid = script.id
        key = None if sid in self._off or not self._enabled else script.content_key()
        if key is None:
            return self._extract(script)
        tries = self._tries.get(sid)
        if tries is None:
            tries = self._tries[sid] = [0, 0]
        tries[0] += 1
        hit = self._seen.get(key)
        if hit is not None:
            tries[1] += 1
            self.hits += 1
            return hit
        self.misses += 1
        if tries[0] >= TRIAL and tries[1] < tries[0] * MIN_HIT_RATE:
            self._off.add(sid)
            return self._extract(script)
        size = len(key[1]) + len(key[2]) + 64
        if self._bytes + size > MAX_BYTES:
            self._seen.clear()
            self._bytes = 0
        templates = self._seen[key] = self._extract(script)
        self._bytes += size
        return templates
