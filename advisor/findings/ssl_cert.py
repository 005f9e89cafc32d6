"""Certificate problems read from ``ssl-cert``'s structured output.

``ssl-cert`` only describes the certificate; advisor derives the problems a reviewer would
flag: expired (relative to when the scan ran), not yet valid, self-signed (subject equals
issuer), weak public key, weak signature algorithm.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from advisor.findings.model import REPORTED, Finding, Kind, Location
from advisor.model import NseElem, NseTable, ScriptResult

_MIN_BITS = {"rsa": 2048, "dsa": 2048, "dh": 2048, "ec": 224}


#: What nmap writes (``2024-05-29T10:11:43``, ``+00:00`` optional): read with the C parser;
#: anything else goes through the strptime formats below.
_PLAIN_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    plain = value.removesuffix("+00:00")
    if _PLAIN_TIME.fullmatch(plain):
        try:
            return datetime.fromisoformat(plain).replace(tzinfo=UTC)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(value.replace("+00:00", ""), fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _name(table: NseTable | None) -> tuple[tuple[str, str], ...]:
    if table is None:
        return ()
    return tuple(sorted((c.key or "", c.value) for c in table.children if isinstance(c, NseElem)))


def extract(script: ScriptResult, where: Location, scan_time: datetime) -> list[Finding]:
    root = script.as_table()
    subject = _name(root.table("subject"))
    issuer = _name(root.table("issuer"))
    cn = dict(subject).get("commonName", "")
    validity = root.table("validity")
    not_after = _parse_time(validity.text("notAfter")) if validity else None
    not_before = _parse_time(validity.text("notBefore")) if validity else None
    pubkey = root.table("pubkey")
    key_type = (pubkey.text("type") or "").lower() if pubkey else ""
    bits_text = pubkey.text("bits") if pubkey else None
    sig = root.text("sig_algo") or ""
    facts = (
        ("subject_cn", cn),
        ("not_after", validity.text("notAfter") or "" if validity else ""),
        ("key", f"{key_type} {bits_text or '?'}"),
        ("signature", sig),
    )
    problems: list[tuple[str, str]] = []
    if not_after and not_after < scan_time:
        problems.append(
            (
                "expired",
                f"Certificate expired on {not_after:%Y-%m-%d} (scan ran {scan_time:%Y-%m-%d})",
            )
        )
    if not_before and not_before > scan_time:
        problems.append(("not-yet-valid", f"Certificate not valid before {not_before:%Y-%m-%d}"))
    if subject and subject == issuer:
        problems.append(
            ("self-signed", f"Self-signed certificate (subject = issuer: {cn or 'no CN'})")
        )
    if (
        bits_text
        and bits_text.isdigit()
        and key_type in _MIN_BITS
        and int(bits_text) < _MIN_BITS[key_type]
    ):
        problems.append(("weak-key", f"{key_type.upper()} key of {bits_text} bits"))
    lowered = sig.lower()
    if "md5" in lowered or "sha1" in lowered or "md2" in lowered or "md4" in lowered:
        problems.append(("weak-signature", f"Signature algorithm {sig}"))
    return [
        Finding(
            location=where,
            script=script.id,
            kind=Kind.CERT,
            title=problem,
            state=REPORTED,
            check_results=(text,),
            details=(("cert", problem), *facts),
        )
        for problem, text in problems
    ]
