"""Read ``nginx -T`` output: per server block, its listen sockets and TLS directives, with files.

``nginx -T`` prints every configuration file once, each after a line
``# configuration file /etc/nginx/sites-enabled/default:``; ``include`` directives stay as
written. So this reader splits the dump into files, parses each, and expands ``include`` by
matching its pattern against the dumped file names (relative patterns against the main file's
directory), as nginx did when it read them. Directives a server block inherits from ``http``
(or ``stream``/``mail``) are reported with the file they are in.

``nginx -T 2>&1`` adds "syntax is ok" lines, and ``nginx -v`` prints ``nginx version:
nginx/1.22.1``: both are understood.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field

__all__ = [
    "NginxConfig",
    "NginxDirective",
    "NginxListen",
    "NginxServer",
    "parse_nginx",
]

_MARKER = re.compile(r"^# configuration file (.+):\s*$")
_VERSION = re.compile(r"nginx version: [A-Za-z]+/(\d+\.\d+(?:\.\d+)?)")
_BLOCK_CONTEXTS = ("http", "stream", "mail")
_MAX_INCLUDE_DEPTH = 12


@dataclass(frozen=True, slots=True)
class NginxDirective:
    name: str
    args: tuple[str, ...]
    file: str
    line: int
    """Line in ``file`` (1-based)."""
    context: str = ""
    """Enclosing blocks: ``http``, ``http > server`` ..."""

    @property
    def text(self) -> str:
        """The directive as it would be written: ``ssl_protocols TLSv1.2 TLSv1.3;``."""
        return " ".join((self.name, *self.args)) + ";"


@dataclass(frozen=True, slots=True)
class NginxListen:
    address: str | None
    """``127.0.0.1``, ``::``, ``::1``; None = every IPv4 address (``listen 443`` or ``*:443``)."""
    port: int | None
    ssl: bool = False
    http2: bool = False
    default_server: bool = False
    ipv6only: bool | None = None
    """For ``[::]``: nginx defaults to ``ipv6only=on`` (since 1.3.4)."""
    unix: str | None = None
    implicit: bool = False
    """True for the ``*:80`` nginx assumes when a server block has no listen."""
    directive: NginxDirective | None = None


@dataclass(frozen=True, slots=True)
class NginxServer:
    context: str
    """``http``, ``stream`` or ``mail``."""
    file: str
    line: int
    server_names: tuple[str, ...] = ()
    listens: tuple[NginxListen, ...] = ()
    directives: tuple[NginxDirective, ...] = ()
    """Directives written directly in this server block (after include expansion)."""
    inherited: tuple[NginxDirective, ...] = ()
    """Directives of the enclosing ``http``/``stream``/``mail`` block (and main level)."""

    @property
    def ssl(self) -> bool:
        return any(x.ssl for x in self.listens) or any(
            d.name == "ssl" and d.args[:1] == ("on",) for d in self.directives
        )

    def effective(self, name: str) -> list[NginxDirective]:
        """The directive(s) that apply here: the server's own, else the inherited ones."""
        own = [d for d in self.directives if d.name == name]
        return own if own else [d for d in self.inherited if d.name == name]

    def ssl_directives(self) -> dict[str, list[NginxDirective]]:
        """Every ``ssl_*`` directive that applies to this server, own or inherited."""
        names = dict.fromkeys(
            d.name for d in (*self.directives, *self.inherited) if d.name.startswith("ssl_")
        )
        return {n: self.effective(n) for n in names}

    def listens_on(self, port: int) -> bool:
        return any(x.port == port for x in self.listens)


@dataclass(frozen=True, slots=True)
class NginxConfig:
    version: str | None = None
    files: tuple[str, ...] = ()
    servers: tuple[NginxServer, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def servers_for_port(self, port: int, address: str | None = None) -> list[NginxServer]:
        """Server blocks listening on ``port`` (bound to ``address`` or to a wildcard)."""
        out = []
        for s in self.servers:
            for lst in s.listens:
                if lst.port != port:
                    continue
                if address is None or lst.address in (None, "::", "0.0.0.0", "*"):
                    out.append(s)
                    break
                if lst.address == address.strip("[]"):
                    out.append(s)
                    break
        return out


@dataclass(slots=True)
class _Node:
    name: str
    args: list[str]
    file: str
    line: int
    block: list[_Node] | None = None


def _tokenize(text: str) -> list[tuple[str, int, bool]]:
    """(token, line, quoted). Specials ``{ } ;`` come back as their own tokens."""
    out: list[tuple[str, int, bool]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch in "{};":
            out.append((ch, line, False))
            i += 1
        elif ch in "\"'":
            start_line = line
            j, buf = i + 1, []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            out.append(("".join(buf), start_line, True))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ";{}":
                if text[j] == "$" and j + 1 < n and text[j + 1] == "{":
                    k = text.find("}", j)
                    j = k + 1 if k > 0 else n
                    continue
                if text[j] == "\\" and j + 1 < n:
                    j += 2
                    continue
                j += 1
            out.append((text[i:j], line, False))
            i = j
    return out


def _parse_file(text: str, path: str, warnings: list[str]) -> list[_Node]:
    tokens = _tokenize(text)
    root: list[_Node] = []
    stack: list[list[_Node]] = [root]
    words: list[tuple[str, int, bool]] = []
    for tok, line, quoted in tokens:
        if not quoted and tok == ";":
            if words:
                stack[-1].append(
                    _Node(words[0][0], [w for w, _, _ in words[1:]], path, words[0][1])
                )
            words = []
        elif not quoted and tok == "{":
            if not words:
                warnings.append(f"{path}:{line}: block without a name")
                words = [("?", line, False)]
            node = _Node(words[0][0], [w for w, _, _ in words[1:]], path, words[0][1], [])
            stack[-1].append(node)
            assert node.block is not None
            stack.append(node.block)
            words = []
        elif not quoted and tok == "}":
            if words:
                warnings.append(f"{path}:{line}: directive {words[0][0]!r} lacks its ';'")
                words = []
            if len(stack) > 1:
                stack.pop()
            else:
                warnings.append(f"{path}:{line}: '}}' without an open block")
        else:
            words.append((tok, line, quoted))
    if len(stack) > 1:
        warnings.append(f"{path}: {len(stack) - 1} block(s) not closed (dump cut short?)")
    return root


def _split_files(text: str) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    current: str | None = None
    buf: list[str] = []
    for raw in text.splitlines():
        m = _MARKER.match(raw)
        if m:
            if current is not None:
                files.append((current, "\n".join(buf)))
            current, buf = m.group(1).strip(), []
            continue
        if current is not None:
            buf.append(raw)
    if current is not None:
        files.append((current, "\n".join(buf)))
    return files


def _parse_listen(d: NginxDirective) -> NginxListen | None:
    if not d.args:
        return None
    first = d.args[0]
    flags = d.args[1:]
    ipv6only: bool | None = None
    for f in flags:
        if f.startswith("ipv6only="):
            ipv6only = f.split("=", 1)[1] == "on"
    ssl = "ssl" in flags
    http2 = "http2" in flags
    default = "default_server" in flags or "default" in flags
    if first.startswith("unix:"):
        return NginxListen(None, None, ssl, http2, default, unix=first[5:], directive=d)
    address: str | None
    port_text: str | None
    if first.startswith("["):
        end = first.find("]")
        address = first[1:end] if end > 0 else first
        rest = first[end + 1 :] if end > 0 else ""
        port_text = rest[1:] if rest.startswith(":") else None
        if ipv6only is None and address == "::":
            ipv6only = True
    elif first.isdigit():
        address, port_text = None, first
    elif ":" in first:
        address, _, port_text = first.rpartition(":")
    else:
        address, port_text = first, None
    if address in ("*", "0.0.0.0"):
        address = None if address == "*" else "0.0.0.0"
    port: int | None
    if port_text is None:
        port = 80
    elif port_text.isdigit() and int(port_text) <= 65535:
        port = int(port_text)
    else:
        port = None
    return NginxListen(address, port, ssl, http2, default, ipv6only, directive=d)


def parse_nginx(text: str) -> NginxConfig:
    """Read ``nginx -T`` (optionally with ``nginx -v``). Never raises on any ``str``."""
    warnings: list[str] = []
    vm = _VERSION.search(text)
    version = vm.group(1) if vm else None
    files = _split_files(text)
    if not files:
        warnings.append(
            "no '# configuration file ...:' markers: this is not nginx -T output "
            "(run: sudo nginx -T)"
        )
        return NginxConfig(version, (), (), tuple(warnings))
    parsed: dict[str, list[_Node]] = {}
    for path, body in files:
        if path in parsed:
            continue
        parsed[path] = _parse_file(body, path, warnings)
    main_path = files[0][0]
    servers: list[NginxServer] = []
    _walk(
        _expand(parsed[main_path], parsed, main_path, warnings, 0),
        [],
        [],
        servers,
        warnings,
    )
    return NginxConfig(version, tuple(parsed), tuple(servers), tuple(warnings))


def _expand(
    nodes: list[_Node],
    parsed: dict[str, list[_Node]],
    main_path: str,
    warnings: list[str],
    depth: int,
) -> list[_Node]:
    """Replace ``include`` directives by the parsed content of the files they name."""
    out: list[_Node] = []
    for node in nodes:
        if node.name == "include" and node.block is None and node.args:
            if depth >= _MAX_INCLUDE_DEPTH:
                warnings.append(f"{node.file}:{node.line}: includes nested too deep")
                continue
            pattern = node.args[0]
            if not pattern.startswith("/"):
                pattern = posixpath.join(posixpath.dirname(main_path), pattern)
            matched = [p for p in parsed if fnmatch.fnmatchcase(p, pattern)]
            if not matched and not any(ch in pattern for ch in "*?["):
                warnings.append(f"{node.file}:{node.line}: include {pattern} not in the dump")
            for p in sorted(matched):
                out.extend(_expand(parsed[p], parsed, main_path, warnings, depth + 1))
            continue
        if node.block is not None:
            node = _Node(
                node.name,
                node.args,
                node.file,
                node.line,
                _expand(node.block, parsed, main_path, warnings, depth),
            )
        out.append(node)
    return out


def _directive(node: _Node, path: list[str]) -> NginxDirective:
    return NginxDirective(node.name, tuple(node.args), node.file, node.line, " > ".join(path))


def _walk(
    nodes: list[_Node],
    path: list[str],
    inherited: list[NginxDirective],
    servers: list[NginxServer],
    warnings: list[str],
) -> None:
    here = [_directive(n, path) for n in nodes if n.block is None]
    scope = inherited + here
    for node in nodes:
        if node.block is None:
            continue
        if node.name == "server" and path and path[-1] in _BLOCK_CONTEXTS:
            servers.append(_server(node, [*path, "server"], path[-1], scope, warnings))
        elif node.name in _BLOCK_CONTEXTS or node.name in ("events",):
            _walk(node.block, [*path, node.name], scope, servers, warnings)


def _server(
    node: _Node,
    path: list[str],
    context: str,
    inherited: list[NginxDirective],
    warnings: list[str],
) -> NginxServer:
    assert node.block is not None
    own = [_directive(n, path) for n in node.block if n.block is None]
    listens: list[NginxListen] = []
    for d in own:
        if d.name == "listen":
            lst = _parse_listen(d)
            if lst is None:
                warnings.append(f"{d.file}:{d.line}: cannot read {d.text!r}")
            else:
                listens.append(lst)
    if not listens and context == "http":
        listens.append(NginxListen(None, 80, implicit=True))
    names = tuple(a for d in own if d.name == "server_name" for a in d.args)
    return NginxServer(
        context,
        node.file,
        node.line,
        names,
        tuple(listens),
        tuple(own),
        tuple(d for d in inherited if d.name != "include"),
    )
