"""What advisor needs to know about nmap itself to plan a scan: its data files, its script
database, its service table, the ports and service names its TLS scripts react to, and how
it writes its own command line into ``<nmaprun args="...">``.

The TLS facts are read from nmap 7.93's NSE libraries (``/usr/share/nmap/nselib``):
``shortport.ssl`` matches ``LIKELY_SSL_PORTS`` / ``LIKELY_SSL_SERVICES``, and
``sslcert.getPrepareTLSWithoutReconnect`` picks a STARTTLS dialect from
``SPECIALIZED_PREPARE_TLS_WITHOUT_RECONNECT`` by service name or port number. A TLS script on a
port that is in none of these tables, and whose service name (from ``nmap-services`` without
``-sV``) is not either, does not speak STARTTLS there: it needs ``-sV`` to learn the service.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

#: ``shortport.lua`` LIKELY_SSL_PORTS (nmap 7.93): implicit TLS by port number.
SSL_PORTS = frozenset(
    {261, 271, 324, 443, 465, 563, 585, 636, 853, 989, 990, 992, 993, 994, 995, 2221, 2252}
    | {2376, 3269, 3389, 4433, 4911, 5061, 5986, 6679, 6697, 8443, 9001, 8883}
)
#: ``shortport.lua`` LIKELY_SSL_SERVICES (nmap 7.93): implicit TLS by service name.
SSL_SERVICES = frozenset(
    {"ftps", "ftps-data", "ftps-control", "https", "https-alt", "imaps", "ircs", "ldapssl"}
    | {"ms-wbt-server", "pop3s", "sip-tls", "smtps", "telnets", "tor-orport"}
)
#: ``sslcert.lua`` SPECIALIZED_PREPARE_TLS_WITHOUT_RECONNECT and SPECIALIZED_WRAPPED_TLS
#: (nmap 7.93): STARTTLS by port number.
STARTTLS_PORTS = frozenset({21, 119, 143, 389, 110, 5432, 25, 587, 3306, 5222, 5269, 5900})
#: The same tables, by service name (``submission`` is not one: 587 works by number only).
STARTTLS_SERVICES = frozenset(
    {"ftp", "nntp", "imap", "ldap", "lmtp", "pop3", "postgresql", "smtp", "mysql", "xmpp"}
    | {"vnc", "ms-sql-s"}
)

#: Scripts whose port rule needs ``-sV`` results (a product and version, CPEs).
VERSION_SCRIPTS = frozenset({"vulners"})

#: nmap's script categories: a script id equal to one of these would select a whole category.
CATEGORIES = frozenset(
    {"all", "auth", "broadcast", "brute", "default", "discovery", "dos", "exploit"}
    | {"external", "fuzzer", "intrusive", "malware", "safe", "version", "vuln"}
)

_SCRIPT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,79}")
_DB_ENTRY = re.compile(r'Entry\s*\{\s*filename\s*=\s*"([^"]+)\.nse"')

NMAPDATADIR = Path("/usr/share/nmap")


def is_tls_script(script: str) -> bool:
    """Scripts that connect with TLS (``shortport.ssl`` or STARTTLS port rules)."""
    return script.startswith(("ssl-", "tls-", "sslv2")) or script in {"rsa-vuln-roca"}


def tls_port_known(port: int, service: str | None) -> bool:
    """Would nmap's TLS scripts pick implicit TLS or a STARTTLS dialect here without -sV?"""
    return (
        port in SSL_PORTS
        or port in STARTTLS_PORTS
        or (service is not None and (service in SSL_SERVICES or service in STARTTLS_SERVICES))
    )


def valid_script_id(script: str) -> bool:
    """A plain script name: not a category, path, glob or boolean expression."""
    return bool(_SCRIPT_ID.fullmatch(script)) and script not in CATEGORIES


def data_dirs(datadir: str | None, nmap: str | None) -> list[Path]:
    """nmap's data file search order (``nmap_fetchfile`` in nmap.cc): ``--datadir``,
    ``$NMAPDIR``, ``~/.nmap``, the binary's directory and ``../share/nmap`` next to it, then
    the compiled-in directory."""
    dirs: list[Path] = []
    if datadir:
        dirs.append(Path(datadir))
    if os.environ.get("NMAPDIR"):
        dirs.append(Path(os.environ["NMAPDIR"]))
    dirs.append(Path.home() / ".nmap")
    binary = nmap or shutil.which("nmap")
    if binary:
        here = Path(binary).resolve().parent
        dirs += [here, here.parent / "share" / "nmap"]
    dirs.append(NMAPDATADIR)
    return dirs


def find_data_file(name: str, dirs: Iterable[Path]) -> Path | None:
    for directory in dirs:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.R_OK):
            return candidate
    return None


@lru_cache(maxsize=8)
def _read_services(path: Path, mtime: float) -> dict[tuple[int, str], str]:
    table: dict[tuple[int, str], str] = {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) < 2 or fields[0].startswith("#") or "/" not in fields[1]:
                continue
            number, _, proto = fields[1].partition("/")
            if number.isdigit():
                table.setdefault((int(number), proto), fields[0])
    return table


def services_table(dirs: Sequence[Path]) -> tuple[dict[tuple[int, str], str], Path | None]:
    """(port, protocol) -> service name from the ``nmap-services`` nmap would read."""
    path = find_data_file("nmap-services", dirs)
    if path is None:
        return {}, None
    return _read_services(path, path.stat().st_mtime), path


@lru_cache(maxsize=8)
def _read_script_db(path: Path, mtime: float) -> frozenset[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(_DB_ENTRY.findall(text))


def script_names(dirs: Sequence[Path]) -> frozenset[str] | None:
    """Script names in the ``scripts/script.db`` nmap would read; None when there is none."""
    path = find_data_file("scripts/script.db", dirs)
    if path is None:
        return None
    return _read_script_db(path, path.stat().st_mtime)


def split_args(args: str) -> list[str]:
    """Undo how nmap writes its command line into ``<nmaprun args>``: words separated by
    spaces, a word with white space wrapped in double quotes, ``"`` and ``\\`` escaped with a
    backslash (checked against nmap 7.93: ``--script-args 'a="x y"'`` is written as
    ``--script-args "a=\\"x y\\""``, ``c='q'`` as is). Single quotes are literal."""
    lexer = shlex.shlex(args, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.quotes = '"'
    lexer.escapedquotes = '"'
    lexer.escape = "\\"
    try:
        return list(lexer)
    except ValueError:  # unbalanced quote: not written by nmap; take the words as they are
        return args.split()


def quote_command(argv: Sequence[str]) -> str:
    """One line a POSIX shell reads back as ``argv`` (for ``--dry-run`` and messages)."""
    return shlex.join(argv)
