"""Make the real captures committed under ``samples/`` and ``tests/kb_samples/``.

    python -m tests.lab.capture [motivating-case|dovecot|nginx|all|kb-sources] [--repo DIR]

Runs from the repository root, as root, against servers on 127.0.0.1 only. Every nmap run is
recorded with its exact command line (and nmap itself records it in the XML ``args``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    LOOPBACK,
    binary,
    dh_fixture,
    free_ports,
    make_lab_dir,
    port_is_listening,
    run,
)
from .nmap import NmapRun, enum_ciphers, run_nmap, vuln_findings, write_datadir
from .servers import DovecotServer, NginxServer, PostfixServer, copy_fixture
from .tls import Certificate, make_self_signed_cert, open_connection

REPO = Path(__file__).resolve().parents[2]
ANON = "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability"


def _nmap_version() -> str:
    first = run([binary("nmap"), "--version"]).stdout.splitlines()[0]
    return first.split()[2] if len(first.split()) > 2 else first


def pick_ports(preferred: Mapping[int, int]) -> dict[int, int]:
    """Use the preferred (readable) ports when free, else free high ports."""
    result: dict[int, int] = {}
    spare = iter(free_ports(len(preferred)))
    for logical, port in preferred.items():
        result[logical] = port if not port_is_listening(port) else next(spare)
    return result


@dataclass
class Capture:
    """Files written into one samples directory, with their commands, for the README."""

    directory: Path
    entries: list[tuple[str, str, str]] = field(default_factory=list)
    """(file names, command, description)"""
    findings: list[str] = field(default_factory=list)

    def add(self, files: str, command: str, description: str) -> None:
        self.entries.append((files, command, description))

    def text(self, name: str, command: Sequence[str], content: str, description: str) -> Path:
        path = self.directory / name
        path.write_text(content)
        self.add(name, " ".join(command), description)
        return path

    def nmap(self, result: NmapRun, description: str) -> NmapRun:
        names = [p.name for p in (result.xml, result.normal, result.grepable) if p is not None]
        self.add(", ".join(names), result.command_line, description)
        self.findings.append(f"`{result.xml.name}` ({result.seconds:.0f} s):")
        self.findings.extend(summarize(result.xml))
        return result


def summarize(xml: Path) -> list[str]:
    lines: list[str] = []
    found = vuln_findings(xml)
    ports = sorted({f.port for f in found})
    for port in ports:
        for f in found:
            if f.port == port:
                details = [
                    line.strip()
                    for check in f.check_results
                    for line in check.splitlines()
                    if line.strip().startswith(("Modulus Type", "Modulus Source", "Modulus Length"))
                ]
                detail = f" ({'; '.join(dict.fromkeys(details))})" if details else ""
                lines.append(f"  - port {port}: {f.title}: {f.state}{detail}")
    if not found:
        lines.append("  - no vulns-library finding")
    return lines


def summarize_ciphers(xml: Path, port: int) -> list[str]:
    table = enum_ciphers(xml, port)
    lines: list[str] = []
    for key, value in table.items():
        if key.endswith("warnings") or key == "least strength":
            lines.append(f"  - port {port} {key}: {'; '.join(value)}")
        else:
            anon = sum("_anon_" in name for name in value)
            lines.append(f"  - port {port} {key}: {len(value)} cipher suites ({anon} anonymous)")
    return lines


def _fmt_entries(capture: Capture) -> str:
    out = []
    for files, command, description in capture.entries:
        out.append(f"### {files}\n\n{description}\n\n```sh\n{command}\n```\n")
    return "\n".join(out)


def ss_listening(ports: Iterable[int]) -> tuple[list[str], str]:
    expr = " or ".join(f"sport = :{p}" for p in ports)
    cmd = [binary("ss"), "-lnpt", f"( {expr} )"]
    return ["ss", "-lnpt", f"'( {expr} )'"], run(cmd).stdout


# ------------------------------------------------------------------------------------------------
# motivating case: Postfix with a custom 2048-bit DH file
# ------------------------------------------------------------------------------------------------

MOTIVATING_PORTS = {25: 10025, 465: 10465, 587: 10587}


def capture_motivating_case(repo: Path, lab: Path, cert: Certificate) -> list[str]:
    out = repo / "samples" / "motivating-case"
    out.mkdir(parents=True, exist_ok=True)
    cap = Capture(out)
    ports = pick_ports(MOTIVATING_PORTS)
    pf = PostfixServer(lab / "postfix-motivating", cert, ports=ports)
    dh = copy_fixture(dh_fixture("dh2048"), pf.config_dir)
    pf.set_main({"smtpd_tls_dh1024_param_file": str(dh)})
    with pf:
        actual = ",".join(str(pf.port(p)) for p in (25, 465, 587))
        cap.nmap(
            run_nmap(
                [pf.port(p) for p in (25, 465, 587)],
                "ssl-dh-params",
                Path("raw-scan"),
                version_detection=True,
                all_formats=True,
                no_dns=True,
                cwd=out,
            ),
            "ssl-dh-params with version detection against the three mail ports "
            f"({actual} standing for 25, 465, 587).",
        )
        datadir = write_datadir(lab / "nmapdata", {pf.port(465): "smtps"})
        vuln = run_nmap(
            pf.port(465),
            "vuln",
            Path("raw-vuln-465"),
            all_formats=True,
            cwd=out,
            extra_args=["--datadir", str(datadir)],
        )
        cap.nmap(
            vuln,
            "`--script vuln` on the wrapper-mode port only, no `-sV`, like the Oh My Zsh "
            "`nmap_check_for_vulns` run of the motivating case. `--datadir` points at a copy of "
            f"nmap's `nmap-services` where port {pf.port(465)} is named `smtps` (as 465 is), so "
            "nmap treats the stand-in port exactly as it treats 465 (without it nmap calls the "
            "port `unknown`); every other data file is the system one.",
        )
        # ss while one TLS client is connected to the 465-like port, on a fresh start (the
        # scans above leave many idle smtpd children): master and one smtpd share the socket.
        pf.restart()
        with open_connection(pf.port(465), settle=1.5):
            shown, ss_out = ss_listening(pf.actual_ports)
        cap.text(
            "raw-ss-lnpt.txt",
            shown,
            ss_out,
            "`ss -lnpt` (filtered to the three ports) captured after a restart, while `openssl "
            f"s_client -connect {LOOPBACK}:{pf.port(465)}` held a connection open: the 465 "
            "listening socket is shared by `master` and the `smtpd` it forked for that "
            "connection; the other ports show only `master`.",
        )
        cap.text(
            "postconf-n.txt",
            ["postconf", "-c", str(pf.config_dir), "-n"],
            pf.postconf("-n"),
            "main.cf settings that differ from the defaults.",
        )
        cap.text(
            "postconf-M.txt",
            ["postconf", "-c", str(pf.config_dir), "-M"],
            pf.postconf("-M"),
            "master.cf services.",
        )
        cap.text(
            "postconf-P.txt",
            ["postconf", "-c", str(pf.config_dir), "-P"],
            pf.postconf("-P"),
            "master.cf `-o` overrides per service.",
        )
        cap.text(
            "mail_version.txt",
            ["postconf", "-c", str(pf.config_dir), "mail_version"],
            pf.postconf("mail_version"),
            "Postfix version.",
        )
    mapping = {str(pf.port(p)): p for p in (25, 465, 587)}
    (out / "ports.json").write_text(json.dumps(mapping, indent=2) + "\n")
    run([sys.executable, str(out / "rewrite_ports.py")], cwd=out)
    _write_motivating_readme(cap, pf, mapping)
    return cap.findings


def _write_motivating_readme(cap: Capture, pf: PostfixServer, mapping: Mapping[str, int]) -> None:
    rows = "\n".join(
        f"| {logical} | {pf.port(logical)} | `{pf.service(logical)}` | "
        f"`{pf.listeners[logical].label}` | {pf.listeners[logical].tls_mode} |"
        for logical in (25, 465, 587)
    )
    version = pf.postconf("-h", "mail_version").strip()
    text = f"""# Motivating case, reproduced against a real Postfix on loopback

Postfix {version} (Debian 12 package) with OpenSSL 3.0, started by the lab harness
(`tests/lab/servers.py`, `PostfixServer`) as `postfix -c DIR start`, listening on 127.0.0.1
only, with master.cf listeners shaped like Ubuntu's template. The only TLS setting changed from
the harness defaults (`smtpd_tls_security_level = may`, a self-signed RSA-2048 certificate) is

    smtpd_tls_dh1024_param_file = DIR/dh2048.pem

a 2048-bit safe prime made with `openssl dhparam 2048` (`tests/lab/fixtures/dh2048.pem`). That
gives exactly the report of the motivating case: "Anonymous Diffie-Hellman Key Exchange MitM
Vulnerability" with "Modulus Source: Unknown/Custom-generated" and "Modulus Length: 2048".
(Without a DH file, Postfix 3.7 with OpenSSL 3 uses well-known groups that nmap names.)

Regenerate everything with `python -m tests.lab.capture motivating-case` (as root, from the
repository root).

## Port mapping

The capture could not use the real ports, so each mail port has a stand-in:

| logical port | captured port | master.cf service field | role (syslog_name) | TLS |
|---|---|---|---|---|
{rows}

`ports.json` holds the same mapping (captured port -> logical port).

## Demo files: port numbers rewritten

**`scan.xml`, `scan.nmap`, `vuln-465.xml`, `vuln-465.nmap` and `ss-lnpt.txt` are copies of
`raw-scan.xml`, `raw-scan.nmap`, `raw-vuln-465.xml`, `raw-vuln-465.nmap` and `raw-ss-lnpt.txt`
with the port numbers rewritten from the captured ones to the real ones (25/465/587), nothing
else changed** (in the text outputs, the PORT column is re-padded so the columns stay aligned).
`rewrite_ports.py` does it reproducibly from `ports.json`:

```sh
cd samples/motivating-case && python3 rewrite_ports.py
```

Service names are nmap's own. `scan.*` ran with `-sV`, so 465 is `smtp` with
`tunnel="ssl"` (`ssl/smtp` in the text). `vuln-465.*` ran without `-sV`, like the motivating
case, with a `--datadir` whose `nmap-services` names the stand-in port `smtps` (what nmap's
own table says for 465), so it shows `465/tcp open smtps` as a scan of the real port does.
Paths under `/tmp/advisor-capture-*` were the throwaway lab directory.

## Files and exact commands

{_fmt_entries(cap)}
## What nmap reported

{chr(10).join(cap.findings)}
"""
    (cap.directory / "README.md").write_text(text)


# ------------------------------------------------------------------------------------------------
# ADV-1001 samples: Postfix defaults vs smtpd_tls_exclude_ciphers = aNULL
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KBSample:
    entry: str
    name: str
    source: Path
    command: str
    notes: str
    expect: str


def capture_postfix_kb(
    lab: Path, cert: Certificate, work: Path
) -> tuple[list[KBSample], list[str]]:
    samples: list[KBSample] = []
    findings: list[str] = []
    ports = pick_ports({25: 11025, 465: 11465, 587: 11587})
    pf = PostfixServer(lab / "postfix-kb", cert, ports=ports)
    version = pf.postconf("-h", "mail_version").strip()
    plist = [pf.port(p) for p in (25, 465, 587)]
    mapping = ", ".join(f"{pf.port(p)} = {p}" for p in (25, 465, 587))
    with pf:
        default = run_nmap(
            plist, "ssl-dh-params", Path("postfix-default.xml"), version_detection=True, cwd=work
        )
        findings.append(f"`postfix-default.xml` ({default.seconds:.0f} s):")
        findings += summarize(default.xml)
        pf.apply("postfix-main", {"smtpd_tls_exclude_ciphers": "aNULL"})
        fixed = run_nmap(
            plist,
            "ssl-dh-params",
            Path("postfix-exclude-anull.xml"),
            version_detection=True,
            cwd=work,
        )
        findings.append(f"`postfix-exclude-anull.xml` ({fixed.seconds:.0f} s):")
        findings += summarize(fixed.xml)
    base = (
        f"Target: Postfix {version} (Debian 12), `postfix -c DIR` from the lab harness "
        f"(tests/lab/servers.py), 127.0.0.1 only; ports {mapping} (smtp STARTTLS level may, "
        "wrapper mode, STARTTLS level encrypt); self-signed RSA-2048 certificate."
    )
    samples.append(
        KBSample(
            "ADV-1001",
            "positive-postfix-default.xml",
            default.xml,
            default.command_line,
            base + " main.cf TLS defaults (no DH file, default cipher lists).",
            f"title '{ANON}' on all three ports",
        )
    )
    samples.append(
        KBSample(
            "ADV-1001",
            "negative-postfix-exclude-anull.xml",
            fixed.xml,
            fixed.command_line,
            base + " After `postconf -e 'smtpd_tls_exclude_ciphers = aNULL'` and a restart.",
            "no ssl-dh-params finding on any port",
        )
    )
    return samples, findings


# ------------------------------------------------------------------------------------------------
# Dovecot
# ------------------------------------------------------------------------------------------------

DOVECOT_VULN = {
    "ssl_cipher_list": "ALL:@SECLEVEL=0",
    "ssl_min_protocol": "TLSv1",
}


def capture_dovecot(repo: Path, lab: Path, cert: Certificate) -> list[str]:
    out = repo / "samples" / "dovecot"
    out.mkdir(parents=True, exist_ok=True)
    cap = Capture(out)
    ports = pick_ports({143: 12143, 993: 12993, 110: 12110, 995: 12995})
    dv = DovecotServer(lab / "dovecot-capture", cert, ports=ports)
    dh1024 = copy_fixture(dh_fixture("dh1024"), dv.root)
    plist = [dv.port(p) for p in (143, 993, 110, 995)]
    scripts = "ssl-dh-params,ssl-enum-ciphers"
    with dv:
        cap.text(
            "default-doveconf-n.txt",
            ["doveconf", "-c", str(dv.config_file), "-n"],
            dv.doveconf("-n"),
            "Default configuration (Debian's `ssl_dh = </usr/share/dovecot/dh.pem`, Dovecot's "
            "default `ssl_cipher_list` and `ssl_min_protocol`).",
        )
        cap.nmap(
            run_nmap(
                plist, scripts, Path("default"), version_detection=True, all_formats=True, cwd=out
            ),
            "Default Dovecot: imap (STARTTLS), imaps, pop3 (STARTTLS), pop3s.",
        )
        cap.findings += summarize_ciphers(out / "default.xml", dv.port(993))
        dv.apply("dovecot", {**DOVECOT_VULN, "ssl_dh": f"<{dh1024}"})
        cap.text(
            "vulnerable-doveconf-n.txt",
            ["doveconf", "-c", str(dv.config_file), "-n"],
            dv.doveconf("-n"),
            "Vulnerable configuration: `ssl_cipher_list = ALL:@SECLEVEL=0`, "
            "`ssl_min_protocol = TLSv1`, a 1024-bit `ssl_dh` (tests/lab/fixtures/dh1024.pem).",
        )
        cap.nmap(
            run_nmap(
                plist,
                scripts,
                Path("vulnerable"),
                version_detection=True,
                all_formats=True,
                cwd=out,
            ),
            "Vulnerable Dovecot, same ports.",
        )
        cap.findings += summarize_ciphers(out / "vulnerable.xml", dv.port(993))
    rows = "\n".join(
        f"| {lg} | {dv.port(lg)} | `{dv.listeners[lg].name}` | {dv.listeners[lg].tls_mode} |"
        for lg in (143, 993, 110, 995)
    )
    version = run([binary("dovecot"), "--version"]).stdout.strip()
    (out / "README.md").write_text(
        f"""# Dovecot captures (real server on loopback)

Dovecot {version} (Debian 12 package), OpenSSL 3.0, started by the lab harness
(`tests/lab/servers.py`, `DovecotServer`) as `dovecot -c FILE`, passwd-file auth, listening on
127.0.0.1 only. Regenerate with `python -m tests.lab.capture dovecot` (as root, from the
repository root). `*.gnmap` is nmap's grepable output of the same runs.

| logical port | captured port | inet_listener | TLS |
|---|---|---|---|
{rows}

## Files and exact commands

{_fmt_entries(cap)}
## What nmap reported

{chr(10).join(cap.findings)}
"""
    )
    return cap.findings


# ------------------------------------------------------------------------------------------------
# nginx
# ------------------------------------------------------------------------------------------------

DHE_CIPHERS = (
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA"
)


def capture_nginx(repo: Path, lab: Path, cert: Certificate) -> tuple[list[str], list[KBSample]]:
    out = repo / "samples" / "nginx"
    out.mkdir(parents=True, exist_ok=True)
    cap = Capture(out)
    port = pick_ports({443: 12443})[443]
    ng = NginxServer(lab / "nginx-capture", cert, port=port)
    files = {n: copy_fixture(dh_fixture(n), ng.root) for n in ("dh1024", "dh2048", "dh2048-dsa")}
    version = run([binary("nginx"), "-v"]).stderr.strip().split("/")[-1]
    samples: list[KBSample] = []
    base_note = (
        f"Target: nginx {version} (Debian 12), `nginx -p DIR -c DIR/nginx.conf` from the lab "
        f"harness (tests/lab/servers.py), one TLS server on 127.0.0.1:{port}, self-signed "
        "RSA-2048 certificate."
    )

    def dump(name: str, description: str) -> None:
        cap.text(
            name,
            ["nginx", "-p", f"{ng.root}/", "-c", str(ng.config_file), "-T"],
            ng.nginx("-T"),
            description,
        )

    configs = [
        (
            "dh1024",
            {
                "ssl_protocols": "TLSv1.2",
                "ssl_ciphers": f"{DHE_CIPHERS}:@SECLEVEL=1",
                "ssl_dhparam": str(files["dh1024"]),
            },
            "1024-bit safe-prime `ssl_dhparam` (`openssl dhparam 1024`) and DHE-only ciphers; "
            "`@SECLEVEL=1` because OpenSSL 3 refuses a 1024-bit group otherwise.",
        ),
        (
            "dsaparam2048",
            {
                "ssl_protocols": "TLSv1.2",
                "ssl_ciphers": f"{DHE_CIPHERS}:@SECLEVEL=1",
                "ssl_dhparam": str(files["dh2048-dsa"]),
            },
            "2048-bit `ssl_dhparam` made with `openssl dhparam -dsaparam 2048` (not a safe "
            "prime), DHE-only ciphers.",
        ),
        (
            "dh2048",
            {
                "ssl_protocols": "TLSv1.2",
                "ssl_ciphers": f"{DHE_CIPHERS}:@SECLEVEL=1",
                "ssl_dhparam": str(files["dh2048"]),
            },
            "The fix: 2048-bit safe-prime `ssl_dhparam` (`openssl dhparam 2048`), same DHE "
            "ciphers.",
        ),
    ]
    results: dict[str, NmapRun] = {}
    with ng:
        for name, directives, description in configs:
            ng.reset()
            ng.apply("nginx-server", directives)
            dump(f"{name}-nginx-T.txt", f"`nginx -T` for the `{name}` capture.")
            results[name] = cap.nmap(
                run_nmap(
                    port,
                    "ssl-dh-params",
                    Path(f"{name}-ssl-dh-params"),
                    version_detection=True,
                    all_formats=True,
                    cwd=out,
                ),
                description,
            )
        enum_configs = [
            (
                "weak-tls",
                {
                    "ssl_protocols": "TLSv1 TLSv1.1 TLSv1.2",
                    "ssl_ciphers": "ALL:eNULL:@SECLEVEL=0",
                    "ssl_dhparam": str(files["dh2048"]),
                },
                "TLSv1.0/1.1/1.2 with `ssl_ciphers ALL:eNULL:@SECLEVEL=0`: OpenSSL 3 then offers "
                "TLS 1.0 and 1.1, anonymous (aNULL) and unencrypted (eNULL) suites. Debian's "
                "OpenSSL 3 has no RC4, 3DES or export suites to offer.",
            ),
            (
                "legacy-tls",
                {
                    "ssl_protocols": "TLSv1 TLSv1.1 TLSv1.2",
                    "ssl_ciphers": "HIGH:!aNULL:!MD5:@SECLEVEL=0",
                },
                "TLSv1.0/1.1/1.2 with nginx's default cipher list plus `@SECLEVEL=0` (needed for "
                "OpenSSL 3 to speak TLS 1.0/1.1 at all): old protocol versions, no weak suites.",
            ),
        ]
        for name, directives, description in enum_configs:
            ng.reset()
            ng.apply("nginx-server", directives)
            dump(f"{name}-nginx-T.txt", f"`nginx -T` for the `{name}` capture.")
            xml_name = f"{name}-ssl-enum-ciphers"
            cap.nmap(
                run_nmap(
                    port,
                    "ssl-enum-ciphers",
                    Path(xml_name),
                    version_detection=True,
                    all_formats=True,
                    cwd=out,
                ),
                description,
            )
            cap.findings += summarize_ciphers(out / f"{xml_name}.xml", port)
        ng.reset()
        ng.apply("nginx-server", {"ssl_protocols": "TLSv1.2 TLSv1.3"})
        dump("modern-nginx-T.txt", "`nginx -T` for the `modern` capture.")
        cap.nmap(
            run_nmap(
                port,
                "ssl-enum-ciphers",
                Path("modern-ssl-enum-ciphers"),
                version_detection=True,
                all_formats=True,
                cwd=out,
            ),
            "Modern: `ssl_protocols TLSv1.2 TLSv1.3`, nginx's default `ssl_ciphers "
            "HIGH:!aNULL:!MD5`.",
        )
        cap.findings += summarize_ciphers(out / "modern-ssl-enum-ciphers.xml", port)
    for entry, name, key, expect in (
        (
            "ADV-1002",
            "positive-nginx-dh1024.xml",
            "dh1024",
            "title 'Diffie-Hellman Key Exchange Insufficient Group Strength'",
        ),
        ("ADV-1002", "negative-nginx-dh2048.xml", "dh2048", "no ssl-dh-params finding"),
        (
            "ADV-1003",
            "positive-nginx-dsaparam2048.xml",
            "dsaparam2048",
            "title 'Diffie-Hellman Key Exchange Incorrectly Generated Group Parameters', "
            "state LIKELY VULNERABLE",
        ),
        ("ADV-1003", "negative-nginx-dh2048.xml", "dh2048", "no ssl-dh-params finding"),
    ):
        description = next(d for n, _c, d in configs if n == key)
        samples.append(
            KBSample(
                entry,
                name,
                results[key].xml,
                results[key].command_line,
                f"{base_note} {description} Copy of samples/nginx/{results[key].xml.name}.",
                expect,
            )
        )
    (out / "README.md").write_text(
        f"""# nginx captures (real server on loopback)

nginx {version} (Debian 12 package), OpenSSL 3.0, started by the lab harness
(`tests/lab/servers.py`, `NginxServer`) as `nginx -p DIR -c DIR/nginx.conf`, one TLS server on
127.0.0.1:{port} (standing for 443). Regenerate with `python -m tests.lab.capture nginx` (as
root, from the repository root). DH files are the committed fixtures in `tests/lab/fixtures/`.
`*-nginx-T.txt` is `nginx -T` of the configuration each scan ran against. `*.gnmap` is nmap's
grepable output of the same runs.

## Files and exact commands

{_fmt_entries(cap)}
## What nmap reported

{chr(10).join(cap.findings)}
"""
    )
    return cap.findings, samples


# ------------------------------------------------------------------------------------------------
# kb samples
# ------------------------------------------------------------------------------------------------


KB_RECORD = Path(__file__).resolve().parent / "kb_sources.json"


def _section_name(line: str) -> str | None:
    """The table name of a ``["file.xml"]`` / ``[name]`` header line, else None."""
    stripped = line.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")) or stripped.startswith("[["):
        return None
    raw = stripped[1:-1].strip()
    if raw.startswith('"'):
        try:
            return str(json.loads(raw))
        except ValueError:
            return None
    return raw.strip("'")


def merge_sources(path: Path, sections: Mapping[str, str]) -> None:
    """Replace (or add) our files' sections in SOURCES.toml, keeping everyone else's.

    Other engineers put their own samples (and SOURCES entries) in the same directories. Our
    sections are replaced where they are; lines of a replaced section are dropped up to the
    next table or comment line; sections not there yet are appended.
    """
    lines: list[str] = [
        "# Provenance of every sample in this directory (docs/knowledge-format.md, Samples).",
    ]
    if path.is_file():
        lines = []
        skipping = False
        for line in path.read_text().splitlines():
            name = _section_name(line)
            if name is not None:
                skipping = name in sections
                if skipping:
                    lines += [*sections[name].rstrip().splitlines(), ""]
                    continue
            elif skipping and line.lstrip().startswith("#"):
                skipping = False
            if not skipping:
                lines.append(line)
    present = {_section_name(line) for line in lines}
    for name, text in sections.items():
        if name not in present:
            lines += ["", *text.rstrip().splitlines()]
    text = "\n".join(lines).rstrip() + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    tomllib.loads(text)  # refuse to write invalid TOML
    path.write_text(text)


def _sample_section(sample: Mapping[str, str], nmap_version: str) -> str:
    return "\n".join(
        [
            f"[{json.dumps(sample['name'])}]",
            'provenance = "real"',
            f"nmap_version = {json.dumps(nmap_version)}",
            f"command = {json.dumps(sample['command'])}",
            f"notes = {json.dumps(sample['notes'])}",
            f"expect = {json.dumps(sample['expect'])}",
            'made_by = "python -m tests.lab.capture (tests/lab/capture.py); XML unmodified"',
        ]
    )


def write_kb_sources(repo: Path, records: Sequence[Mapping[str, str]], nmap_version: str) -> None:
    by_entry: dict[str, dict[str, str]] = {}
    for rec in records:
        by_entry.setdefault(rec["entry"], {})[rec["name"]] = _sample_section(rec, nmap_version)
    for entry, sections in by_entry.items():
        merge_sources(repo / "tests" / "kb_samples" / entry / "SOURCES.toml", sections)


def write_kb_samples(repo: Path, samples: Sequence[KBSample], nmap_version: str) -> None:
    """Copy the sample XML files, merge their SOURCES.toml entries, update kb_sources.json."""
    records: dict[tuple[str, str], dict[str, str]] = {}
    if KB_RECORD.is_file():
        for rec in json.loads(KB_RECORD.read_text())["samples"]:
            records[(rec["entry"], rec["name"])] = rec
    for sample in samples:
        directory = repo / "tests" / "kb_samples" / sample.entry
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample.source, directory / sample.name)
        records[(sample.entry, sample.name)] = {
            "entry": sample.entry,
            "name": sample.name,
            "command": sample.command,
            "notes": sample.notes,
            "expect": sample.expect,
        }
    ordered = [records[key] for key in sorted(records)]
    KB_RECORD.write_text(
        json.dumps({"nmap_version": nmap_version, "samples": ordered}, indent=2) + "\n"
    )
    fresh = {(s.entry, s.name) for s in samples}
    write_kb_sources(repo, [r for r in ordered if (r["entry"], r["name"]) in fresh], nmap_version)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "what", choices=["motivating-case", "dovecot", "nginx", "all", "kb-sources"]
    )
    parser.add_argument("--repo", type=Path, default=REPO)
    args = parser.parse_args(argv)
    if args.what == "kb-sources":
        # Re-merge our SOURCES.toml entries only (after another tool rewrote the file).
        record = json.loads(KB_RECORD.read_text())
        write_kb_sources(args.repo, record["samples"], record["nmap_version"])
        return 0
    lab = make_lab_dir("advisor-capture-")
    cert = make_self_signed_cert(lab / "cert")
    nmap_version = _nmap_version()
    began = time.monotonic()
    samples: list[KBSample] = []
    report: list[str] = []
    try:
        if args.what in ("motivating-case", "all"):
            report += ["## motivating-case", *capture_motivating_case(args.repo, lab, cert)]
            work = lab / "kb-postfix"
            work.mkdir()
            kb, found = capture_postfix_kb(lab, cert, work)
            samples += kb
            report += ["## postfix kb samples", *found]
        if args.what in ("dovecot", "all"):
            report += ["## dovecot", *capture_dovecot(args.repo, lab, cert)]
        if args.what in ("nginx", "all"):
            found, kb = capture_nginx(args.repo, lab, cert)
            samples += kb
            report += ["## nginx", *found]
        write_kb_samples(args.repo, samples, nmap_version)
    finally:
        shutil.rmtree(lab, ignore_errors=True)
    print("\n".join(report))
    print(f"total {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
