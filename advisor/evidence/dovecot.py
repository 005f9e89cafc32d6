"""Read ``doveconf -n`` (or a dovecot.conf): version, settings with their section paths, listeners.

``doveconf -n`` prints the version on its first line, ``# 2.3.19.1 (9b53102964):
/etc/dovecot/dovecot.conf``, then only settings that differ from the defaults, with nested
sections such as ``protocol imap { ... }``, ``service imap-login { inet_listener imaps { port =
993 } }``, ``local 127.0.0.1 { ... }``, ``remote 10.0.0.0/8 { ... }``,
``local_name mail.example.com { ... }``. A raw dovecot.conf may also hold ``!include`` and
``!include_try`` lines, which are recorded (the included files are not read).

Listeners: ``doveconf -n`` omits default ports, so a listener with only ``ssl = yes`` has the
default port of its name, and a protocol enabled in ``protocols`` with no listener section
listens on its defaults. Those are returned with ``implicit=True``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DovecotConfig",
    "DovecotListener",
    "DovecotSetting",
    "parse_doveconf",
]

# Default listeners of Dovecot 2.x: (service, listener name) -> port, TLS from the first byte.
DEFAULT_LISTENERS: dict[tuple[str, str], tuple[int, bool]] = {
    ("imap-login", "imap"): (143, False),
    ("imap-login", "imaps"): (993, True),
    ("pop3-login", "pop3"): (110, False),
    ("pop3-login", "pop3s"): (995, True),
    ("submission-login", "submission"): (587, False),
    ("submission-login", "submissions"): (465, True),
    ("managesieve-login", "sieve"): (4190, False),
    ("lmtp", "lmtp"): (24, False),
}
_PROTOCOL_SERVICE = {
    "imap": "imap-login",
    "pop3": "pop3-login",
    "submission": "submission-login",
    "sieve": "managesieve-login",
}
# Listeners Dovecot defines by default for each protocol (doveconf -d); submissions (465) is
# not enabled by default.
_PROTOCOL_DEFAULTS = {
    "imap": ("imap", "imaps"),
    "pop3": ("pop3", "pop3s"),
    "submission": ("submission",),
    "sieve": ("sieve",),
}
_VERSION = re.compile(
    r"^#\s*(\d+\.\d+(?:\.\d+)*(?:[.\-+~][0-9A-Za-z.+~-]*)?)\s*(?:\(([0-9a-f]+)\))?"
)


@dataclass(frozen=True, slots=True)
class DovecotSetting:
    path: tuple[str, ...]
    """Enclosing sections, outermost first: ``("service imap-login", "inet_listener imaps")``."""
    key: str
    value: str
    lineno: int

    @property
    def where(self) -> str:
        """``service imap-login { inet_listener imaps { ... } }`` style location, or global."""
        return " > ".join(self.path) if self.path else "global"


@dataclass(frozen=True, slots=True)
class DovecotListener:
    service: str
    """``imap-login``, ``pop3-login`` ..."""
    name: str
    """``imap``, ``imaps`` ..."""
    port: int
    addresses: tuple[str, ...]
    """From the listener's ``address``, else the global ``listen`` (default ``*, ::``)."""
    ssl: bool
    """TLS from the first byte (``ssl = yes``); False means STARTTLS (if ``ssl`` allows)."""
    implicit: bool = False
    """True when the port is Dovecot's default, not written in the evidence."""
    lineno: int = 0


@dataclass(frozen=True, slots=True)
class DovecotConfig:
    version: str | None = None
    """``2.3.19.1``; None when the first line was missing."""
    build: str | None = None
    """The git hash in parentheses."""
    config_path: str | None = None
    settings: tuple[DovecotSetting, ...] = ()
    listeners: tuple[DovecotListener, ...] = ()
    includes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def major_minor(self) -> tuple[int, int] | None:
        """(2, 3) for 2.3.19.1; the settings syntax differs between 2.2, 2.3 and 2.4."""
        if not self.version:
            return None
        m = re.match(r"(\d+)\.(\d+)", self.version)
        return (int(m.group(1)), int(m.group(2))) if m else None

    def get(self, key: str, path: tuple[str, ...] = ()) -> str | None:
        """The value of ``key`` in exactly this section (global by default), last one wins."""
        found: str | None = None
        for s in self.settings:
            if s.key == key and s.path == path:
                found = s.value
        return found

    def find(self, key: str) -> list[DovecotSetting]:
        """Every place ``key`` is set, global and in sections."""
        return [s for s in self.settings if s.key == key]

    def effective(self, key: str, protocol: str | None = None) -> DovecotSetting | None:
        """``key`` for a protocol: its ``protocol X { }`` value, else the global one.

        ``local``/``remote``/``local_name`` blocks can override further for some clients; use
        :meth:`find` to show those.
        """
        if protocol:
            hit = [s for s in self.settings if s.key == key and s.path == (f"protocol {protocol}",)]
            if hit:
                return hit[-1]
        glob = [s for s in self.settings if s.key == key and not s.path]
        return glob[-1] if glob else None

    def listeners_on(self, port: int) -> list[DovecotListener]:
        return [x for x in self.listeners if x.port == port]


def _strip_comment(line: str) -> str:
    """Remove a ``#`` comment that is not inside quotes."""
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return v


def parse_doveconf(text: str) -> DovecotConfig:
    """Read ``doveconf -n`` output (or dovecot.conf). Never raises on any ``str``."""
    version: str | None = None
    build: str | None = None
    config_path: str | None = None
    settings: list[DovecotSetting] = []
    includes: list[str] = []
    warnings: list[str] = []
    stack: list[tuple[str, int]] = []
    listener_lines: dict[tuple[str, ...], int] = {}
    seen_content = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if version is None and not seen_content:
                m = _VERSION.match(stripped)
                if m:
                    version, build = m.group(1), m.group(2)
                    _, sep, rest = stripped.partition(": ")
                    config_path = rest.strip() if sep else None
            continue
        if stripped.startswith("doveconf:"):
            warnings.append(f"line {lineno}: {stripped[:200]}")
            continue
        seen_content = True
        if stripped.startswith("!include"):
            _, _, target = stripped.partition(" ")
            includes.append(target.strip())
            continue
        # doveconf -n writes secrets as "ssl_key = # hidden, use -P to show it": keep that
        hidden = re.match(r"[^=\s]+\s*=\s*# hidden", stripped) is not None
        line = stripped if hidden else _strip_comment(stripped).strip()
        if not line:
            continue
        # "key = value" first: values may contain braces (e.g. %{user})
        if "=" in line and not line.endswith("{"):
            key, _, value = line.partition("=")
            key = key.strip()
            if not key or " " in key:
                warnings.append(f"line {lineno}: cannot read {stripped[:80]!r}")
                continue
            settings.append(
                DovecotSetting(tuple(s for s, _ in stack), key, _unquote(value), lineno)
            )
            continue
        if line.endswith("{"):
            head = " ".join(line[:-1].split())
            if not head:
                warnings.append(f"line {lineno}: section without a name")
                head = "?"
            stack.append((head, lineno))
            path = tuple(s for s, _ in stack)
            if head.startswith("inet_listener"):
                listener_lines[path] = lineno
            continue
        if line == "}":
            if stack:
                stack.pop()
            else:
                warnings.append(f"line {lineno}: '}}' without an open section")
            continue
        warnings.append(f"line {lineno}: cannot read {stripped[:80]!r}")
    if stack:
        warnings.append(f"{len(stack)} section(s) not closed (input cut short?)")
    if version is None:
        warnings.append(
            "no version line: doveconf -n prints '# 2.3.x (hash): /etc/dovecot/dovecot.conf' "
            "first; paste the whole output"
        )
    listeners = _listeners(settings, listener_lines)
    return DovecotConfig(
        version,
        build,
        config_path,
        tuple(settings),
        tuple(listeners),
        tuple(includes),
        tuple(warnings),
    )


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(x for x in re.split(r"[\s,]+", value) if x)


def _listeners(
    settings: list[DovecotSetting], listener_lines: dict[tuple[str, ...], int]
) -> list[DovecotListener]:
    glob = {s.key: s.value for s in settings if not s.path}
    default_addrs = _split_list(glob.get("listen", "*, ::"))
    out: list[DovecotListener] = []
    explicit: set[tuple[str, str]] = set()
    for path, lineno in listener_lines.items():
        if len(path) < 2 or not path[-2].startswith("service "):
            continue
        service = path[-2].split(None, 1)[1] if " " in path[-2] else ""
        name = path[-1].split(None, 1)[1] if " " in path[-1] else ""
        values = {s.key: s.value for s in settings if s.path == path}
        explicit.add((service, name))
        default = DEFAULT_LISTENERS.get((service, name))
        port_text = values.get("port")
        implicit = False
        if port_text is not None and port_text.strip().isdigit():
            port = int(port_text)
        elif default is not None:
            port, implicit = default[0], True
        else:
            continue
        if port == 0 or port > 65535:
            continue  # port = 0 disables the listener
        ssl_text = values.get("ssl")
        ssl = (
            ssl_text.strip().lower() == "yes"
            if ssl_text is not None
            else (default[1] if default else False)
        )
        addrs = _split_list(values["address"]) if "address" in values else default_addrs
        out.append(DovecotListener(service, name, port, addrs, ssl, implicit, lineno))
    protocols = _split_list(glob.get("protocols", "imap pop3 lmtp"))
    for proto in protocols:
        login = _PROTOCOL_SERVICE.get(proto)
        if login is None:
            continue
        for name in _PROTOCOL_DEFAULTS.get(proto, ()):
            if (login, name) in explicit:
                continue
            port, ssl = DEFAULT_LISTENERS[(login, name)]
            out.append(DovecotListener(login, name, port, default_addrs, ssl, True, 0))
    return out
