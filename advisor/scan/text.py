"""Streaming reader for nmap's normal output (``-oN`` files and what nmap prints on a terminal).

Many people have only the text nmap printed (the motivating case ran ``nmap --script=vuln
HOST`` with no ``-oX``). This reader turns that text into the same model objects the XML reader
builds, one :class:`~advisor.model.Host` at a time, so memory does not grow with the number of
hosts.

What the text does not carry, the reader cannot invent (see :data:`NOT_IN_TEXT`): CPEs, the
``ostype`` of a service, ``conf`` other than nmap's usual values, the per-run ``NMAP-n`` numbers
of vulns tables without IDs, and parts of long version strings that nmap cut with ``...``.

NSE structured output is rebuilt from the text layout for the shapes advisor reasons about:

* the vulns library (``VULNERABLE:`` / ``NOT VULNERABLE:`` sections, nse-facts.md 1b), as
  ``NseTable(key=<CVE or first ID or NMAP-n>, children=(title, state, ids, scores,
  description, dates, disclosure, check_results, exploit_results, extra_info, refs))``;
* ``ssl-enum-ciphers`` (nse-facts.md 1d): protocol tables with ``ciphers`` / ``compressors`` /
  ``cipher preference`` / ``warnings`` and ``least strength``;
* ``ssl-cert``: subject, issuer, key type and size, signature algorithm, validity, digests;
* ``vulners`` (Nmap >= 7.80): a table per CPE with ``id`` / ``cvss`` / ``type`` /
  ``is_exploit`` rows.

Other scripts keep their ``output`` text, which is what the XML ``output`` attribute holds.
"""

from __future__ import annotations

import calendar
import io
import ipaddress
import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from advisor.model import (
    Address,
    Host,
    NseElem,
    NseNode,
    NseTable,
    Port,
    ScanInfo,
    ScriptResult,
    Service,
)

__all__ = [
    "NOT_IN_TEXT",
    "TextScan",
    "looks_like_nmap_text",
    "open_text_scan",
    "parse_script",
    "read_text",
]

#: The problem line of a paste that starts below nmap's "Nmap scan report for" line.
PASTED_FRAGMENT = "pasted fragment: host unknown"

NOT_IN_TEXT = (
    "service CPEs, ostype, hostname and devicetype (the 'Service Info' line does not say which"
    " port they belong to)",
    "the exact number n of vulns tables keyed NMAP-n (a per-run counter that is not printed)",
    "text that nmap cut with '...' in the VERSION column (long extrainfo)",
    "structured tables of scripts other than the vulns library, ssl-enum-ciphers, ssl-cert"
    " and vulners",
    "ssl-cert's extensions, modulus and exponent, the subject and issuer fields nmap prints"
    " only with -vv, and the issuer/key/signature lines some versions print only with -v",
    "empty vulns lists (e.g. exploit_results = {}), of which the text shows nothing",
    "whether a script's output ended with a newline, for scripts not known to (see"
    " _FORMAT_OUTPUT_NAMES): nmap drops that newline in its text",
    "hostnames other than the one in the report line and an rDNS record line",
    "the reason a port is in its state, unless nmap ran with --reason (REASON column)",
    "the start time of an -oN file (its header has a local time without a time zone)",
    "a vulns description or check result given to nmap as several strings is read as one",
    "'Risk factor' is kept only as text, as in the XML",
)
"""What nmap's normal output does not carry, so the reader cannot reproduce it."""

_PEEK = 8192
_MAX_WARNINGS = 50
_MAX_HEADER = 1 << 20

# ---------------------------------------------------------------------------------------------
# Format detection

_PORT_STATES = (
    "open|filtered",
    "closed|filtered",
    "open",
    "closed",
    "filtered",
    "unfiltered",
)
_PORT_LINE = re.compile(
    r"(\d{1,5})/(tcp|udp|sctp)[ \t]+(open\|filtered|closed\|filtered|open|closed|filtered|"
    r"unfiltered)(?=[ \t]|$)"
)
_PROTO_LINE = re.compile(
    r"(\d{1,3})[ \t]+(open\|filtered|closed\|filtered|open|closed|filtered|unfiltered)"
    r"(?=[ \t]|$)"
)
_SCRIPT_START = re.compile(r"\|[ _][A-Za-z][\w.-]*:(?: |$)")
_FULL_MARKERS = re.compile(
    rb"^(?:Starting Nmap \d|# Nmap \d\S* scan initiated |Nmap scan report for \S)", re.M
)


def looks_like_nmap_text(head: bytes) -> bool:
    """True when the first bytes of an input look like nmap's normal output.

    Accepts a whole ``-oN`` file or terminal capture (``Starting Nmap``, ``# Nmap 7.93 scan
    initiated``, ``Nmap scan report for``) and a pasted fragment whose first line is a
    ``PORT STATE SERVICE`` header, a port line such as ``465/tcp   open  smtps``, or the
    first line of a script block (``| ssl-dh-params:``).
    """
    head = head[:_PEEK]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if _FULL_MARKERS.search(head):
        return True
    for raw in head.splitlines():
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        if line.startswith(("PORT ", "PROTOCOL ")) and "STATE" in line and "SERVICE" in line:
            return True
        if line.startswith(("Pre-scan script results:", "Host script results:")):
            return True
        return _PORT_LINE.match(line) is not None or _SCRIPT_START.match(line) is not None
    return False


# ---------------------------------------------------------------------------------------------
# Escaping: make text look like the XML reader's strings


def _protect(text: str) -> str:
    """Escape like nmap: non-printable / non-ASCII bytes become the four characters ``\\xNN``.

    nmap already does this in both its text and its XML output (nse-facts.md 1e), so real
    output passes through unchanged; text that went through other hands (an editor, a
    chat paste) with raw UTF-8 or control characters ends up exactly as the XML would hold it.
    """
    if text.isascii() and text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if 0x20 <= code < 0x7F or ch in "\t\r\n":
            out.append(ch)
        else:
            try:
                data = ch.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:  # a lone surrogate that came from no byte
                data = ch.encode("utf-8", "surrogatepass")
            out.append("".join(f"\\x{b:02X}" for b in data))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Script output


# Scripts of nmap 7.93 that build their text with ``stdnse.format_output(true, ...)`` or the
# vulns library's ``make_output``: their output starts *and ends* with a newline. nmap's normal
# output drops the final newline of every script, so it is restored for these ids.
_FORMAT_OUTPUT_NAMES = """
    acarsd-info afp-brute afp-path-vuln afp-showmount ajp-auth ajp-headers ajp-methods
    amqp-info backorifice-info bitcoin-getaddr bjnp-discover broadcast-ataoe-discover
    broadcast-avahi-dos broadcast-bjnp-discover broadcast-db2-discover broadcast-dhcp6-discover
    broadcast-dns-service-discovery broadcast-eigrp-discovery broadcast-igmp-discovery
    broadcast-listener broadcast-ms-sql-discover broadcast-networker-discover
    broadcast-novell-locate broadcast-pc-anywhere broadcast-pc-duo broadcast-pim-discovery
    broadcast-ping broadcast-pppoe-discover broadcast-rip-discover broadcast-ripng-discover
    broadcast-sybase-asa-discover broadcast-tellstick-discover broadcast-upnp-info
    broadcast-wake-on-lan broadcast-wpad-discover broadcast-wsdd-discover broadcast-xdmcp-discover
    citrix-enum-apps-xml citrix-enum-apps citrix-enum-servers-xml citrix-enum-servers
    clamav-exec coap-resources couchdb-databases couchdb-stats cups-info cups-queue-info
    daap-get-library dict-info distcc-cve2004-2687 dns-blacklist dns-check-zone
    dns-client-subnet-scan dns-nsec-enum dns-nsec3-enum dns-service-discovery dns-srv-enum
    dns-zeustracker dns-zone-transfer domcon-cmd domino-enum-users drda-brute drda-info
    duplicates eap-info firewall-bypass ftp-libopie ftp-proftpd-backdoor ftp-vsftpd-backdoor
    ftp-vuln-cve2010-4221 gkrellm-info gpsd-info http-affiliate-id http-auth-finder http-auth
    http-backup-finder http-barracuda-dir-traversal http-comments-displayer http-config-backup
    http-cross-domain-policy http-csrf http-default-accounts http-dlink-backdoor
    http-dombased-xss http-domino-enum-passwords http-drupal-enum-users http-enum http-errors
    http-exif-spider http-feed http-form-fuzzer http-frontpage-login http-git
    http-gitweb-projects-enum http-headers http-huawei-hg5xx-vuln http-icloud-findmyiphone
    http-icloud-sendmsg http-iis-short-name-brute http-malware-host http-method-tamper
    http-open-redirect http-phpmyadmin-dir-traversal http-phpself-xss http-qnap-nas-info
    http-referer-checker http-rfi-spider http-robtex-reverse-ip http-robtex-shared-ns
    http-sap-netweaver-leak http-security-headers http-shellshock http-sitemap-generator
    http-slowloris-check http-slowloris http-sql-injection http-tplink-dir-traversal
    http-traceroute http-unsafe-output-escaping http-virustotal http-vlcstreamer-ls
    http-vmware-path-vuln http-vuln-cve2006-3392 http-vuln-cve2009-3960 http-vuln-cve2010-0738
    http-vuln-cve2010-2861 http-vuln-cve2011-3192 http-vuln-cve2011-3368 http-vuln-cve2012-1823
    http-vuln-cve2013-0156 http-vuln-cve2013-6786 http-vuln-cve2013-7091 http-vuln-cve2014-2126
    http-vuln-cve2014-2127 http-vuln-cve2014-2128 http-vuln-cve2014-2129 http-vuln-cve2014-3704
    http-vuln-cve2014-8877 http-vuln-cve2015-1427 http-vuln-cve2015-1635
    http-vuln-cve2017-1001000 http-vuln-cve2017-5638 http-vuln-cve2017-5689
    http-vuln-cve2017-8917 http-vuln-misfortune-cookie http-vuln-wnr1000-creds
    http-waf-fingerprint http-wordpress-enum icap-info informix-query informix-tables
    ipmi-cipher-zero irc-botnet-channels isns-info jdwp-exec jdwp-info jdwp-inject
    krb5-enum-users ldap-brute ldap-novell-getpass ldap-rootdse ldap-search lexmark-config
    llmnr-resolve maxdb-info membase-http-info metasploit-info mongodb-databases mongodb-info
    mqtt-subscribe mrinfo ms-sql-brute ms-sql-config ms-sql-hasdbaccess ms-sql-query
    ms-sql-xp-cmdshell mtrace mysql-audit mysql-databases mysql-dump-hashes mysql-empty-password
    mysql-users mysql-variables mysql-vuln-cve2012-2122 nat-pmp-mapport ncp-enum-users
    ncp-serverinfo nfs-showmount nfs-statfs ntp-monlist omp2-enum-targets oracle-enum-users
    oracle-sid-brute p2p-conficker pgsql-brute qconn-exec quake3-info quake3-master-getservers
    rdp-enum-encryption rdp-vuln-ms12-020 realvnc-auth-bypass resolveall riak-http-info
    rmi-dumpregistry rmi-vuln-classloader rpcap-info rpcinfo rsa-vuln-roca rsync-list-modules
    samba-vuln-cve-2012-1182 servicetags sip-call-spoof smb-brute smb-double-pulsar-backdoor
    smb-enum-domains smb-enum-sessions smb-enum-users smb-mbenum smb-os-discovery smb-psexec
    smb-server-stats smb-system-info smb-vuln-conficker smb-vuln-cve-2017-7494
    smb-vuln-cve2009-3103 smb-vuln-ms06-025 smb-vuln-ms07-029 smb-vuln-ms08-067
    smb-vuln-ms10-054 smb-vuln-ms10-061 smb-vuln-ms17-010 smb-vuln-regsvc-dos smb-vuln-webexec
    smb2-vuln-uptime smtp-enum-users smtp-vuln-cve2010-4344 smtp-vuln-cve2011-1720
    smtp-vuln-cve2011-1764 snmp-interfaces snmp-netstat ssh-run ssl-ccs-injection ssl-dh-params
    ssl-heartbleed ssl-poodle sslv2-drown supermicro-ipmi-conf targets-asn
    targets-ipv6-multicast-echo targets-ipv6-multicast-invalid-dst targets-ipv6-multicast-slaac
    tftp-enum tls-ticketbleed traceroute-geolocation unusual-port upnp-info versant-info
    voldemort-info wsdd-discover xdmcp-discover
"""
_FORMAT_OUTPUT_IDS = frozenset(_FORMAT_OUTPUT_NAMES.split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def parse_script(script_id: str, pieces: list[str], nmap_ids: Iterator[int]) -> ScriptResult:
    """Build a :class:`ScriptResult` from the lines of one ``| id:`` ... ``|_`` block.

    ``pieces`` are the block's lines without the ``| `` / ``|_`` prefixes; the first is what
    followed ``id: `` on the first line. ``nmap_ids`` numbers vulns tables that have no ID.
    """
    pieces = [_protect(p) for p in pieces] or [""]
    output = "\n".join(pieces)
    children: tuple[NseNode, ...] = ()
    starts_with_newline = pieces[0] == "" and len(pieces) > 1
    if script_id == "ssl-cert":
        children = _ssl_cert(pieces)
    elif starts_with_newline:
        if script_id == "ssl-enum-ciphers":
            children = _ssl_enum_ciphers(pieces[1:])
        elif script_id == "vulners":
            children = _vulners(pieces[1:])
        else:
            children = _vulns_tables(pieces[1:], nmap_ids)
    # ssl-cert's PEM block (verbose scans) is a string that ends with a newline.
    ends_with_newline = pieces[-1] in ("", "-----END CERTIFICATE-----") or (
        len(pieces) > 1
        and (starts_with_newline and (script_id in _FORMAT_OUTPUT_IDS or _is_vulns(children)))
    )
    if ends_with_newline:
        output += "\n"
    return ScriptResult(script_id, output, children)


def _is_vulns(children: tuple[NseNode, ...]) -> bool:
    return bool(children) and all(
        isinstance(c, NseTable) and c.text("state") is not None for c in children
    )


# -- vulns library -----------------------------------------------------------------------------

_SECTIONS = {
    "Check results:": "check_results",
    "Exploit results:": "exploit_results",
    "Extra information:": "extra_info",
    "References:": "refs",
}


@dataclass
class _Vuln:
    title: str
    state: str = ""
    ids: list[str] = field(default_factory=list)
    scores: list[tuple[str, str]] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    disclosure: tuple[str, str, str] | None = None
    sections: dict[str, list[str]] = field(default_factory=dict)
    section: str = "description"

    def add_item(self, name: str, text: str, continuation: bool) -> None:
        items = self.sections.setdefault(name, [])
        if continuation and items:
            items[-1] += "\n" + text
        else:
            items.append(text)

    def table(self, nmap_ids: Iterator[int]) -> NseTable:
        children: list[NseNode] = [NseElem("title", self.title), NseElem("state", self.state)]
        if self.ids:
            children.append(NseTable("ids", tuple(NseElem(None, i) for i in self.ids)))
        if self.scores:
            children.append(NseTable("scores", tuple(NseElem(k, v) for k, v in self.scores)))
        if self.description:
            text = "\n".join(self.description)
            children.append(NseTable("description", (NseElem(None, text),)))
        if self.disclosure is not None:
            year, month, day = self.disclosure
            date = NseTable(
                "disclosure",
                (NseElem("year", year), NseElem("month", month), NseElem("day", day)),
            )
            children.append(NseTable("dates", (date,)))
            children.append(NseElem("disclosure", f"{year}-{month}-{day}"))
        for name in ("check_results", "exploit_results", "extra_info", "refs"):
            items = self.sections.get(name)
            if items:
                children.append(NseTable(name, tuple(NseElem(None, v) for v in items)))
        return NseTable(self._key(nmap_ids), tuple(children))

    def _key(self, nmap_ids: Iterator[int]) -> str:
        for ident in self.ids:
            kind, _, value = ident.partition(":")
            if kind.upper() == "CVE" and value:
                return value
        if self.ids:
            return self.ids[0].partition(":")[2] or self.ids[0]
        return f"NMAP-{next(nmap_ids)}"


def _vulns_tables(lines: list[str], nmap_ids: Iterator[int]) -> tuple[NseNode, ...]:
    """Rebuild vulns-library tables from the text layout of ``Report:make_output``.

    Returns ``()`` when the text is not in that layout.
    """
    base = -1
    for line in lines:
        if line.strip():
            if line.strip() in ("VULNERABLE:", "NOT VULNERABLE:"):
                base = _indent(line)
            break
    if base < 0:
        return ()
    entries: list[_Vuln] = []
    current: _Vuln | None = None
    blanks: list[str] = []  # empty lines seen since the last text, as content of a section
    for line in lines:
        stripped = line.strip()
        if not stripped:
            blanks.append(line[base + 4 :])
            continue
        ind = _indent(line)
        if ind < base and current is None:
            return ()  # not the vulns layout after all
        if ind == base and stripped in ("VULNERABLE:", "NOT VULNERABLE:"):
            current = None
            blanks = []
            continue
        if ind == base and (current is None or blanks or current.section == "description"):
            if current is not None and not current.state:
                return ()
            current = _Vuln(line[base:])
            entries.append(current)
            blanks = []
            continue
        if current is None:
            return ()
        if ind == base + 2:
            section = current.section
            if _entry_field(current, stripped):
                if section == "description" and current.state:
                    # A description string that ended with a newline prints an empty line.
                    current.description.extend(blanks)
                blanks = []
                continue
        # Content of the description or of a section (a line indented less than nmap does
        # comes from a sloppy paste: keep its text).
        text = line[base + 4 :] if ind >= base + 4 else line[min(ind, base) :].lstrip()
        if current.section == "description":
            current.description.extend(blanks)
            current.description.append(text)
        elif current.section == "refs":
            current.add_item("refs", text, continuation=False)
        else:
            # Each item starts at the section's indentation; deeper lines (the ssl-dh-params
            # check results) and, for exploit/extra lists, lines nmap printed without indent
            # continue the item before.
            for empty in blanks:
                current.add_item(current.section, empty, continuation=True)
            current.add_item(current.section, text, continuation=ind != base + 4)
        blanks = []
    if not entries or any(not e.state for e in entries):
        return ()
    return tuple(e.table(nmap_ids) for e in entries)


def _entry_field(vuln: _Vuln, stripped: str) -> bool:
    """Handle a line at the entry's field level (``State:``, ``IDs:``, a section header)."""
    if stripped.startswith("State: ") and not vuln.state:
        vuln.state = stripped[len("State: ") :].strip()
        return bool(vuln.state)
    if not vuln.state:
        return False
    if stripped.startswith("IDs:"):
        vuln.ids = stripped[len("IDs:") :].split()
        return True
    if stripped.startswith("Risk factor:"):
        parts = [p.strip() for p in stripped.split("  ") if p.strip()]
        for part in parts[1:]:
            name, sep, value = part.partition(": ")
            if sep:
                vuln.scores.append((name, value))
        return True
    if stripped.startswith("Disclosure date: "):
        parts = stripped[len("Disclosure date: ") :].split("-")
        if len(parts) == 3 and all(parts):
            vuln.disclosure = (parts[0], parts[1], parts[2])
            vuln.section = "after-description"
            return True
        return False
    section = _SECTIONS.get(stripped)
    if section is not None:
        vuln.section = section
        return True
    return False


# -- ssl-enum-ciphers ------------------------------------------------------------------------

_CIPHER = re.compile(r"(\S+)(?: \(([^()]*)\))? - (\S+)$")
_PROTOCOL = re.compile(r"SSLv[23]|TLSv1\.[0-3]")


def _ssl_enum_ciphers(lines: list[str]) -> tuple[NseNode, ...]:
    """Rebuild ssl-enum-ciphers' structured output from its text (nse-facts.md 1d)."""
    base = -1
    for line in lines:
        if line.strip():
            base = _indent(line)
            break
    if base < 0:
        return ()
    out: list[NseNode] = []
    protocol: list[NseNode] | None = None
    protocol_key = ""
    section: str | None = None
    items: list[NseNode] = []

    def close_section() -> None:
        nonlocal section, items
        if protocol is not None and section is not None:
            protocol.append(NseTable(section, tuple(items)))
        section, items = None, []

    def close_protocol() -> None:
        nonlocal protocol
        close_section()
        if protocol is not None:
            out.append(NseTable(protocol_key, tuple(protocol)))
        protocol = None

    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        ind = _indent(line)
        if ind <= base:
            close_protocol()
            key, sep, value = stripped.partition(":")
            if not sep:
                return ()
            if value.strip():
                out.append(NseElem(key, value.strip()))
            else:
                protocol, protocol_key = [], key
        elif protocol is None:
            return ()
        elif ind <= base + 2:
            close_section()
            key, sep, value = stripped.partition(":")
            if not sep:
                return ()
            if value.strip():
                protocol.append(NseElem(key, value.strip()))
            else:
                section = key
        elif section is None:
            return ()
        elif section == "ciphers":
            match = _CIPHER.match(stripped)
            if match is None:
                items.append(NseElem(None, stripped))
                continue
            name, kex, strength = match.groups()
            # Key order as nmap 7.93 writes it (a Lua table: the order is not meaningful).
            cipher: list[NseNode] = [NseElem("strength", strength)]
            if kex is not None:
                cipher.append(NseElem("kex_info", kex))
            cipher.append(NseElem("name", name))
            items.append(NseTable(None, tuple(cipher)))
        else:
            items.append(NseElem(None, stripped))
    close_protocol()
    for node in out:
        if isinstance(node, NseTable) and not _PROTOCOL.fullmatch(node.key or ""):
            return ()  # not the layout of nmap >= 7.x (e.g. 6.x "Ciphers (n)" text)
    return tuple(out)


# -- vulners -------------------------------------------------------------------------------

_VULNERS_URL = "https://vulners.com/"


def _vulners(lines: list[str]) -> tuple[NseNode, ...]:
    """Rebuild vulners' tables (Nmap >= 7.80) from rows printed by its ``__tostring``:
    ``<TAB>id<TAB>cvss<TAB>https://vulners.com/<type>/<id>[<TAB>*EXPLOIT*]`` under a
    ``cpe:/...:`` (or ``product version:``) line. Other layouts (older or third-party copies
    of the script, which write no tables either) give ``()``.
    """
    out: list[NseNode] = []
    key: str | None = None
    rows: list[NseNode] = []
    for line in lines:
        if not line.strip():
            continue
        if "\t" not in line:
            if key is not None:
                out.append(NseTable(key, tuple(rows)))
            key, rows = line.strip().removesuffix(":"), []
            continue
        parts = line.lstrip(" ").split("\t")
        if key is None or len(parts) not in (4, 5) or parts[0]:
            return ()
        ident, cvss, url = parts[1], parts[2], parts[3]
        exploit = len(parts) == 5
        if (exploit and parts[4] != "*EXPLOIT*") or not url.startswith(_VULNERS_URL):
            return ()
        kind, _, rest = url[len(_VULNERS_URL) :].partition("/")
        if rest != ident:
            return ()
        row: list[NseNode] = [NseElem("cvss", cvss)] if cvss else []
        row += [
            NseElem("id", ident),
            NseElem("is_exploit", "true" if exploit else "false"),
            NseElem("type", kind),
        ]
        rows.append(NseTable(None, tuple(row)))
    if key is not None:
        out.append(NseTable(key, tuple(rows)))
    return tuple(out)


# -- ssl-cert --------------------------------------------------------------------------------

_CERT_NAME_SPLIT = re.compile(r"/(?=[A-Za-z][\w.]*=)")


def _cert_name(key: str, text: str) -> NseTable:
    """``commonName=x/organizationName=y`` (ssl-cert's ``stringify_name``) as a table."""
    elems: list[NseNode] = []
    for part in _CERT_NAME_SPLIT.split(text):
        name, sep, value = part.partition("=")
        if sep:
            elems.append(NseElem(name, value))
    return NseTable(key, tuple(elems))


def _ssl_cert(pieces: list[str]) -> tuple[NseNode, ...]:
    """Rebuild the parts of ssl-cert's table that its text shows (nmap 6.x-7.x layout).

    The text has the subject and issuer fields nmap prints (commonName, organizationName,
    stateOrProvinceName, countryName unless ``-vv``), the key type and size, the signature
    algorithm, the validity dates, the digests and, with ``-vv``, the PEM block; not the
    extensions, the modulus or the exponent.
    """
    fields: dict[str, str] = {}
    pem: list[str] = []
    for piece in pieces:
        if pem or piece.startswith("-----BEGIN CERTIFICATE-----"):
            pem.append(piece)
            continue
        key, sep, value = piece.partition(":")
        if sep and key not in fields:
            fields[key] = value.strip()
    if "Subject" not in fields or "Not valid after" not in fields:
        return ()
    out: list[NseNode] = [_cert_name("subject", fields["Subject"])]
    if "Issuer" in fields:
        out.append(_cert_name("issuer", fields["Issuer"]))
    pubkey = [
        NseElem(name, fields[label])
        for name, label in (("type", "Public Key type"), ("bits", "Public Key bits"))
        if label in fields
    ]
    if pubkey:
        out.append(NseTable("pubkey", tuple(pubkey)))
    if "Signature Algorithm" in fields:
        out.append(NseElem("sig_algo", fields["Signature Algorithm"]))
    validity = [
        NseElem(name, fields[label])
        for name, label in (("notBefore", "Not valid before"), ("notAfter", "Not valid after"))
        if label in fields
    ]
    out.append(NseTable("validity", tuple(validity)))
    for name, label in (("md5", "MD5"), ("sha1", "SHA-1")):
        if label in fields:
            out.append(NseElem(name, fields[label].replace(" ", "")))
    if pem:
        out.append(NseElem("pem", "\n".join(pem) + "\n"))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Ports and services


def _split_version(text: str) -> tuple[str, str, str]:
    """Split nmap's VERSION column into (product, version, extrainfo), best effort.

    nmap prints ``product version (extrainfo)``; which words are the product and which the
    version is not marked, so the version starts at the first later word beginning with a
    digit (``Apache httpd 2.4.39``, ``OpenSSH 8.9p1 Ubuntu 3ubuntu0.1``).
    """
    text = text.strip()
    extrainfo = ""
    if text.endswith(")"):
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            ch = text[i]
            if ch == ")":
                depth += 1
            elif ch == "(":
                depth -= 1
                if depth == 0:
                    if i == 0 or text[i - 1] == " ":
                        extrainfo = text[i + 1 : -1]
                        text = text[:i].rstrip()
                    break
    words = text.split(" ")
    for i in range(1, len(words)):
        if words[i][:1].isdigit():
            return " ".join(words[:i]), " ".join(words[i:]), extrainfo
    return text, "", extrainfo


@dataclass
class _Columns:
    """Column starts of a ``PORT STATE SERVICE [REASON] [VERSION]`` header."""

    names: list[str]
    starts: list[int]

    @classmethod
    def parse(cls, line: str) -> _Columns | None:
        names: list[str] = []
        starts: list[int] = []
        for match in re.finditer(r"\S+", line):
            names.append(match.group(0))
            starts.append(match.start())
        if len(names) < 3 or names[0] not in ("PORT", "PROTOCOL") or names[1] != "STATE":
            return None
        return cls(names, starts)

    def split(self, line: str) -> dict[str, str] | None:
        """Cut a row at the header's column starts, when the row is aligned to them."""
        for start in self.starts[1:]:
            if start > len(line):
                break
            if start > 0 and line[start - 1] != " ":
                return None
        fields: dict[str, str] = {}
        for i, name in enumerate(self.names):
            end = self.starts[i + 1] if i + 1 < len(self.starts) else len(line)
            fields[name] = line[self.starts[i] : end].strip()
        return fields


_REASON = re.compile(r"(\S+(?: ttl \d+)?)(?: (.*))?$")


def _port_from_line(line: str, columns: _Columns | None) -> Port | None:
    stripped = line.strip()
    match = _PORT_LINE.match(stripped)
    if match is not None:
        protocol, portid = match.group(2), int(match.group(1))
    else:
        if columns is None or columns.names[0] != "PROTOCOL":
            return None
        match = _PROTO_LINE.match(stripped)
        if match is None:
            return None
        protocol, portid = "ip", int(match.group(1))
    fields = columns.split(line) if columns is not None and line == line.lstrip() else None
    if fields is None or not fields.get("STATE"):
        tokens = stripped.split(None, 3)
        fields = {"STATE": tokens[1] if len(tokens) > 1 else ""}
        fields["SERVICE"] = tokens[2] if len(tokens) > 2 else ""
        rest = tokens[3] if len(tokens) > 3 else ""
        if columns is not None and "REASON" in columns.names:
            reason_match = _REASON.match(rest)
            if reason_match is not None:
                fields["REASON"] = reason_match.group(1)
                rest = reason_match.group(2) or ""
        fields["VERSION"] = rest
    state = fields.get("STATE", "")
    if state not in _PORT_STATES:
        return None
    reason = fields.get("REASON", "").split(" ttl ", 1)[0]
    version_column = columns is not None and "VERSION" in columns.names
    service = _service(
        fields.get("SERVICE", ""), fields.get("VERSION", ""), version_column and state == "open"
    )
    return Port(protocol, portid, state, reason, service)


def _service(name: str, version: str, version_scan: bool) -> Service | None:
    """The port's service. nmap marks a name guessed from the port number during ``-sV``
    with ``?``; other names on open ports of a ``-sV`` scan were probed."""
    name = _protect(name)
    if not name:
        return None
    tunnel = ""
    if name.startswith("ssl/"):
        tunnel, name = "ssl", name[4:]
    guessed = name.endswith("?")
    name = name.rstrip("?")
    product, ver, extrainfo = _split_version(_protect(version))
    probed = version_scan and not guessed
    return Service(
        name=name,
        product=product,
        version=ver,
        extrainfo=extrainfo,
        tunnel=tunnel,
        method="probed" if probed else "table",
        conf="10" if probed else "3",
    )


# ---------------------------------------------------------------------------------------------
# Hosts


def _address(text: str) -> Address | None:
    text = text.strip()
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    return Address(text, "ipv6" if ip.version == 6 else "ipv4")


@dataclass
class _HostBuilder:
    addresses: list[Address] = field(default_factory=list)
    hostnames: list[str] = field(default_factory=list)
    status: str = "up"
    ports: list[Port] = field(default_factory=list)
    port_scripts: list[ScriptResult] = field(default_factory=list)
    hostscripts: list[ScriptResult] = field(default_factory=list)
    os_matches: list[str] = field(default_factory=list)

    @classmethod
    def from_report_line(cls, rest: str) -> _HostBuilder:
        host = cls()
        rest = rest.strip()
        if rest.endswith("]") and " [host down" in rest:
            host.status = "down"
            rest = rest[: rest.rindex(" [host down")].rstrip()
        if rest.endswith(")") and " (" in rest:
            name, _, addr = rest[:-1].rpartition(" (")
            address = _address(addr)
            if address is not None:
                host.addresses.append(address)
                host.hostnames.append(_protect(name))
                return host
        address = _address(rest)
        if address is not None:
            host.addresses.append(address)
        elif rest:
            host.hostnames.append(_protect(rest))
        return host

    def add_port(self, port: Port) -> None:
        self._flush_port()
        self.ports.append(port)

    def add_port_script(self, script: ScriptResult) -> None:
        if self.ports:
            self.port_scripts.append(script)
        else:
            self.hostscripts.append(script)

    def _flush_port(self) -> None:
        if self.port_scripts and self.ports:
            last = self.ports[-1]
            self.ports[-1] = replace(last, scripts=last.scripts + tuple(self.port_scripts))
        self.port_scripts = []

    def build(self) -> Host:
        self._flush_port()
        return Host(
            addresses=tuple(self.addresses),
            status=self.status,
            hostnames=tuple(dict.fromkeys(h for h in self.hostnames if h)),
            ports=tuple(self.ports),
            hostscripts=tuple(self.hostscripts),
            os_matches=tuple(dict.fromkeys(m for m in self.os_matches if m)),
        )


# ---------------------------------------------------------------------------------------------
# The reader

_DONE = re.compile(r"(\d+) IP address(?:es)? \((\d+) hosts? up\)")
_STARTING = re.compile(r"Starting Nmap (\S+)(?: \(.*?\))? at (\d{4}-\d\d-\d\d \d\d:\d\d) (\S+)$")
_INITIATED = re.compile(r"# Nmap (\S+) scan initiated .*? as: (.*)$")
_OS_GUESS = re.compile(r" \(\d+%\)$")


class TextScan:
    """nmap normal output, read lazily line by line. Iterate it (or ``hosts``) for hosts.

    ``prescripts`` are known once the object exists; ``postscripts`` and the final ``info``
    (``complete``, host counts) once iteration has ended, as with the XML reader.
    """

    def __init__(
        self,
        lines: Iterable[str],
        progress: Callable[[int], None] | None = None,
        counter: Callable[[], int] | None = None,
    ) -> None:
        self._lines = iter(lines)
        self._progress = progress
        self._counter = counter
        self.info = ScanInfo(
            source_format="text",
            complete=False,
            problem="the scan is incomplete: the input ends before the 'Nmap done' line",
        )
        self.prescripts: tuple[ScriptResult, ...] = ()
        self.postscripts: tuple[ScriptResult, ...] = ()
        self.hosts_read = 0
        self._warnings: list[str] = []
        self._nmap_ids = itertools.count(1)
        self._pushed: str | None = None
        self._full = False  # a header or a host report line was seen
        self._done = False
        self._iterator: Iterator[Host] | None = None
        self._prescan()

    # -- line source ---------------------------------------------------------------------
    def _next_line(self) -> str | None:
        if self._pushed is not None:
            line, self._pushed = self._pushed, None
            return line
        try:
            raw = next(self._lines)
        except StopIteration:
            return None
        if not isinstance(raw, str):
            raw = str(raw)
        # Pastes are often indented (e-mail, Markdown); nmap itself never indents these lines.
        return raw.rstrip("\r\n").lstrip(" \t")

    # -- reading -------------------------------------------------------------------------
    def _prescan(self) -> None:
        """Read the header and any pre-scan scripts, up to the first host or port line."""
        sink: list[ScriptResult] = []
        in_prescan = False
        while True:
            line = self._next_line()
            if line is None:
                break
            if line.strip() == "Pre-scan script results:":
                in_prescan = True
                continue
            if line.startswith("|") and in_prescan:
                sink.append(self._script(line))
                continue
            if self._header_line(line):
                continue
            if line.strip() and not line.startswith(("Starting Nmap", "NSE: ", "Initiating ")):
                # A host, a port table, or a pasted script block: the hosts' part begins.
                self._pushed = line
                break
        self.prescripts = tuple(sink)

    def _header_line(self, line: str) -> bool:
        """Scan-level lines: version, args, warnings, ``Nmap done``."""
        if len(line) > _MAX_HEADER:
            return False
        match = _STARTING.match(line)
        if match is not None:
            self._full = True
            start = None
            if match.group(3) in ("UTC", "GMT"):
                try:
                    start = calendar.timegm(time.strptime(match.group(2), "%Y-%m-%d %H:%M"))
                except ValueError:
                    start = None
            self.info = replace(self.info, version=match.group(1), start=start)
            return True
        match = _INITIATED.match(line)
        if match is not None:
            self._full = True
            self.info = replace(self.info, version=match.group(1), args=_protect(match.group(2)))
            return True
        if line.startswith(("Nmap done", "# Nmap done")):
            self._finish_done(line)
            return True
        if line.startswith("WARNING: ") or line.startswith("Warning: "):
            if len(self._warnings) < _MAX_WARNINGS:
                self._warnings.append(_protect(line))
            return True
        return False

    def _finish_done(self, line: str) -> None:
        self._done = True
        match = _DONE.search(line)
        total = up = None
        if match is not None:
            total, up = int(match.group(1)), int(match.group(2))
        self.info = replace(
            self.info,
            finished=True,
            complete=True,
            problem=None,
            hosts_total=total,
            hosts_up=up,
            hosts_down=(total - up) if total is not None and up is not None else None,
        )

    def _script(self, first: str) -> ScriptResult:
        """Read one script block starting at ``first`` (a ``| id:`` or ``|_id:`` line)."""
        body = first[2:] if len(first) > 1 else ""
        script_id, sep, rest = body.partition(": ")
        if not sep:
            if body.endswith(":"):
                script_id, rest = body[:-1], ""
            else:
                script_id, rest = "(unknown)", body
        pieces = [rest]
        last = first.startswith("|_")
        while not last:
            line = self._next_line()
            if line is None:
                break
            if line.startswith("|_"):
                pieces.append(line[2:])
                break
            if line.startswith("|"):
                pieces.append(line[2:] if line.startswith("| ") else line[1:])
                continue
            self._pushed = line  # block cut short (a paste, a truncated file)
            break
        return parse_script(_protect(script_id.strip()), pieces, self._nmap_ids)

    def __iter__(self) -> Iterator[Host]:
        if self._iterator is None:
            self._iterator = self._hosts()
        return self._iterator

    @property
    def hosts(self) -> Iterator[Host]:
        """The hosts, one at a time (single pass; the same iterator as ``iter(scan)``)."""
        return iter(self)

    def _hosts(self) -> Iterator[Host]:
        host: _HostBuilder | None = None
        fragment = False
        columns: _Columns | None = None
        sink = "port"  # where script blocks go: "pre", "post", "port" or "host"
        post: list[ScriptResult] = []
        lines_seen = 0
        while True:
            line = self._next_line()
            if line is None:
                break
            lines_seen += 1
            if self._progress is not None and self._counter is not None and lines_seen % 256 == 0:
                self._progress(self._counter())
            if line.startswith("Nmap scan report for "):
                if host is not None:
                    yield self._emit(host)
                self._full = True
                host = _HostBuilder.from_report_line(line[len("Nmap scan report for ") :])
                columns, sink = None, "port"
                continue
            if line.startswith("|") and line.strip() != "|":
                script = self._script(line)
                if sink == "post":
                    post.append(script)
                elif sink == "pre":
                    self.prescripts += (script,)
                elif host is None:
                    # A pasted script block without its port line: keep it, host and port
                    # unknown.
                    host, fragment = _HostBuilder(), True
                    host.hostscripts.append(script)
                elif sink == "host":
                    host.hostscripts.append(script)
                else:
                    host.add_port_script(script)
                continue
            if self._header_line(line):
                if self._done and host is not None:
                    yield self._emit(host)
                    host = None
                continue
            stripped = line.strip()
            if stripped.startswith(("PORT ", "PROTOCOL ")) and "STATE" in stripped:
                columns = _Columns.parse(line)
                sink = "port"
                continue
            if _is_port_line(line) or (
                columns is not None
                and columns.names[0] == "PROTOCOL"
                and _PROTO_LINE.match(stripped)
            ):
                port = _port_from_line(line, columns)
                if port is not None:
                    if host is None:
                        host, fragment = _HostBuilder(), True
                    host.add_port(port)
                    sink = "port"
                    continue
            if stripped == "Host script results:":
                sink = "host"
                if host is None:
                    host, fragment = _HostBuilder(), True
                continue
            if stripped == "Pre-scan script results:":
                sink = "pre"
                continue
            if stripped == "Post-scan script results:":
                if host is not None:
                    yield self._emit(host)
                    host = None
                sink = "post"
                continue
            if host is not None:
                self._host_line(host, stripped)
        if host is not None:
            yield self._emit(host)
        self.postscripts = tuple(post)
        self._finish(fragment)

    def _host_line(self, host: _HostBuilder, line: str) -> None:
        if line.startswith("Host is up"):
            host.status = "up"
        elif line.startswith("rDNS record for ") and ": " in line:
            host.hostnames.append(_protect(line.split(": ", 1)[1].strip()))
        elif line.startswith("MAC Address: "):
            mac = line[len("MAC Address: ") :].split(" ", 1)[0]
            host.addresses.append(Address(_protect(mac), "mac"))
        elif line.startswith("OS details: "):
            host.os_matches.extend(
                _protect(m.strip()) for m in line[len("OS details: ") :].split(", ")
            )
        elif line.startswith("Aggressive OS guesses: "):
            for guess in line[len("Aggressive OS guesses: ") :].split("), "):
                guess = guess.strip()
                if not guess.endswith(")"):
                    guess += ")"
                host.os_matches.append(_protect(_OS_GUESS.sub("", guess)))

    def _emit(self, host: _HostBuilder) -> Host:
        self.hosts_read += 1
        return host.build()

    def _finish(self, fragment: bool) -> None:
        info = replace(self.info, warnings=tuple(self._warnings))
        if not self._done:
            if self._full:
                problem = (
                    "the scan is incomplete: the text ends before nmap's 'Nmap done' line"
                    " (cut off, or only part of it was pasted); showing the hosts read"
                )
            elif fragment:
                problem = PASTED_FRAGMENT
            else:
                problem = "no nmap scan report found in the text"
            info = replace(info, complete=False, finished=False, problem=problem)
        self.info = info


def _is_port_line(line: str) -> bool:
    return line[:1].isdigit() and _PORT_LINE.match(line.strip()) is not None


def read_text(stream: io.TextIOBase | Iterable[str]) -> TextScan:
    """Read nmap normal output from a text stream or any iterable of lines."""
    return TextScan(stream)


def _binary_lines(stream: BinaryIO, counter: list[int]) -> Iterator[str]:
    for raw in stream:
        counter[0] += len(raw)
        yield raw.decode("utf-8", "surrogateescape").rstrip("\n").rstrip("\r")


def open_text_scan(
    stream: BinaryIO,
    progress: Callable[[int], None] | None = None,
) -> TextScan:
    """Read nmap normal output from a binary stream (what :func:`advisor.scan.open_scan` has).

    Lines are split on ``\\n`` only, so a carriage return inside a banner stays in its line;
    bytes that are not UTF-8 become ``\\xNN`` like nmap's XML escaping.
    """
    counter = [0]
    return TextScan(_binary_lines(stream, counter), progress, lambda: counter[0])
