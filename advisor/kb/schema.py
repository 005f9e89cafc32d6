"""The knowledge entry schema (docs/knowledge-format.md), as frozen dataclasses.

:func:`parse_entry` turns a TOML document into an :class:`Entry` or raises
:class:`EntryError` listing every problem with its key path, e.g.
``ADV-1001: fixes[2].versions: bad version range '>=3.x'``. Unknown keys are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from advisor.kb.versions import VersionRange, VersionRangeError

SEVERITIES = ("info", "low", "medium", "high", "critical")
CATEGORIES = ("tls", "mail", "http", "smb", "service", "appliance", "version", "meta")
TLS_MODES = ("implicit", "starttls", "opportunistic")
TARGETS = (
    "postfix-main",
    "postfix-master",
    "dovecot",
    "nginx-http",
    "nginx-server",
    "apache",
    "sshd",
    "vsftpd",
    "redis",
    "samba-global",
    "snmpd",
    "php-ini",
    "haproxy-global",
    "haproxy-defaults",
    "haproxy-frontend",
    "memcached",
    "mariadb",
    "tomcat-connector",
    "squid",
    "bind-options",
    "exim",
    "none",
)
#: Why a fix cannot be proven on Debian 12's own packages: the closed list the proof matrix and
#: a fix's ``unproven`` key use (docs/knowledge-format.md, "Proof").
UNPROVEN_REASONS: dict[str, str] = {
    "old-build": "needs an old vulnerable build",
    "openssl-cannot": "Debian 12 OpenSSL cannot produce the state",
    "not-debian": "not Debian software",
    "procedure": "procedure, not configuration",
    "other-release": "another release",
}
CERT_PROBLEMS = ("expired", "not-yet-valid", "self-signed", "weak-key", "weak-signature")
MATCH_KINDS = ("titles", "warnings", "grades", "protocols", "output", "vulners", "error", "cert")
ID_RE = re.compile(r"^ADV-\d{4}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s]+$")


class EntryError(Exception):
    """An entry that does not follow the schema. ``problems`` holds one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Condition:
    """``when`` of a severity context rule or a false-positive note; all given keys must hold."""

    ports: tuple[int, ...] = ()
    services: tuple[str, ...] = ()
    tls_mode: str | None = None
    software: tuple[str, ...] = ()
    not_software: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    check_results: tuple[re.Pattern[str], ...] = ()
    honeypot: bool | None = None
    """True: only on a host that nmap's identification shows to be a honeypot (see
    advisor/data/identification.toml); False: only on other hosts; None: either."""


@dataclass(frozen=True, slots=True)
class Match:
    scripts: tuple[str, ...]
    titles: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    warnings: tuple[re.Pattern[str], ...] = ()
    grades: tuple[str, ...] = ()
    protocols: tuple[str, ...] = ()
    output: tuple[re.Pattern[str], ...] = ()
    clean_output: tuple[re.Pattern[str], ...] = ()
    vulners: bool = False
    error: bool = False
    cert: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """Which of :data:`MATCH_KINDS` this entry matches on."""
        for name in MATCH_KINDS:
            if getattr(self, name):
                return name
        return "titles"


@dataclass(frozen=True, slots=True)
class SeverityRule:
    when: Condition
    level: str
    reason: str


@dataclass(frozen=True, slots=True)
class Severity:
    level: str
    reason: str
    context: tuple[SeverityRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Text:
    summary: str
    meaning: str
    why: str
    detection: str


@dataclass(frozen=True, slots=True)
class FalsePositive:
    when: Condition
    note: str


@dataclass(frozen=True, slots=True)
class Fix:
    software: str
    title: str
    versions: VersionRange = field(default_factory=VersionRange.any)
    scope: str = ""
    ports: tuple[int, ...] = ()
    config: str = ""
    settings: tuple[tuple[str, str], ...] = ()
    target: str = "none"
    commands: tuple[str, ...] = ()
    reload: str = ""
    notes: str = ""
    recommended: bool = False
    references: tuple[Reference, ...] = ()
    unproven: str = ""
    """Why this fix cannot be proven here, when the proof suite cannot tell by itself: a key
    of :data:`UNPROVEN_REASONS` (e.g. ``openssl-cannot`` for an RC4 fix)."""


@dataclass(frozen=True, slots=True)
class NotFix:
    change: str
    why: str
    software: str | None = None
    settings: tuple[tuple[str, str], ...] = ()
    target: str = "none"
    ports: tuple[int, ...] = ()
    versions: VersionRange = field(default_factory=VersionRange.any)
    """The versions where this change does not work (all when empty)."""


@dataclass(frozen=True, slots=True)
class Verify:
    command: str
    expect: str
    software: str | None = None
    """Only show this command for that software (e.g. ``postconf`` for Postfix)."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    slug: str
    title: str
    category: str
    match: Match
    severity: Severity
    text: Text
    verify: tuple[Verify, ...]
    references: tuple[Reference, ...]
    false_positives: tuple[FalsePositive, ...] = ()
    fixes: tuple[Fix, ...] = ()
    fixable: bool = True
    not_fixes: tuple[NotFix, ...] = ()
    cve: tuple[str, ...] = ()


# --------------------------------------------------------------------------- validation
class _Checker:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def keys(self, data: dict[str, Any], path: str, required: set[str], optional: set[str]) -> None:
        for key in sorted(required - data.keys()):
            self.fail(f"{path}{key}", "missing (required)")
        for key in sorted(data.keys() - required - optional):
            allowed = ", ".join(sorted(required | optional))
            self.fail(f"{path}{key}", f"unknown key (allowed here: {allowed})")

    def string(self, data: dict[str, Any], key: str, path: str, default: str = "") -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            self.fail(path + key, f"must be a string, not {type(value).__name__}")
            return default
        return value

    def text(self, data: dict[str, Any], key: str, path: str) -> str:
        value = self.string(data, key, path)
        if key in data and not value.strip():
            self.fail(path + key, "must not be empty")
        return value.strip()

    def strings(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(path + key, "must be a list of strings")
            return ()
        return tuple(value)

    def ints(self, data: dict[str, Any], key: str, path: str) -> tuple[int, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 65536 for v in value
        ):
            self.fail(path + key, "must be a list of port numbers (1-65535)")
            return ()
        return tuple(value)

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(path + key, "must be true or false")
            return default
        return value

    def regexes(self, data: dict[str, Any], key: str, path: str) -> tuple[re.Pattern[str], ...]:
        out = []
        for i, pattern in enumerate(self.strings(data, key, path)):
            try:
                out.append(re.compile(pattern, re.I | re.M))
            except re.error as exc:
                self.fail(f"{path}{key}[{i}]", f"bad regular expression {pattern!r}: {exc}")
        return tuple(out)

    def table(self, data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.fail(path + key, "must be a table")
            return {}
        return value

    def tables(self, data: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(path + key, f"must be an array of tables ([[{key}]])")
            return []
        return value

    def choice(self, value: str, choices: tuple[str, ...], path: str) -> None:
        if value not in choices:
            self.fail(path, f"{value!r} is not one of: {', '.join(choices)}")

    def settings(self, data: dict[str, Any], path: str) -> tuple[tuple[str, str], ...]:
        value = data.get("settings", {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            self.fail(path + "settings", 'must be a table of setting = "value" strings')
            return ()
        return tuple(value.items())


def _references(c: _Checker, items: list[dict[str, Any]], path: str) -> tuple[Reference, ...]:
    out = []
    for i, ref in enumerate(items):
        p = f"{path}[{i}]."
        c.keys(ref, p, {"title", "url"}, set())
        url = c.string(ref, "url", p)
        if url and not URL_RE.match(url):
            c.fail(p + "url", f"not an http(s) URL: {url!r}")
        out.append(Reference(c.text(ref, "title", p), url))
    return tuple(out)


_CONDITION_KEYS = {
    "ports",
    "services",
    "tls_mode",
    "software",
    "not_software",
    "states",
    "check_results",
    "honeypot",
}


def _condition(c: _Checker, data: dict[str, Any], path: str) -> Condition:
    c.keys(data, path, set(), _CONDITION_KEYS)  # an empty condition always holds
    mode = data.get("tls_mode")
    if mode is not None:
        c.choice(str(mode), TLS_MODES, path + "tls_mode")
    return Condition(
        ports=c.ints(data, "ports", path),
        services=tuple(s.lower() for s in c.strings(data, "services", path)),
        tls_mode=str(mode) if mode is not None else None,
        software=tuple(s.lower() for s in c.strings(data, "software", path)),
        not_software=tuple(s.lower() for s in c.strings(data, "not_software", path)),
        states=c.strings(data, "states", path),
        check_results=c.regexes(data, "check_results", path),
        honeypot=c.boolean(data, "honeypot", path, False) if "honeypot" in data else None,
    )


def _versions(c: _Checker, data: dict[str, Any], path: str) -> VersionRange:
    text = c.string(data, "versions", path)
    try:
        return VersionRange.parse(text)
    except VersionRangeError as exc:
        c.fail(path + "versions", str(exc))
        return VersionRange.any()


def _match(c: _Checker, data: dict[str, Any]) -> Match:
    p = "match."
    c.keys(
        data,
        p,
        {"script"},
        {
            "titles",
            "states",
            "ids",
            "warnings",
            "grades",
            "protocols",
            "output",
            "clean_output",
            "vulners",
            "error",
            "cert",
        },
    )
    scripts = c.strings(data, "script", p)
    if "script" in data and not scripts:
        c.fail(p + "script", "name at least one NSE script id")
    given = [k for k in MATCH_KINDS if data.get(k)]
    if len(given) != 1:
        c.fail(
            p.rstrip("."),
            f"give exactly one of {', '.join(MATCH_KINDS)} (found: {', '.join(given) or 'none'})",
        )
    cert = c.strings(data, "cert", p)
    for problem in cert:
        c.choice(problem, CERT_PROBLEMS, p + "cert")
    return Match(
        scripts=scripts,
        titles=tuple(" ".join(t.split()).lower() for t in c.strings(data, "titles", p)),
        states=c.strings(data, "states", p),
        ids=tuple(i.upper() for i in c.strings(data, "ids", p)),
        warnings=c.regexes(data, "warnings", p),
        grades=c.strings(data, "grades", p),
        protocols=c.strings(data, "protocols", p),
        output=c.regexes(data, "output", p),
        clean_output=c.regexes(data, "clean_output", p),
        vulners=c.boolean(data, "vulners", p, False),
        error=c.boolean(data, "error", p, False),
        cert=cert,
    )


def _severity(c: _Checker, data: dict[str, Any]) -> Severity:
    p = "severity."
    c.keys(data, p, {"level", "reason"}, {"context"})
    level = c.string(data, "level", p)
    c.choice(level, SEVERITIES, p + "level")
    rules = []
    for i, rule in enumerate(c.tables(data, "context", p)):
        rp = f"{p}context[{i}]."
        c.keys(rule, rp, {"when", "level", "reason"}, set())
        rlevel = c.string(rule, "level", rp)
        c.choice(rlevel, SEVERITIES, rp + "level")
        rules.append(
            SeverityRule(
                _condition(c, c.table(rule, "when", rp), rp + "when."),
                rlevel,
                c.text(rule, "reason", rp),
            )
        )
    return Severity(level, c.text(data, "reason", p), tuple(rules))


def _fixes(c: _Checker, items: list[dict[str, Any]]) -> tuple[Fix, ...]:
    out = []
    for i, fix in enumerate(items):
        p = f"fixes[{i}]."
        c.keys(
            fix,
            p,
            {"software", "title"},
            {
                "versions",
                "scope",
                "ports",
                "config",
                "settings",
                "target",
                "commands",
                "reload",
                "notes",
                "recommended",
                "references",
                "unproven",
            },
        )
        target = c.string(fix, "target", p, "none")
        unproven = c.string(fix, "unproven", p)
        if unproven:
            c.choice(unproven, tuple(UNPROVEN_REASONS), p + "unproven")
        c.choice(target, TARGETS, p + "target")
        settings = c.settings(fix, p)
        if settings and target == "none":
            c.fail(p + "target", "settings need a target that says how to apply them")
        if not (fix.get("config") or fix.get("commands") or fix.get("notes")):
            c.fail(p.rstrip("."), "give the change: config, commands or notes")
        out.append(
            Fix(
                software=c.string(fix, "software", p).lower(),
                title=c.text(fix, "title", p),
                versions=_versions(c, fix, p),
                scope=c.string(fix, "scope", p),
                ports=c.ints(fix, "ports", p),
                config=c.string(fix, "config", p).strip("\n"),
                settings=settings,
                target=target,
                commands=c.strings(fix, "commands", p),
                reload=c.string(fix, "reload", p),
                notes=c.string(fix, "notes", p).strip(),
                recommended=c.boolean(fix, "recommended", p, False),
                references=_references(c, c.tables(fix, "references", p), p + "references"),
                unproven=unproven,
            )
        )
    return tuple(out)


def _not_fixes(c: _Checker, items: list[dict[str, Any]]) -> tuple[NotFix, ...]:
    out = []
    for i, nf in enumerate(items):
        p = f"not_fixes[{i}]."
        c.keys(nf, p, {"change", "why"}, {"software", "settings", "target", "ports", "versions"})
        target = c.string(nf, "target", p, "none")
        c.choice(target, TARGETS, p + "target")
        software = nf.get("software")
        out.append(
            NotFix(
                change=c.text(nf, "change", p),
                why=c.text(nf, "why", p),
                software=str(software).lower() if software else None,
                settings=c.settings(nf, p),
                target=target,
                ports=c.ints(nf, "ports", p),
                versions=_versions(c, nf, p),
            )
        )
    return tuple(out)


def _false_positives(c: _Checker, items: list[dict[str, Any]]) -> tuple[FalsePositive, ...]:
    out = []
    for i, fp in enumerate(items):
        p = f"false_positives[{i}]."
        c.keys(fp, p, {"when", "note"}, set())
        out.append(
            FalsePositive(_condition(c, c.table(fp, "when", p), p + "when."), c.text(fp, "note", p))
        )
    return tuple(out)


def parse_entry(data: dict[str, Any], source: str) -> Entry:
    """Validate one entry's TOML data; raise :class:`EntryError` with every problem found."""
    c = _Checker()
    c.keys(
        data,
        "",
        {"id", "slug", "title", "category", "match", "severity", "text", "verify", "references"},
        {"false_positives", "fixes", "fixable", "not_fixes", "cve"},
    )
    entry_id = c.string(data, "id", "")
    if entry_id and not ID_RE.match(entry_id):
        c.fail("id", f"{entry_id!r} is not of the form ADV-nnnn")
    slug = c.string(data, "slug", "")
    if slug and not SLUG_RE.match(slug):
        c.fail("slug", f"{slug!r} is not kebab-case")
    category = c.string(data, "category", "")
    c.choice(category, CATEGORIES, "category")
    text = c.table(data, "text", "")
    c.keys(text, "text.", {"summary", "meaning", "why", "detection"}, set())
    fixable = c.boolean(data, "fixable", "", True)
    fixes = _fixes(c, c.tables(data, "fixes", ""))
    if fixable and not fixes:
        c.fail("fixes", "add at least one [[fixes]] (or set fixable = false and say why in text)")
    verify = []
    for i, v in enumerate(c.tables(data, "verify", "")):
        p = f"verify[{i}]."
        c.keys(v, p, {"command", "expect"}, {"software"})
        sw = v.get("software")
        verify.append(
            Verify(c.text(v, "command", p), c.text(v, "expect", p), str(sw).lower() if sw else None)
        )
    if "verify" in data and not verify:
        c.fail("verify", "add at least one [[verify]] command")
    references = _references(c, c.tables(data, "references", ""), "references")
    if "references" in data and not references:
        c.fail("references", "include at least one URL in [[references]]")
    cves = c.strings(data, "cve", "")
    for cve in cves:
        if not re.match(r"^CVE-\d{4}-\d{4,}$", cve):
            c.fail("cve", f"{cve!r} is not a CVE id (CVE-YYYY-NNNN)")
    entry = Entry(
        id=entry_id,
        slug=slug,
        title=c.text(data, "title", ""),
        category=category,
        match=_match(c, c.table(data, "match", "")),
        severity=_severity(c, c.table(data, "severity", "")),
        text=Text(*(c.text(text, k, "text.") for k in ("summary", "meaning", "why", "detection"))),
        verify=tuple(verify),
        references=references,
        false_positives=_false_positives(c, c.tables(data, "false_positives", "")),
        fixes=fixes,
        fixable=fixable,
        not_fixes=_not_fixes(c, c.tables(data, "not_fixes", "")),
        cve=cves,
    )
    if c.problems:
        raise EntryError(source, c.problems)
    return entry
