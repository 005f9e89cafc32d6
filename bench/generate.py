"""Seeded generator of large, realistic nmap XML (``-oX``) scans for the advisor benchmark.

The shape follows ``shared/brief/perf-baselines.md``: what
``nmap -sV -p 22,25,80,443,465,587,993,995 --script=vuln,ssl-enum-ciphers -oX`` writes for a
mail / web estate:

* 10 % of hosts down (``<status state="down">``, address only);
* the rest mail (25 %), web (40 %), mixed (10 %) or ssh-only (25 %) hosts with 1-7 open
  ports and ``<service product version extrainfo tunnel method="probed"><cpe>``; the other
  scanned ports are listed one by one as closed or filtered (nmap folds a state into
  ``<extraports>`` only when many ports share it, not for an 8-port ``-p`` list);
* NSE results with structured ``<table>``/``<elem>`` children, the ``output`` attribute
  rendered from the same data the way the scripts print it: ``ssl-enum-ciphers`` (a table per
  TLS version with ciphers, compressors, cipher preference, warnings; ``least strength``),
  ``ssl-dh-params`` in the vulns-library shape (anonymous DH on mail ports, insufficient group
  strength, Logjam keyed ``CVE-2015-4000`` with ``BID:74733`` and disclosure dates, non-safe
  groups), ``vulners`` tables keyed by CPE, ``smtp-commands``, ``http-server-header`` and,
  occasionally, ``http-vuln-cve2011-3192`` / ``http-slowloris-check`` vulns tables;
* about 11 KB of XML per host.

Escaping follows nmap's ``xml.cc``: ``< > & " '``, ``--`` and control characters as character
references (newline ``&#xa;``, tab ``&#x9;``). The vulners rows are synthetic (plausible IDs and
scores, not a copy of the vulners.com database).

The output is written host by host (constant memory) and is a pure function of
``(--hosts, --seed)``: the same arguments give a byte-identical file.

Usage::

    python bench/generate.py --hosts 10000 --seed 1 -o /tmp/scan-10k.xml
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

# --------------------------------------------------------------------------------------------
# XML helpers (nmap xml.cc escaping)

_ESC = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&apos;",
        "\n": "&#xa;",
        "\t": "&#x9;",
        "\r": "&#xd;",
    }
)
_DASHES = re.compile(r"(?<=-)-")


def esc(text: str) -> str:
    """Escape text the way nmap's xml.cc does for attribute values and element text."""
    out = text.translate(_ESC)
    if "--" in out:
        out = _DASHES.sub("&#45;", out)
    return out


@dataclass(frozen=True, slots=True)
class Elem:
    """An NSE ``<elem>``."""

    key: str | None
    value: str


@dataclass(frozen=True, slots=True)
class Table:
    """An NSE ``<table>``."""

    key: str | None
    children: tuple[Node, ...]


Node = Elem | Table


def node_xml(node: Node) -> str:
    """Serialise one NSE node as nmap does: every element on its own line."""
    key = "" if node.key is None else f' key="{esc(node.key)}"'
    if isinstance(node, Elem):
        return f"<elem{key}>{esc(node.value)}</elem>\n"
    inner = "".join(node_xml(c) for c in node.children)
    return f"<table{key}>\n{inner}</table>\n"


def script_xml(script_id: str, output: str, nodes: Sequence[Node] = ()) -> str:
    """A complete ``<script>`` element."""
    head = f'<script id="{script_id}" output="{esc(output)}"'
    if not nodes:
        return head + "/>"
    return head + ">" + "".join(node_xml(n) for n in nodes) + "</script>"


def count_leaves(nodes: Sequence[Node]) -> int:
    """Number of ``<elem>`` leaves under these nodes."""
    total = 0
    for n in nodes:
        total += 1 if isinstance(n, Elem) else count_leaves(n.children)
    return total


# --------------------------------------------------------------------------------------------
# ssl-enum-ciphers

Cipher = tuple[str, str, str]  # name, kex_info, grade

TLS13 = [
    ("TLS_AKE_WITH_AES_128_GCM_SHA256", "ecdh_x25519", "A"),
    ("TLS_AKE_WITH_AES_256_GCM_SHA384", "ecdh_x25519", "A"),
    ("TLS_AKE_WITH_CHACHA20_POLY1305_SHA256", "ecdh_x25519", "A"),
]
ECDHE_GCM = [
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "secp256r1", "A"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "secp256r1", "A"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "secp256r1", "A"),
]
ECDHE_CBC2 = [
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "secp256r1", "A"),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "secp256r1", "A"),
]
ECDHE_CBC1 = [
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "secp256r1", "A"),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "secp256r1", "A"),
]
RSA_GCM = [
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", "rsa 2048", "A"),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", "rsa 2048", "A"),
]
RSA_CBC = [
    ("TLS_RSA_WITH_AES_256_CBC_SHA", "rsa 2048", "A"),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", "rsa 2048", "A"),
]
RSA_3DES = [("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "rsa 2048", "C")]
RSA_RC4 = [
    ("TLS_RSA_WITH_RC4_128_SHA", "rsa 2048", "C"),
    ("TLS_RSA_WITH_RC4_128_MD5", "rsa 2048", "C"),
]


def dhe(bits: int, gcm: bool = True) -> list[Cipher]:
    """DHE suites with a group of this size."""
    kex = f"dh {bits}"
    out = [
        ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", kex, "A"),
        ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", kex, "A"),
    ]
    if gcm:
        out = [
            ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", kex, "A"),
            ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", kex, "A"),
            *out,
        ]
    return out


ANON = [
    ("TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "secp256r1", "F"),
    ("TLS_DH_anon_WITH_AES_256_CBC_SHA", "dh 1024", "F"),
    ("TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", "dh 1024", "F"),
    ("TLS_DH_anon_WITH_AES_128_CBC_SHA", "dh 1024", "F"),
]
ANON_GCM = [
    ("TLS_DH_anon_WITH_AES_256_GCM_SHA384", "dh 1024", "F"),
    ("TLS_DH_anon_WITH_AES_128_GCM_SHA256", "dh 1024", "F"),
]
EXPORT = [
    ("TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "dh 512", "E"),
    ("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "rsa 512", "E"),
    ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "rsa 512", "E"),
]


def warnings_for(version: str, ciphers: Sequence[Cipher]) -> list[str]:
    """The warnings ssl-enum-ciphers prints for this cipher list (sorted, as nmap does)."""
    out: set[str] = set()
    for name, kex, _grade in ciphers:
        if "3DES" in name:
            out.add("64-bit block cipher 3DES vulnerable to SWEET32 attack")
        if "RC4" in name:
            out.add("Broken cipher RC4 is deprecated by RFC 7465")
        if name.endswith("_MD5"):
            out.add("Ciphersuite uses MD5 for message integrity")
        if "_anon_" in name:
            out.add("Anonymous key exchange, score capped at F")
        if "EXPORT" in name:
            out.add("Export key exchange")
        if kex == "dh 1024":
            out.add("Key exchange (dh 1024) of lower strength than certificate key")
        if version == "SSLv3" and "CBC" in name:
            out.add("CBC-mode cipher in SSLv3 (CVE-2014-3566)")
    return sorted(out)


@dataclass(frozen=True, slots=True)
class TlsProfile:
    """One server TLS configuration: ssl-enum-ciphers result and ssl-dh-params findings."""

    name: str
    versions: tuple[tuple[str, tuple[Cipher, ...]], ...]
    preference: str
    dh_findings: tuple[str, ...]  # subset of anon, export, weak, nonsafe
    modulus_sources: tuple[str, ...] = ("Unknown/Custom-generated",)
    weak_bits: int = 1024


def _p(
    name: str,
    pref: str,
    findings: tuple[str, ...],
    *versions: tuple[str, list[Cipher]],
    sources: tuple[str, ...] = ("Unknown/Custom-generated",),
    bits: int = 1024,
) -> TlsProfile:
    return TlsProfile(
        name, tuple((v, tuple(c)) for v, c in versions), pref, findings, sources, bits
    )


_MAIL_WEAK_SOURCES = (
    "postfix builtin",
    "RFC2409/Oakley Group 2",
    "Unknown/Custom-generated",
    "mod_ssl 2.2.x/1024-bit MODP group with safe prime modulus",
    "IronPort SMTPD builtin",
)

PROFILES: dict[str, TlsProfile] = {
    p.name: p
    for p in (
        _p("modern", "server", (), ("TLSv1.2", ECDHE_GCM + ECDHE_CBC2), ("TLSv1.3", TLS13)),
        _p(
            "intermediate",
            "server",
            (),
            ("TLSv1.2", ECDHE_GCM + dhe(2048) + ECDHE_CBC2 + RSA_GCM),
            ("TLSv1.3", TLS13),
        ),
        _p(
            "legacy",
            "client",
            (),
            ("TLSv1.0", ECDHE_CBC1 + RSA_CBC + RSA_3DES),
            ("TLSv1.1", ECDHE_CBC1 + RSA_CBC + RSA_3DES),
            ("TLSv1.2", ECDHE_GCM + ECDHE_CBC2 + RSA_GCM + RSA_3DES),
        ),
        _p(
            "weakdh",
            "server",
            ("weak",),
            ("TLSv1.0", ECDHE_CBC1 + dhe(1024, gcm=False) + RSA_CBC),
            ("TLSv1.1", ECDHE_CBC1 + dhe(1024, gcm=False) + RSA_CBC),
            ("TLSv1.2", ECDHE_GCM + dhe(1024) + RSA_GCM + RSA_CBC),
            sources=_MAIL_WEAK_SOURCES,
        ),
        _p(
            "anon",
            "client",
            ("anon", "weak"),
            ("TLSv1.0", ECDHE_CBC1 + dhe(1024, gcm=False) + ANON + RSA_3DES),
            ("TLSv1.1", ECDHE_CBC1 + dhe(1024, gcm=False) + ANON + RSA_3DES),
            ("TLSv1.2", ECDHE_GCM + dhe(1024) + ANON_GCM + ANON + RSA_3DES),
            sources=("postfix builtin", "Unknown/Custom-generated"),
        ),
        _p(
            "export",
            "client",
            ("export", "weak"),
            ("SSLv3", dhe(1024, gcm=False) + EXPORT + RSA_RC4 + RSA_3DES),
            ("TLSv1.0", dhe(1024, gcm=False) + EXPORT + RSA_RC4 + RSA_3DES),
            sources=(
                "RFC2409/Oakley Group 2",
                "mod_ssl 2.0.x/1024-bit MODP group with safe prime modulus",
            ),
        ),
        _p(
            "nonsafe",
            "server",
            ("nonsafe",),
            ("TLSv1.2", ECDHE_GCM + dhe(2048) + RSA_GCM),
            ("TLSv1.3", TLS13),
            bits=2048,
        ),
    )
}


def ssl_enum_ciphers(profile: TlsProfile) -> tuple[str, int]:
    """The ``ssl-enum-ciphers`` script element and its number of leaves."""
    nodes: list[Node] = []
    text = ["\n"]
    least = "A"
    for version, ciphers in profile.versions:
        warns = warnings_for(version, ciphers)
        rows = tuple(
            Table(None, (Elem("kex_info", kex), Elem("name", name), Elem("strength", grade)))
            for name, kex, grade in ciphers
        )
        children: list[Node] = [
            Table("ciphers", rows),
            Table("compressors", (Elem(None, "NULL"),)),
            Elem("cipher preference", profile.preference),
        ]
        if warns:
            children.append(Table("warnings", tuple(Elem(None, w) for w in warns)))
        nodes.append(Table(version, tuple(children)))
        text.append(f"  {version}: \n    ciphers: \n")
        text.extend(f"      {n} ({k}) - {g}\n" for n, k, g in ciphers)
        text.append("    compressors: \n      NULL\n")
        text.append(f"    cipher preference: {profile.preference}\n")
        if warns:
            text.append("    warnings: \n")
            text.extend(f"      {w}\n" for w in warns)
        least = max(least, *(g for _n, _k, g in ciphers))
    nodes.append(Elem("least strength", least))
    text.append(f"  least strength: {least}")
    return script_xml("ssl-enum-ciphers", "".join(text), nodes), count_leaves(nodes)


# --------------------------------------------------------------------------------------------
# vulns-library scripts (ssl-dh-params, http-vuln-cve2011-3192, http-slowloris-check)


@dataclass(frozen=True, slots=True)
class Vuln:
    """One vulns-library entry (``vulns.lua`` format_vuln_base)."""

    key: str
    title: str
    state: str
    ids: tuple[str, ...]
    description: str
    disclosure: tuple[str, str, str] | None  # year, month, day as the script gives them
    check_results: tuple[str, ...]
    refs: tuple[str, ...]

    def nodes(self) -> Table:
        kids: list[Node] = [Elem("title", self.title), Elem("state", self.state)]
        if self.ids:
            kids.append(Table("ids", tuple(Elem(None, i) for i in self.ids)))
        kids.append(Table("description", (Elem(None, self.description),)))
        if self.disclosure:
            y, m, d = self.disclosure
            kids.append(
                Table(
                    "dates",
                    (Table("disclosure", (Elem("year", y), Elem("month", m), Elem("day", d))),),
                )
            )
            kids.append(Elem("disclosure", f"{y}-{m}-{d}"))
        if self.check_results:
            kids.append(Table("check_results", tuple(Elem(None, c) for c in self.check_results)))
        kids.append(Table("refs", tuple(Elem(None, r) for r in self.refs)))
        return Table(self.key, tuple(kids))

    def text(self) -> str:
        lines = [f"  {self.title}", f"    State: {self.state}"]
        if self.ids:
            lines.append("    IDs:  " + "  ".join(self.ids))
        lines.extend(f"      {d}" for d in self.description.split("\n"))
        if self.disclosure:
            y, m, d = self.disclosure
            lines.append(f"    Disclosure date: {y}-{m}-{d}")
        if self.check_results:
            lines.append("    Check results:")
            for c in self.check_results:
                lines.extend(f"      {x}" for x in c.split("\n"))
        lines.append("    References:")
        lines.extend(f"      {r}" for r in self.refs)
        return "\n".join(lines) + "\n"


def vulns_script(script_id: str, vulns: Sequence[Vuln]) -> tuple[str, int]:
    """A vulns-library script element (VULNERABLE section only, as without showall)."""
    text = "\n  VULNERABLE:\n" + "\n".join(v.text() for v in vulns)
    nodes = [v.nodes() for v in vulns]
    return script_xml(script_id, text, nodes), count_leaves(nodes)


DESC_ANON = (
    "Transport Layer Security (TLS) services that use anonymous Diffie-Hellman\n"
    "key exchange only provide protection against passive eavesdropping, and\n"
    "are vulnerable to active man-in-the-middle attacks which could completely\n"
    "compromise the confidentiality and integrity of any data exchanged over\n"
    "the resulting session."
)
DESC_LOGJAM = (
    "The Transport Layer Security (TLS) protocol contains a flaw that is\n"
    "triggered when handling Diffie-Hellman key exchanges defined with\n"
    "the DHE_EXPORT cipher. This may allow a man-in-the-middle attacker\n"
    "to downgrade the security of a TLS session to 512-bit export-grade\n"
    "cryptography, which is significantly weaker, allowing the attacker\n"
    "to more easily break the encryption and monitor or tamper with\n"
    "the encrypted stream."
)
DESC_WEAK = (
    "Transport Layer Security (TLS) services that use Diffie-Hellman groups\n"
    "of insufficient strength, especially those using one of a few commonly\n"
    "shared groups, may be susceptible to passive eavesdropping attacks."
)
DESC_NONSAFE = (
    "This TLS service appears to be using a modulus that is not a safe prime and does\n"
    "not correspond to any well-known DSA group for Diffie-Hellman key exchange.\n"
    "These parameters MAY be secure if:\n"
    "- They were generated according to the procedure described in FIPS 186-4 for\n"
    "DSA Domain Parameter Generation, or\n"
    "- The generator g generates a subgroup of large prime order\n"
    "Additional testing may be required to verify the security of these parameters."
)


def dh_group(
    label: str, suite: str, mtype: str, source: str, bits: int, gen: int = 8, public: int = 0
) -> str:
    """One check_results string of ssl-dh-params."""
    return (
        f"{label} 1\n      Cipher Suite: {suite}\n      Modulus Type: {mtype}\n"
        f"      Modulus Source: {source}\n      Modulus Length: {bits}\n"
        f"      Generator Length: {gen}\n      Public Key Length: {public or bits}"
    )


@dataclass(frozen=True, slots=True)
class DhGroup:
    """What ssl-dh-params reports of one server's DH group (``--diversity``): the suite it
    was seen with, the modulus length, generator and public key lengths."""

    suite: str = "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"
    bits: int = 0  # 0: the profile's weak_bits
    generator: int = 8
    public: int = 0  # 0: the modulus length


def ssl_dh_params(
    profile: TlsProfile,
    source: str,
    nmap_ids: tuple[int, int, int],
    group: DhGroup | None = None,
) -> tuple[str, int]:
    """The ssl-dh-params element for a profile (titles and order as the script emits them)."""
    g = group or DhGroup()
    vulns: list[Vuln] = []
    for finding in profile.dh_findings:
        if finding == "anon":
            vulns.append(
                Vuln(
                    f"NMAP-{nmap_ids[0]}",
                    "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability",
                    "VULNERABLE",
                    (),
                    DESC_ANON,
                    None,
                    (
                        dh_group(
                            "ANONYMOUS DH GROUP",
                            "TLS_DH_anon_WITH_AES_256_CBC_SHA",
                            "Safe prime",
                            source,
                            1024,
                        ),
                    ),
                    ("https://www.ietf.org/rfc/rfc2246.txt",),
                )
            )
        elif finding == "export":
            vulns.append(
                Vuln(
                    "CVE-2015-4000",
                    "Transport Layer Security (TLS) Protocol DHE_EXPORT Ciphers Downgrade MitM "
                    "(Logjam)",
                    "VULNERABLE",
                    ("CVE:CVE-2015-4000", "BID:74733"),
                    DESC_LOGJAM,
                    ("2015", "5", "19"),
                    (
                        dh_group(
                            "EXPORT-GRADE DH GROUP",
                            "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
                            "Safe prime",
                            "Unknown/Custom-generated",
                            512,
                        ),
                    ),
                    (
                        "https://www.securityfocus.com/bid/74733",
                        "https://weakdh.org",
                        "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2015-4000",
                    ),
                )
            )
        elif finding == "weak":
            vulns.append(
                Vuln(
                    f"NMAP-{nmap_ids[1]}",
                    "Diffie-Hellman Key Exchange Insufficient Group Strength",
                    "VULNERABLE",
                    (),
                    DESC_WEAK,
                    None,
                    (
                        dh_group(
                            "WEAK DH GROUP",
                            g.suite,
                            "Safe prime",
                            source,
                            g.bits or profile.weak_bits,
                            g.generator,
                            g.public,
                        ),
                    ),
                    ("https://weakdh.org",),
                )
            )
        elif finding == "nonsafe":
            vulns.append(
                Vuln(
                    f"NMAP-{nmap_ids[2]}",
                    "Diffie-Hellman Key Exchange Incorrectly Generated Group Parameters",
                    "LIKELY VULNERABLE",
                    (),
                    DESC_NONSAFE,
                    None,
                    (
                        dh_group(
                            "NON-SAFE GROUP",
                            g.suite if group else "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                            "Non-safe prime",
                            source,
                            g.bits or profile.weak_bits,
                            g.generator,
                            g.public,
                        ),
                    ),
                    ("https://weakdh.org",),
                )
            )
    return vulns_script("ssl-dh-params", vulns)


APACHE_RANGE = Vuln(
    "CVE-2011-3192",
    "Apache byterange filter DoS",
    "VULNERABLE",
    ("BID:49303", "CVE:CVE-2011-3192"),
    "The Apache web server is vulnerable to a denial of service attack when numerous\n"
    "overlapping byte ranges are requested.",
    ("2011", "08", "19"),
    (),
    (
        "https://www.tenable.com/plugins/nessus/55976",
        "https://www.securityfocus.com/bid/49303",
        "https://seclists.org/fulldisclosure/2011/Aug/175",
        "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2011-3192",
    ),
)
SLOWLORIS = Vuln(
    "CVE-2007-6750",
    "Slowloris DOS attack",
    "LIKELY VULNERABLE",
    ("CVE:CVE-2007-6750",),
    "Slowloris tries to keep many connections to the target web server open and hold\n"
    "them open as long as possible.  It accomplishes this by opening connections to\n"
    "the target web server and sending a partial request. By doing so, it starves\n"
    "the http server's resources causing Denial Of Service.\n",
    ("2009", "09", "17"),
    (),
    (
        "http://ha.ckers.org/slowloris/",
        "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2007-6750",
    ),
)


# --------------------------------------------------------------------------------------------
# vulners

_EXPLOIT_TYPES = (
    ("exploitdb", "EDB-ID:{n}"),
    ("packetstorm", "PACKETSTORM:{n}"),
    ("githubexploit", "{h}"),
    ("zdt", "1337DAY-ID-{n}"),
    ("metasploit", "MSF:AUXILIARY-SCANNER-{n}"),
)
_VULNERS_ORDERS = (
    ("cvss", "id", "is_exploit", "type"),
    ("id", "cvss", "type", "is_exploit"),
    ("is_exploit", "cvss", "id", "type"),
    ("type", "is_exploit", "id", "cvss"),
)


def vulners(cpe: str, rng: random.Random, rows: int) -> tuple[str, int]:
    """A vulners script element for one CPE with ``rows`` synthetic entries."""
    entries: list[tuple[float, str, str, bool]] = []
    seen: set[str] = set()
    while len(entries) < rows:
        cvss = round(
            rng.choice((9.8, 9.8, 8.1, 7.5, 7.5, 6.8, 5.9, 5.3, 5.0, 4.3, 3.7, 2.6))
            - rng.choice((0.0, 0.0, 0.1, 0.2)),
            1,
        )
        if rng.random() < 0.3:
            typ, pat = rng.choice(_EXPLOIT_TYPES)
            vid = pat.format(n=rng.randrange(10000, 200000), h=f"{rng.getrandbits(128):032X}")
            exploit = True
        else:
            typ, exploit = "cve", False
            vid = f"CVE-{rng.randrange(2010, 2025)}-{rng.randrange(1000, 50000)}"
        if vid in seen:
            continue
        seen.add(vid)
        entries.append((cvss, vid, typ, exploit))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    tables: list[Node] = []
    text = [f"\n  {cpe}: \n"]
    for i, (cvss, vid, typ, exploit) in enumerate(entries):
        vals = {
            "cvss": f"{cvss}",
            "id": vid,
            "is_exploit": "true" if exploit else "false",
            "type": typ,
        }
        order = _VULNERS_ORDERS[i % len(_VULNERS_ORDERS)]
        tables.append(Table(None, tuple(Elem(k, vals[k]) for k in order)))
        line = f"    \t{vid}\t{cvss}\thttps://vulners.com/{typ}/{vid}"
        text.append(line + ("\t*EXPLOIT*" if exploit else "") + "\n")
    out = "".join(text).rstrip("\n")
    nodes = [Table(cpe, tuple(tables))]
    return script_xml("vulners", out, nodes), count_leaves(nodes)


# --------------------------------------------------------------------------------------------
# services


@dataclass(frozen=True, slots=True)
class Product:
    """A ``-sV`` service identification."""

    name: str
    product: str
    version: str | None
    extrainfo: str | None
    cpes: tuple[str, ...]
    ostype: str | None = None
    vulners_rows: int = 0

    def service_xml(self, tunnel: bool, hostname: str | None) -> str:
        attrs = [f'name="{self.name}"', f'product="{esc(self.product)}"']
        if self.version:
            attrs.append(f'version="{esc(self.version)}"')
        if self.extrainfo:
            attrs.append(f'extrainfo="{esc(self.extrainfo)}"')
        if hostname and self.name == "smtp":
            attrs.append(f'hostname="{hostname}"')
        if self.ostype:
            attrs.append(f'ostype="{self.ostype}"')
        if tunnel:
            attrs.append('tunnel="ssl"')
        attrs.append('method="probed" conf="10"')
        cpes = "".join(f"<cpe>{c}</cpe>" for c in self.cpes)
        return f"<service {' '.join(attrs)}>{cpes}</service>"


SSH = [
    Product(
        "ssh", "OpenSSH", "7.4", "protocol 2.0", ("cpe:/a:openbsd:openssh:7.4",), vulners_rows=12
    ),
    Product(
        "ssh",
        "OpenSSH",
        "8.2p1 Ubuntu 4ubuntu0.9",
        "Ubuntu Linux; protocol 2.0",
        ("cpe:/a:openbsd:openssh:8.2p1", "cpe:/o:linux:linux_kernel"),
        "Linux",
        8,
    ),
    Product(
        "ssh",
        "OpenSSH",
        "8.4p1 Debian 5+deb11u3",
        "protocol 2.0",
        ("cpe:/a:openbsd:openssh:8.4p1", "cpe:/o:linux:linux_kernel"),
        "Linux",
        5,
    ),
    Product(
        "ssh",
        "OpenSSH",
        "9.2p1 Debian 2+deb12u2",
        "protocol 2.0",
        ("cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"),
        "Linux",
        3,
    ),
]
SMTP = [
    Product("smtp", "Postfix smtpd", None, None, ("cpe:/a:postfix:postfix",)),
    Product("smtp", "Exim smtpd", "4.92.3", None, ("cpe:/a:exim:exim:4.92.3",), vulners_rows=8),
    Product("smtp", "Exim smtpd", "4.96", None, ("cpe:/a:exim:exim:4.96",), vulners_rows=3),
]
IMAP = [Product("imap", "Dovecot imapd", None, None, ("cpe:/a:dovecot:dovecot",))]
POP3 = [Product("pop3", "Dovecot pop3d", None, None, ("cpe:/a:dovecot:dovecot",))]
HTTP = [
    Product(
        "http",
        "nginx",
        "1.18.0",
        "Ubuntu",
        ("cpe:/a:igor_sysoev:nginx:1.18.0", "cpe:/o:linux:linux_kernel"),
        "Linux",
        4,
    ),
    Product("http", "nginx", "1.22.1", None, ("cpe:/a:igor_sysoev:nginx:1.22.1",), vulners_rows=2),
    Product(
        "http",
        "Apache httpd",
        "2.4.41",
        "(Ubuntu)",
        ("cpe:/a:apache:http_server:2.4.41",),
        vulners_rows=9,
    ),
    Product(
        "http",
        "Apache httpd",
        "2.4.57",
        "(Debian)",
        ("cpe:/a:apache:http_server:2.4.57",),
        vulners_rows=4,
    ),
    Product(
        "http",
        "Microsoft IIS httpd",
        "10.0",
        None,
        ("cpe:/a:microsoft:internet_information_services:10.0", "cpe:/o:microsoft:windows"),
        "Windows",
        2,
    ),
]
SERVER_HEADER = {
    "nginx 1.18.0": "nginx/1.18.0 (Ubuntu)",
    "nginx 1.22.1": "nginx/1.22.1",
    "Apache httpd 2.4.41": "Apache/2.4.41 (Ubuntu)",
    "Apache httpd 2.4.57": "Apache/2.4.57 (Debian)",
    "Microsoft IIS httpd 10.0": "Microsoft-IIS/10.0",
}

MAIL_PROFILES = (
    ("modern", 20),
    ("intermediate", 18),
    ("legacy", 14),
    ("weakdh", 28),
    ("anon", 12),
    ("export", 3),
    ("nonsafe", 5),
)
WEB_PROFILES = (
    ("modern", 35),
    ("intermediate", 30),
    ("legacy", 20),
    ("weakdh", 9),
    ("export", 2),
    ("nonsafe", 4),
)
SCAN_PORTS = (22, 25, 80, 443, 465, 587, 993, 995)
TABLE_NAMES = {
    22: "ssh",
    25: "smtp",
    80: "http",
    443: "https",
    465: "smtps",
    587: "submission",
    993: "imaps",
    995: "pop3s",
}
TLS_PORTS = {443, 465, 993, 995}
STARTTLS_PORTS = {25, 587}


# --------------------------------------------------------------------------------------------
# diversity (--diversity): what makes a real estate's results differ from host to host

#: Configurations drawn per TLS profile at --diversity 1 (a real estate has a few dozen
#: hand-edited variants of each template; 7 profiles x 40 ~ 260 distinct ssl-enum-ciphers).
VARIANTS_PER_PROFILE = 40
DH_SOURCES = (*_MAIL_WEAK_SOURCES, "mod_ssl 2.0.x/1024-bit MODP group with safe prime modulus")
DH_BITS = (1024, 1024, 1024, 768, 1536, 2048)
DH_GENERATORS = (8, 8, 8, 16, 1024)
DH_SUITES = (
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
)
#: Other releases of the products that have vulners rows (same family, own CPE and rows).
VERSIONS = {
    "OpenSSH 7.4": ("7.2p2", "7.3", "7.4", "7.5", "7.6p1", "7.7", "7.9"),
    "OpenSSH 8.2p1 Ubuntu 4ubuntu0.9": tuple(f"8.2p1 Ubuntu 4ubuntu0.{i}" for i in range(1, 12)),
    "OpenSSH 8.4p1 Debian 5+deb11u3": tuple(
        f"8.4p1 Debian 5{u}" for u in ("", "+deb11u1", "+deb11u2", "+deb11u3")
    ),
    "OpenSSH 9.2p1 Debian 2+deb12u2": tuple(
        f"9.2p1 Debian 2{u}" for u in ("", "+deb12u1", "+deb12u2", "+deb12u3")
    ),
    "Exim smtpd 4.92.3": ("4.89", "4.90.1", "4.91", "4.92", "4.92.3", "4.93", "4.94.2"),
    "Exim smtpd 4.96": ("4.95", "4.96", "4.96.1", "4.97"),
    "nginx 1.18.0": ("1.14.0", "1.14.2", "1.16.1", "1.18.0"),
    "nginx 1.22.1": ("1.20.1", "1.20.2", "1.22.0", "1.22.1", "1.24.0"),
    "Apache httpd 2.4.41": ("2.4.29", "2.4.38", "2.4.41", "2.4.46", "2.4.48", "2.4.52"),
    "Apache httpd 2.4.57": ("2.4.54", "2.4.56", "2.4.57", "2.4.59"),
    "Microsoft IIS httpd 10.0": ("8.5", "10.0"),
}


def vary_profile(profile: TlsProfile, rng: random.Random) -> TlsProfile:
    """A hand-edited variant of a TLS profile: some suites dropped, some swapped, the
    preference flipped now and then."""
    versions = []
    for version, ciphers in profile.versions:
        kept = [c for c in ciphers if rng.random() >= 0.2] or [ciphers[0]]
        for i in range(len(kept) - 1):
            if rng.random() < 0.15:
                kept[i], kept[i + 1] = kept[i + 1], kept[i]
        versions.append((version, tuple(kept)))
    pref = profile.preference
    if rng.random() < 0.2:
        pref = "client" if pref == "server" else "server"
    return TlsProfile(
        profile.name,
        tuple(versions),
        pref,
        profile.dh_findings,
        profile.modulus_sources,
        profile.weak_bits,
    )


def vary_product(prod: Product, rng: random.Random) -> Product:
    """The same product at another release (its CPE follows the upstream version)."""
    versions = VERSIONS.get(f"{prod.product} {prod.version}")
    if not versions:
        return prod
    version = rng.choice(versions)
    if version == prod.version:
        return prod
    upstream = version.split()[0]
    cpe0 = prod.cpes[0].rsplit(":", 1)[0] + ":" + upstream
    return Product(
        prod.name,
        prod.product,
        version,
        prod.extrainfo,
        (cpe0, *prod.cpes[1:]),
        prod.ostype,
        max(1, prod.vulners_rows + rng.randrange(-2, 4)),
    )


def ssl_cert(host: str, rng: random.Random, start: int) -> tuple[str, int]:
    """A per-host ``ssl-cert`` result (every certificate differs: names, dates, key)."""
    self_signed = rng.random() < 0.15
    bits = rng.choice((2048, 2048, 2048, 4096, 1024))
    sig = rng.choice(("sha256WithRSAEncryption",) * 6 + ("sha1WithRSAEncryption",))
    begin = start - rng.randrange(30, 1500) * 86400
    end = begin + rng.choice((90, 365, 398, 730, 825)) * 86400
    fmt = "%Y-%m-%dT%H:%M:%S"
    nb, na = time.strftime(fmt, time.gmtime(begin)), time.strftime(fmt, time.gmtime(end))
    subject = (("commonName", host), ("organizationName", "Example Corp"), ("countryName", "DE"))
    issuer = (
        subject
        if self_signed
        else (
            ("commonName", rng.choice(("R3", "R10", "Example Issuing CA 2", "Sectigo RSA DV"))),
            ("organizationName", "Example Trust"),
            ("countryName", "US"),
        )
    )
    md5 = f"{rng.getrandbits(128):032x}"
    sha1 = f"{rng.getrandbits(160):040x}"
    nodes: list[Node] = [
        Table("subject", tuple(Elem(k, v) for k, v in subject)),
        Table("issuer", tuple(Elem(k, v) for k, v in issuer)),
        Table("pubkey", (Elem("type", "rsa"), Elem("bits", str(bits)), Elem("exponent", "65537"))),
        Table(
            "extensions",
            (
                Table(
                    None,
                    (
                        Elem("name", "X509v3 Subject Alternative Name"),
                        Elem("value", f"DNS:{host}"),
                    ),
                ),
            ),
        ),
        Elem("sig_algo", sig),
        Table("validity", (Elem("notBefore", nb), Elem("notAfter", na))),
        Elem("md5", md5),
        Elem("sha1", sha1),
    ]

    def dn(parts: Sequence[tuple[str, str]]) -> str:
        return "/".join(f"{k}={v}" for k, v in parts)

    def grouped(hexs: str) -> str:
        return " ".join(hexs[i : i + 4] for i in range(0, len(hexs), 4))

    text = (
        f"Subject: {dn(subject)}\nSubject Alternative Name: DNS:{host}\nIssuer: {dn(issuer)}\n"
        f"Public Key type: rsa\nPublic Key bits: {bits}\nSignature Algorithm: {sig}\n"
        f"Not valid before: {nb}\nNot valid after:  {na}\nMD5:   {grouped(md5)}\n"
        f"SHA-1: {grouped(sha1)}"
    )
    return script_xml("ssl-cert", text, nodes), count_leaves(nodes)


def server_header(prod: Product) -> str:
    """The Server header of a product release not in SERVER_HEADER (``--diversity``)."""
    name = {"nginx": "nginx", "Apache httpd": "Apache", "Microsoft IIS httpd": "Microsoft-IIS"}
    extra = f" {prod.extrainfo}" if prod.extrainfo and prod.product != "nginx" else ""
    if prod.product == "nginx" and prod.extrainfo:
        extra = f" ({prod.extrainfo})"
    return f"{name.get(prod.product, prod.product)}/{prod.version}{extra}"


def weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    names = [n for n, _w in table]
    return rng.choices(names, weights=[w for _n, w in table])[0]


# --------------------------------------------------------------------------------------------
# the scan


@dataclass
class Stats:
    hosts: int = 0
    up: int = 0
    ports: int = 0
    all_ports: int = 0
    scripts: int = 0
    leaves: int = 0


class Generator:
    """Writes one scan; every random choice comes from ``random.Random(seed)``."""

    def __init__(self, seed: int, diversity: float = 0.0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        # --diversity draws from its own stream: hosts, ports and products stay those of
        # the repetitive file, and --diversity 0 writes it byte for byte.
        self.diversity = diversity
        self.drng = random.Random(f"diverse-{seed}")
        self.variants: dict[tuple[str, int], tuple[str, int]] = {}
        self.products: dict[tuple[str, str | None], Product] = {}
        prng = random.Random(f"vulners-{seed}")
        self.vulners: dict[str, tuple[str, int]] = {}
        for prod in SSH + SMTP + HTTP:
            if prod.vulners_rows:
                self.vulners[prod.cpes[0]] = vulners(prod.cpes[0], prng, prod.vulners_rows)
        self.sec = {name: ssl_enum_ciphers(p) for name, p in PROFILES.items()}
        self.nmap_id = 0
        self.start = 1764201600 + seed % 86400
        self.stats = Stats()

    def _ids(self) -> tuple[int, int, int]:
        base = self.nmap_id
        self.nmap_id += 3
        return base + 1, base + 2, base + 3

    def _sec(self, profile: str) -> tuple[str, int]:
        """One of the profile's hand-edited variants (``--diversity``)."""
        key = (profile, self.drng.randrange(VARIANTS_PER_PROFILE))
        got = self.variants.get(key)
        if got is None:
            vrng = random.Random(f"variant-{self.seed}-{key[0]}-{key[1]}")
            got = self.variants[key] = ssl_enum_ciphers(vary_profile(PROFILES[profile], vrng))
        return got

    def _vulners(self, prod: Product) -> tuple[str, int]:
        got = self.vulners.get(prod.cpes[0])
        if got is None:
            vrng = random.Random(f"vulners-{self.seed}-{prod.cpes[0]}")
            got = self.vulners[prod.cpes[0]] = vulners(prod.cpes[0], vrng, prod.vulners_rows)
        return got

    def _product(self, prod: Product) -> Product:
        """``prod``, or with ``--diversity`` now and then another release of it."""
        if self.diversity <= 0 or self.drng.random() >= self.diversity:
            return prod
        return vary_product(prod, self.drng)

    def _port(
        self,
        port: int,
        prod: Product,
        hostname: str | None,
        profile: str | None,
        base: Product | None = None,
    ) -> str:
        """One open port. ``base``: the product before ``--diversity`` picked another release
        of it (the main random stream follows the repetitive file's draws)."""
        rng = self.rng
        base = base or prod
        tls = port in TLS_PORTS
        scripts: list[tuple[str, int]] = []
        if prod.name == "http":
            key = f"{prod.product} {prod.version}"
            header = SERVER_HEADER.get(key) or server_header(prod)
            scripts.append((script_xml("http-server-header", header, [Elem(None, header)]), 1))
            if prod.product == "Apache httpd" and base.version == "2.4.41" and rng.random() < 0.15:
                scripts.append(vulns_script("http-slowloris-check", [SLOWLORIS]))
            if prod.product == "Apache httpd" and rng.random() < 0.06:
                scripts.append(vulns_script("http-vuln-cve2011-3192", [APACHE_RANGE]))
        if prod.name == "smtp":
            ext = ["PIPELINING", "SIZE 10240000", "VRFY", "ETRN"]
            if port != 465:
                ext.append("STARTTLS")
            ext += ["ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"]
            text = f"{hostname or 'localhost'}, " + ", ".join(ext)
            scripts.append((script_xml("smtp-commands", text), 0))
        if profile is not None and (tls or port in STARTTLS_PORTS):
            prof = PROFILES[profile]
            diverse = self.diversity > 0 and self.drng.random() < self.diversity
            if prof.dh_findings:
                source = prof.modulus_sources[rng.randrange(len(prof.modulus_sources))]
                group = None
                if diverse:
                    d = self.drng
                    source = d.choice(DH_SOURCES)
                    bits = d.choice(DH_BITS) if prof.weak_bits < 2048 else d.choice((2048, 3072))
                    group = DhGroup(
                        d.choice(DH_SUITES),
                        bits,
                        d.choice(DH_GENERATORS),
                        bits - (d.random() < 0.2),
                    )
                scripts.append(ssl_dh_params(prof, source, self._ids(), group))
            scripts.append(self._sec(profile) if diverse else self.sec[profile])
            if diverse and tls and hostname:
                scripts.append(ssl_cert(hostname, self.drng, self.start))
        if prod.vulners_rows:
            scripts.append(self._vulners(prod))
        st = self.stats
        st.ports += 1
        st.scripts += len(scripts)
        st.leaves += sum(n for _s, n in scripts)
        ttl = 64 if prod.ostype != "Windows" else 128
        return (
            f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack" '
            f'reason_ttl="{ttl - rng.randrange(1, 12)}"/>'
            + prod.service_xml(tls, hostname)
            + "".join(s for s, _n in scripts)
            + "</port>\n"
        )

    def host(self, index: int) -> str:
        rng = self.rng
        st = self.stats
        st.hosts += 1
        addr = f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"
        t0 = self.start + index // 8
        if rng.random() < 0.10:
            return (
                f'<host><status state="down" reason="no-response" reason_ttl="0"/>\n'
                f'<address addr="{addr}" addrtype="ipv4"/>\n</host>\n'
            )
        st.up += 1
        r = rng.random()
        kind = "mail" if r < 0.25 else "web" if r < 0.65 else "mixed" if r < 0.75 else "ssh"
        ssh = rng.choice(SSH)
        plan: list[tuple[int, Product, str | None]] = []
        if kind in ("mail", "mixed"):
            smtp = rng.choice(SMTP)
            mprof = weighted(rng, MAIL_PROFILES)
            # Dovecot is configured separately from the MTA: anonymous DH is a Postfix thing.
            iprof = mprof if mprof != "anon" else "weakdh"
            plan.append((25, smtp, mprof))
            if rng.random() < 0.6:
                plan.append((587, smtp, mprof))
            if rng.random() < 0.4:
                plan.append((465, smtp, mprof))
            if rng.random() < 0.65:
                plan.append((993, IMAP[0], iprof))
            if rng.random() < 0.35:
                plan.append((995, POP3[0], iprof))
        if kind in ("web", "mixed"):
            web = rng.choice(HTTP)
            wprof = weighted(rng, WEB_PROFILES)
            if rng.random() < 0.9:
                plan.append((80, web, None))
            if rng.random() < 0.8 or not plan:
                plan.append((443, web, wprof))
        if kind == "ssh" or rng.random() < 0.7:
            plan.append((22, ssh, None))
        if len(plan) > 7:
            plan = [*plan[:6], plan[-1]]
        dom = f"d{index % 997}.example.net"
        prefix = {"mail": "mx", "web": "www", "mixed": "srv", "ssh": "host"}[kind]
        hostname = f"{prefix}{index}.{dom}" if rng.random() < 0.85 else None
        hn = f'<hostname name="{hostname}" type="PTR"/>\n' if hostname else ""
        if self.diversity > 0:  # one release per product and host
            varied: dict[int, Product] = {}
            for _p, prod, _prof in plan:
                varied.setdefault(id(prod), self._product(prod))
        else:
            varied = {}
        opened = {p: (prod, prof) for p, prod, prof in plan}
        if rng.random() < 0.6:
            shut = f'<state state="closed" reason="reset" reason_ttl="{rng.randrange(40, 64)}"/>'
        else:
            shut = '<state state="filtered" reason="no-response" reason_ttl="0"/>'
        parts = []
        for p in SCAN_PORTS:
            if p in opened:
                prod, prof = opened[p]
                parts.append(self._port(p, varied.get(id(prod), prod), hostname, prof, prod))
            else:
                parts.append(
                    f'<port protocol="tcp" portid="{p}">{shut}<service '
                    f'name="{TABLE_NAMES[p]}" method="table" conf="3"/></port>\n'
                )
        self.stats.all_ports += len(SCAN_PORTS)
        ports = "".join(parts)
        srtt = rng.randrange(200, 40000)
        return (
            f'<host starttime="{t0}" endtime="{t0 + rng.randrange(20, 180)}">'
            f'<status state="up" reason="echo-reply" reason_ttl="{rng.randrange(40, 64)}"/>\n'
            f'<address addr="{addr}" addrtype="ipv4"/>\n<hostnames>\n{hn}</hostnames>\n'
            f"<ports>{ports}</ports>\n"
            f'<times srtt="{srtt}" rttvar="{srtt // 4 + 100}" to="{max(100000, srtt * 4)}"/>\n'
            "</host>\n"
        )

    def write(self, out: TextIO, hosts: int) -> Stats:
        start = self.start
        startstr = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(start))
        targets = f"10.0.0.0/{max(8, 32 - max(hosts - 1, 1).bit_length())}"
        args = (
            "nmap -sV -p 22,25,80,443,465,587,993,995 "
            f"--script=vuln,ssl-enum-ciphers -oX scan.xml {targets}"
        )
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n'
            '<?xml-stylesheet href="file:///usr/share/nmap/nmap.xsl" type="text/xsl"?>\n'
            f"<!-- Nmap 7.94 scan initiated {startstr} as: {esc(args)} -->\n"
            f'<nmaprun scanner="nmap" args="{esc(args)}" start="{start}" '
            f'startstr="{startstr}" version="7.94" xmloutputversion="1.05">\n'
            f'<scaninfo type="syn" protocol="tcp" numservices="{len(SCAN_PORTS)}" '
            f'services="{",".join(map(str, SCAN_PORTS))}"/>\n'
            '<verbose level="0"/>\n<debugging level="0"/>\n'
        )
        buf: list[str] = []
        for i in range(hosts):
            buf.append(self.host(i + 1))
            if len(buf) >= 256:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))
        end = start + hosts // 8 + 200
        endstr = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(end))
        st = self.stats
        elapsed = f"{end - start:.2f}"
        out.write(
            f'<runstats><finished time="{end}" timestr="{endstr}" summary="Nmap done at '
            f'{endstr}; {hosts} IP addresses ({st.up} hosts up) scanned in {elapsed} seconds" '
            f'elapsed="{elapsed}" exit="success"/><hosts up="{st.up}" down="{hosts - st.up}" '
            f'total="{hosts}"/>\n</runstats>\n</nmaprun>\n'
        )
        return st


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", type=int, default=1000, help="number of <host> elements")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--diversity",
        type=float,
        default=0.0,
        help="0-1: share of TLS ports and services that get their own variant (cipher lists "
        "and order, DH group size/generator/source, a per-host certificate, another product "
        "release with its own vulners rows); 0 (default) = the repetitive estate, byte for "
        "byte; 1 = about 260 distinct ssl-enum-ciphers and 1,300 ssl-dh-params results per "
        "10k hosts",
    )
    ap.add_argument("-o", "--output", default="-", help="file to write (default stdout)")
    ap.add_argument("--stats", action="store_true", help="print counts to stderr")
    ap.add_argument(
        "--check",
        action="store_true",
        help="after writing -o FILE: validate it against nmap.dtd (lxml, whole tree: use on "
        "small files) and parse it with python-libnmap",
    )
    ns = ap.parse_args(argv)
    gen = Generator(ns.seed, ns.diversity)
    if ns.output == "-":
        st = gen.write(sys.stdout, ns.hosts)
    else:
        with open(ns.output, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as f:
            st = gen.write(f, ns.hosts)
    if ns.stats:
        print(
            f"hosts={st.hosts} up={st.up} ports={st.all_ports} open_ports={st.ports} "
            f"scripts={st.scripts} "
            f"leaves={st.leaves}",
            file=sys.stderr,
        )
    if ns.check:
        return check(ns.output)
    return 0


def check(path: str, dtd_path: str = "/usr/share/nmap/nmap.dtd") -> int:
    """Validate ``path`` against nmap's DTD and read it with python-libnmap."""
    from libnmap.parser import NmapParser  # type: ignore[import-untyped, unused-ignore]
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    with open(dtd_path, "rb") as f:
        dtd = etree.DTD(f)
    valid = dtd.validate(etree.parse(path))
    errors = str(dtd.error_log).splitlines()[:5]
    print(f"nmap.dtd: {'valid' if valid else 'INVALID'} {'; '.join(errors)}", file=sys.stderr)
    report = NmapParser.parse_fromfile(path)
    scripts = sum(len(s.scripts_results) for h in report.hosts for s in h.services)
    print(
        f"python-libnmap: hosts={len(report.hosts)} up={report.hosts_up} "
        f"ports={sum(len(h.services) for h in report.hosts)} scripts={scripts}",
        file=sys.stderr,
    )
    return 0 if valid else 1


if __name__ == "__main__":
    raise SystemExit(main())
