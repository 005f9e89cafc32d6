"""Which English a translation was made from, so that a changed entry shows up as stale.

A translation overlay (``knowledge/i18n/<lang>/ADV-nnnn.toml``) records in ``english_sha256``
the SHA-256 of every English text of its entry that a translation can replace: title, severity
reason and context reasons, summary/meaning/why/detection, false-positive notes, fix titles and
notes, why a change does not fix it, and what each verify step should show. When any of them
changes (or a fix is added), the digest no longer matches and ``advisor kb lint`` reports the
translation as stale until a translator has brought it up to date and stamped it again::

    python -m advisor.kb.translation stamp knowledge/i18n/ja/ADV-1001.toml

Commands, configuration lines and settings are not part of the digest: they are never
translated, so changing them leaves translations current. Three texts are only half prose and
are optional in an overlay: where a fix lives (``fixes[i].scope``), the change that does not fix
the finding (``not_fixes[i].change``) and a reference's title (``references[i].title``). They
are part of the digest only where the overlay translates them, so an overlay that leaves them
in English is not made stale by them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from advisor.kb.schema import Entry

DIGEST_KEY = "english_sha256"
_DIGEST_LINE = re.compile(rf"^{DIGEST_KEY}\s*=.*\n?", re.MULTILINE)


#: Optional overlay fields (list key, item key): in the digest only where an overlay has them.
OPTIONAL = (("fixes", "scope"), ("not_fixes", "change"), ("references", "title"))


def english_texts(entry: Entry, overlay: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """Every translatable English text of ``entry`` as (field path, text), in a fixed order;
    with ``overlay`` (the translation's data) also the :data:`OPTIONAL` texts it translates."""
    texts = [
        ("title", entry.title),
        ("severity_reason", entry.severity.reason),
        ("summary", entry.text.summary),
        ("meaning", entry.text.meaning),
        ("why", entry.text.why),
        ("detection", entry.text.detection),
    ]
    texts += [
        (f"severity_context[{i}].reason", c.reason) for i, c in enumerate(entry.severity.context)
    ]
    texts += [(f"false_positives[{i}].note", fp.note) for i, fp in enumerate(entry.false_positives)]
    for i, fix in enumerate(entry.fixes):
        texts += [(f"fixes[{i}].title", fix.title), (f"fixes[{i}].notes", fix.notes)]
    texts += [(f"not_fixes[{i}].why", nf.why) for i, nf in enumerate(entry.not_fixes)]
    texts += [(f"verify[{i}].expect", v.expect) for i, v in enumerate(entry.verify)]
    for key, sub in OPTIONAL:
        items = (overlay or {}).get(key)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(getattr(entry, key)):
            if i < len(items) and isinstance(items[i], dict) and str(items[i].get(sub, "")).strip():
                texts.append((f"{key}[{i}].{sub}", str(getattr(item, sub, "") or "")))
    return [(path, (text or "").strip()) for path, text in texts]


def english_digest(entry: Entry, overlay: dict[str, Any] | None = None) -> str:
    """The SHA-256 (hex) of :func:`english_texts`, as an overlay's ``english_sha256``."""
    data = json.dumps(english_texts(entry, overlay), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def load_overlay(overlay: Path) -> dict[str, Any]:
    with overlay.open("rb") as fh:
        return tomllib.load(fh)


def recorded_digest(overlay: Path) -> str | None:
    """The ``english_sha256`` an overlay file records, or None."""
    value = load_overlay(overlay).get(DIGEST_KEY)
    return value if isinstance(value, str) else None


def current(overlay: Path, entry: Entry) -> bool:
    """Whether ``overlay`` records the digest of the English of ``entry`` as it is now."""
    return recorded_digest(overlay) == english_digest(entry, load_overlay(overlay))


def stamp(overlay: Path, entry: Entry) -> str:
    """Write the current English digest of ``entry`` into ``overlay`` (first key of the file,
    after any leading comment lines), replacing an older one. Returns the digest."""
    digest = english_digest(entry, load_overlay(overlay))
    text = _DIGEST_LINE.sub("", overlay.read_text(encoding="utf-8"))
    lines = text.splitlines(keepends=True)
    at = 0
    while at < len(lines) and lines[at].startswith("#"):
        at += 1
    lines.insert(at, f'{DIGEST_KEY} = "{digest}"\n')
    overlay.write_text("".join(lines), encoding="utf-8")
    return digest


def main(argv: list[str] | None = None) -> int:
    """``stamp FILE...``: record that these translations match their English entries now;
    ``check FILE...``: print the stale ones (exit 1 if any)."""
    from advisor.kb import KnowledgeBase

    parser = argparse.ArgumentParser(prog="python -m advisor.kb.translation")
    parser.add_argument("action", choices=["stamp", "check"])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--knowledge", type=Path, default=None)
    args = parser.parse_args(argv)
    kb = KnowledgeBase.load(args.knowledge)
    stale = 0
    for path in args.files:
        entry = kb.get(path.stem)
        if entry is None:
            print(f"{path}: no knowledge entry {path.stem}", file=sys.stderr)
            return 2
        if args.action == "stamp":
            print(f"{path}: {stamp(path, entry)}")
        elif not current(path, entry):
            stale += 1
            print(f"{path}: stale (English changed since it was translated)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
