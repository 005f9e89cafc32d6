"""Which Postfix, Dovecot, nginx, Apache and OpenSSL versions a distribution release ships.

Used when no configuration evidence names a version: ``--os ubuntu-20.04`` (or a guess from
nmap's ``-sV`` banners and OS matches) picks the configuration syntax that release accepts, and
the advisory says it assumed so. The data, with a source and a verification note per release and
package, is ``advisor/data/distros.toml``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

__all__ = [
    "DistroGuess",
    "DistroPackages",
    "all_releases",
    "guess_from_host",
    "guess_from_os_match",
    "guess_from_service",
    "lookup",
]

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "distros.toml"
_PACKAGES = ("postfix", "dovecot", "nginx", "apache", "openssl", "openssh")


@dataclass(frozen=True, slots=True)
class DistroPackages:
    """Upstream versions of the relevant packages in one release."""

    os_id: str
    """``ubuntu-20.04``, ``debian-12``, ``rhel-9``."""
    name: str
    codename: str
    postfix: str
    dovecot: str
    nginx: str
    apache: str
    openssl: str
    openssh: str = ""
    notes: str = ""
    verified: Mapping[str, str] = field(default_factory=dict)
    """Per package: where the version was checked (see the TOML header)."""
    also: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per package: other upstream versions the release carried through its updates."""
    sources: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return self.os_id.split("-", 1)[0]

    def version_of(self, package: str) -> str | None:
        """``postfix`` -> ``3.4.13``; also accepts ``httpd``/``apache2`` and ``dovecot-core``."""
        key = {"httpd": "apache", "apache2": "apache", "dovecot-core": "dovecot"}.get(
            package.lower(), package.lower()
        )
        if key not in _PACKAGES:
            return None
        value: str = getattr(self, key)
        return value or None

    def versions_of(self, package: str) -> tuple[str, ...]:
        """The version :meth:`version_of` gives, then every other one in ``also``."""
        main = self.version_of(package)
        if main is None:
            return ()
        key = {"httpd": "apache", "apache2": "apache", "dovecot-core": "dovecot"}.get(
            package.lower(), package.lower()
        )
        return (main, *(v for v in self.also.get(key, ()) if v != main))


@dataclass(frozen=True, slots=True)
class DistroGuess:
    """A best-effort guess of the scanned host's release, with the reasoning to show."""

    os_id: str | None
    """The release when exactly one fits, else None."""
    candidates: tuple[str, ...]
    """Every release that fits the clues (one when ``os_id`` is set)."""
    family: str | None
    """``ubuntu``, ``debian`` or ``rhel`` when the clues say so."""
    confidence: str
    """``high`` (a package revision names the release), ``medium`` (version match), ``low``."""
    reason: str


@cache
def _load() -> tuple[DistroPackages, ...]:
    try:
        data = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ()
    out: list[DistroPackages] = []
    for entry in data.values():
        if not isinstance(entry, dict):
            continue
        verified = entry.get("verified", {})
        also = entry.get("also", {})
        out.append(
            DistroPackages(
                os_id=str(entry.get("id", "")),
                name=str(entry.get("name", "")),
                codename=str(entry.get("codename", "")),
                postfix=str(entry.get("postfix", "")),
                dovecot=str(entry.get("dovecot", "")),
                nginx=str(entry.get("nginx", "")),
                apache=str(entry.get("apache", "")),
                openssl=str(entry.get("openssl", "")),
                openssh=str(entry.get("openssh", "")),
                notes=str(entry.get("notes", "")),
                verified={str(k): str(v) for k, v in verified.items()}
                if isinstance(verified, dict)
                else {},
                sources=tuple(str(s) for s in entry.get("sources", ())),
                also={str(k): tuple(str(x) for x in v) for k, v in also.items()}
                if isinstance(also, dict)
                else {},
            )
        )
    return tuple(out)


def all_releases() -> tuple[DistroPackages, ...]:
    return _load()


_ALIASES = {
    "rhel": "rhel",
    "redhat": "rhel",
    "red-hat": "rhel",
    "centos": "rhel",
    "rocky": "rhel",
    "almalinux": "rhel",
    "alma": "rhel",
    "ol": "rhel",
    "oracle": "rhel",
    "ubuntu": "ubuntu",
    "debian": "debian",
}


def lookup(os_id: str) -> DistroPackages | None:
    """``ubuntu-20.04``, ``ubuntu20.04``, ``Ubuntu 20.04``, ``focal``, ``debian-12``,
    ``bookworm``, ``rhel-9``, ``rhel9.4``, ``rocky-9`` -> the release's packages, or None.

    RHEL rebuilds (CentOS Stream, Rocky, Alma, Oracle Linux) ship the same package versions and
    map to the RHEL entry.
    """
    text = os_id.strip().lower()
    if not text:
        return None
    releases = _load()
    for r in releases:
        if text in (r.os_id, r.codename) and text:
            return r
    m = re.match(r"([a-z][a-z -]*?)[\s_-]*(\d+)(?:\.(\d+))?", text)
    if not m:
        return None
    family = _ALIASES.get(m.group(1).strip().replace(" ", "-"))
    if family is None:
        return None
    major, minor = m.group(2), m.group(3)
    want = f"ubuntu-{major}.{minor or '04'}" if family == "ubuntu" else f"{family}-{major}"
    return next((r for r in releases if r.os_id == want), None)


def _upstream(version: str) -> str:
    """``8.2p1`` stays; ``1.18.0`` stays; ``2.4.41`` stays; cuts at the first space."""
    return version.strip().split()[0] if version.strip() else ""


def _family_in(text: str) -> str | None:
    t = text.lower()
    if "ubuntu" in t:
        return "ubuntu"
    if "debian" in t or re.search(r"deb\d+u\d+", t):
        return "debian"
    if any(k in t for k in ("red hat", "redhat", "rhel", "centos", "rocky", "alma", "el8", "el9")):
        return "rhel"
    return None


_PRODUCT_PACKAGE = (
    ("openssh", "openssh"),
    ("apache", "apache"),
    ("nginx", "nginx"),
    ("postfix", "postfix"),
    ("dovecot", "dovecot"),
)


def guess_from_service(
    product: str, version: str = "", extrainfo: str = "", cpes: Iterable[str] = ()
) -> DistroGuess | None:
    """Guess the release from one nmap ``-sV`` service: product, version, extrainfo, CPEs.

    ``OpenSSH 8.2p1 Ubuntu 4ubuntu0.5`` -> ubuntu-20.04; ``OpenSSH 8.4p1 Debian 5+deb11u1`` ->
    debian-11 (the ``debNuM`` revision names the release); ``Apache httpd 2.4.41 ((Ubuntu))``
    -> ubuntu-20.04 by version; ``nginx 1.18.0 (Ubuntu)`` -> 20.04 or 22.04 (ambiguous).
    """
    blob = " ".join((product, version, extrainfo, *cpes))
    m = re.search(r"deb(\d+)u\d+", blob)
    if m:
        r = lookup(f"debian-{m.group(1)}")
        if r is not None:
            return DistroGuess(
                r.os_id,
                (r.os_id,),
                "debian",
                "high",
                f"package revision '{m.group(0)}' in '{' '.join((product, version)).strip()}' "
                f"is a {r.name} update",
            )
    family = _family_in(blob)
    prod = product.lower()
    package = next((pkg for key, pkg in _PRODUCT_PACKAGE if key in prod), None)
    upstream = _upstream(version)
    if package is None or not upstream:
        if family:
            return DistroGuess(
                None,
                tuple(r.os_id for r in _load() if r.family == family),
                family,
                "low",
                f"'{blob.strip()}' says {family} but not which release",
            )
        return None
    matches = [
        r
        for r in _load()
        if (family is None or r.family == family)
        and any(
            upstream == v or (package == "openssh" and upstream.startswith(v))
            for v in r.versions_of(package)
        )
    ]
    if not matches:
        if family:
            return DistroGuess(
                None,
                tuple(r.os_id for r in _load() if r.family == family),
                family,
                "low",
                f"{product} {upstream} is not the version any {family} release in advisor's "
                "table ships (a backport or a self-built package?)",
            )
        return None
    ids = tuple(r.os_id for r in matches)
    what = f"{product} {upstream}" + (f" ({family})" if family else "")
    if len(matches) == 1 and family is not None:
        return DistroGuess(ids[0], ids, family, "medium", f"{what} is what {ids[0]} ships")
    return DistroGuess(
        None,
        ids,
        family,
        "low",
        f"{what} is shipped by {', '.join(ids)}",
    )


_OS_NAME = re.compile(
    r"(ubuntu|debian|red hat enterprise linux|rhel|centos(?: stream)?|rocky|almalinux)"
    r"(?:\s+linux)?\s*(\d+(?:\.\d+)?)?",
    re.IGNORECASE,
)


def guess_from_os_match(name: str) -> DistroGuess | None:
    """Guess from an nmap OS match name, e.g. ``Ubuntu Linux 20.04`` or ``Debian 11``.

    Most nmap OS matches name only a kernel range (``Linux 4.15 - 5.8``): then None.
    """
    m = _OS_NAME.search(name)
    if not m:
        for r in _load():
            if r.codename and re.search(rf"\b{re.escape(r.codename)}\b", name, re.IGNORECASE):
                return DistroGuess(
                    r.os_id, (r.os_id,), r.family, "medium", f"OS match '{name}' names it"
                )
        return None
    word = m.group(1).lower()
    family = "ubuntu" if word == "ubuntu" else "debian" if word == "debian" else "rhel"
    ver = m.group(2)
    if ver:
        hit = lookup(f"{family}-{ver}")
        if hit is not None:
            return DistroGuess(
                hit.os_id, (hit.os_id,), family, "medium", f"nmap OS match '{name}' names it"
            )
    return DistroGuess(
        None,
        tuple(r.os_id for r in _load() if r.family == family),
        family,
        "low",
        f"nmap OS match '{name}' names {family} but not the release",
    )


_RANK = {"high": 3, "medium": 2, "low": 1}


def guess_from_host(
    services: Iterable[tuple[str, str, str, Iterable[str]]], os_matches: Iterable[str] = ()
) -> DistroGuess | None:
    """Combine clues from every service (product, version, extrainfo, cpes) and OS match.

    The strongest guess wins; guesses that name different releases at the same strength are
    reported as ambiguous (os_id None) with all candidates.
    """
    guesses: list[DistroGuess] = []
    for product, version, extrainfo, cpes in services:
        g = guess_from_service(product, version, extrainfo, cpes)
        if g is not None:
            guesses.append(g)
    for name in os_matches:
        g = guess_from_os_match(name)
        if g is not None:
            guesses.append(g)
    if not guesses:
        return None
    best = max(_RANK[g.confidence] for g in guesses)
    top = [g for g in guesses if _RANK[g.confidence] == best]
    named = {g.os_id for g in top if g.os_id}
    if len(named) == 1:
        chosen = next(g for g in top if g.os_id)
        agree = [g.reason for g in top if g.os_id == chosen.os_id]
        return DistroGuess(
            chosen.os_id, chosen.candidates, chosen.family, chosen.confidence, "; ".join(agree)
        )
    if len(named) > 1:
        return DistroGuess(
            None,
            tuple(sorted(named)),
            None,
            "low",
            "clues disagree: " + "; ".join(g.reason for g in top),
        )
    # Only ambiguous guesses: intersect their candidates.
    common = set(top[0].candidates)
    for g in top[1:]:
        common &= set(g.candidates)
    reasons = "; ".join(g.reason for g in top)
    if len(common) == 1:
        only = next(iter(common))
        return DistroGuess(only, (only,), top[0].family, "medium", reasons + " (together)")
    return DistroGuess(None, tuple(sorted(common)), top[0].family, "low", reasons)
