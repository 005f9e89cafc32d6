"""Read Postfix configuration evidence and answer "which value applies on this port, and why".

Inputs, each optional:

* ``postconf -n`` (explicit main.cf settings), full ``postconf`` (every parameter), or a raw
  ``main.cf`` (comments, continuation lines starting with whitespace). ``postconf -P`` lines
  (``submissions/inet/name = value``) are read as per-service overrides.
* ``postconf -M`` / ``postconf -Mf`` or a raw ``master.cf``: one service per logical line,
  ``service type private unpriv chroot wakeup maxproc command args...`` with ``-o name=value``
  (or ``-o { name = value }``, Postfix >= 3.0) overrides.
* ``postconf mail_version``.

Facts used here, checked against Postfix's own documentation and a real Postfix 3.7.11:

* An ``-o`` override on a master.cf service beats main.cf, which beats the built-in default
  (master(5)).
* ``smtpd_tls_wrappermode = yes`` (port 465, "submissions") is mandatory TLS even at level
  ``may``: the ``smtpd_tls_mandatory_*`` settings apply there, as they do at level ``encrypt``
  (verified with nmap against Postfix 3.7.11, see the project's lab notes).
  ``smtpd_tls_exclude_ciphers`` applies at every level; ``smtpd_tls_mandatory_exclude_ciphers``
  only adds to it for mandatory TLS (postconf(5)).
* ``smtpd_tls_security_level`` "is ignored with smtpd_tls_wrappermode = yes"; the server
  levels are none, may, encrypt, and fingerprint/verify/secure fall back to encrypt (postconf(5)).
* Protocol ranges such as ``>=TLSv1.2`` need Postfix >= 3.6, whose default is ``>=TLSv1``;
  "older releases use the '!' exclusion syntax" (postconf(5) smtpd_tls_protocols; TLS_README,
  3.6 change of 2020-07-25). Releases after mid-2015 exclude SSLv2 and SSLv3 by default
  (HISTORY 20150719).
* ``smtpd_tls_chain_files`` exists from Postfix 3.4 (postconf(5)).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from advisor.evidence.listeners import normalise_address

__all__ = [
    "POSTFIX_DEFAULTS",
    "Effective",
    "MainCf",
    "MasterCf",
    "MasterService",
    "PostfixConfig",
    "TlsMode",
    "default_value",
    "load_postfix",
    "parse_mail_version",
    "parse_main_cf",
    "parse_master_cf",
    "protocol_exclusion_list",
    "supports_chain_files",
    "supports_protocol_ranges",
    "version_tuple",
]

SERVICE_PORTS: dict[str, int] = {
    "smtp": 25,
    "submission": 587,
    "smtps": 465,
    "submissions": 465,
    "ssmtp": 465,
    "urd": 465,
    "lmtp": 24,
    "qmqp": 628,
}
"""Service names Postfix resolves through /etc/services, for the ports that matter here."""

_TRUE = frozenset({"yes", "true", "1", "on"})

# (first Postfix version with this default, default value). None = parameter does not exist.
# Checked against postconf -d of Postfix 3.7.11 (Debian 12) and postconf(5) / HISTORY:
# 2015-07-18/19 "opportunistic TLS by default uses medium", "no longer uses SSLv2 or SSLv3";
# Postfix 3.6 changed the protocol defaults to the range form ">=TLSv1".
POSTFIX_DEFAULTS: dict[str, tuple[tuple[tuple[int, ...], str | None], ...]] = {
    "smtpd_tls_exclude_ciphers": (((0,), ""),),
    "smtpd_tls_mandatory_exclude_ciphers": (((0,), ""),),
    "smtpd_tls_protocols": (((3, 6), ">=TLSv1"), ((0,), "!SSLv2, !SSLv3")),
    "smtpd_tls_mandatory_protocols": (((3, 6), ">=TLSv1"), ((0,), "!SSLv2, !SSLv3")),
    "smtpd_tls_ciphers": (((0,), "medium"),),
    "smtpd_tls_mandatory_ciphers": (((0,), "medium"),),
    "smtpd_tls_security_level": (((0,), ""),),
    "smtpd_tls_wrappermode": (((0,), "no"),),
    "smtpd_tls_dh1024_param_file": (((0,), ""),),
    "smtpd_tls_cert_file": (((0,), ""),),
    "smtpd_tls_key_file": (((0,), "$smtpd_tls_cert_file"),),
    "smtpd_tls_chain_files": (((3, 4), ""), ((0,), None)),
    "smtpd_use_tls": (((0,), "no"),),
    "smtpd_enforce_tls": (((0,), "no"),),
    "tls_high_cipherlist": (((0,), "aNULL:-aNULL:HIGH:@STRENGTH"),),
    "tls_medium_cipherlist": (((0,), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"),),
}
"""Built-in defaults of the settings that TLS fixes touch, by Postfix version.

The two cipherlists are ``postconf -d`` of Postfix 3.7.11; ``aNULL:-aNULL`` at their head only
orders the list, so the ``high`` and ``medium`` grades still admit anonymous suites (verified
with nmap, lab notes), which is why ``smtpd_tls_ciphers = high`` is not a fix.
"""

_DEFAULT_NOTES: dict[str, str] = {
    "smtpd_tls_protocols": "Postfix >= 3.6: >=TLSv1; 3.0-3.5: !SSLv2, !SSLv3",
    "smtpd_tls_mandatory_protocols": "Postfix >= 3.6: >=TLSv1; 3.0-3.5: !SSLv2, !SSLv3",
    "smtpd_tls_dh1024_param_file": (
        "empty: Postfix < 3.7 uses a built-in 2048-bit group (nmap: Unknown/Custom-generated);"
        " 3.7 with OpenSSL 3 uses well-known groups"
    ),
    "smtpd_tls_chain_files": "exists from Postfix 3.4",
}


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    """``3.4.13`` -> (3, 4, 13); ``3.7.11-0+deb12u1`` -> (3, 7, 11); junk -> None."""
    if not version:
        return None
    m = re.match(r"\s*(\d+(?:\.\d+)*)", version)
    if not m:
        return None
    try:
        return tuple(int(x) for x in m.group(1).split(".")[:4])
    except ValueError:
        return None


def supports_protocol_ranges(version: str | None) -> bool | None:
    """True from Postfix 3.6 (``>=TLSv1.2``); None when the version is unknown."""
    v = version_tuple(version)
    return None if v is None else v >= (3, 6)


def supports_chain_files(version: str | None) -> bool | None:
    """True from Postfix 3.4 (``smtpd_tls_chain_files``); None when the version is unknown."""
    v = version_tuple(version)
    return None if v is None else v >= (3, 4)


_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def protocol_exclusion_list(minimum: str, version: str | None) -> str:
    """The value that allows only ``minimum`` and later, in the syntax this Postfix accepts.

    ``("TLSv1.2", "3.4.13")`` -> ``!SSLv2, !SSLv3, !TLSv1, !TLSv1.1``;
    ``("TLSv1.2", "3.7.11")`` -> ``>=TLSv1.2``. Unknown version: the exclusion form, which every
    Postfix 3.x accepts.
    """
    if minimum not in _PROTOCOLS:
        raise ValueError(f"unknown protocol {minimum!r}")
    if supports_protocol_ranges(version):
        return f">={minimum}"
    return ", ".join(f"!{p}" for p in _PROTOCOLS[: _PROTOCOLS.index(minimum)])


def default_value(setting: str, version: str | None = None) -> tuple[str | None, str]:
    """Built-in default of ``setting`` for this Postfix version -> (value, note).

    Value None: not in the table (or the parameter does not exist in this version; the note
    says which).
    """
    table = POSTFIX_DEFAULTS.get(setting)
    if table is None:
        return None, "not in advisor's table of Postfix defaults"
    v = version_tuple(version)
    if v is None:
        value = table[0][1]
        note = _DEFAULT_NOTES.get(setting, "")
        return value, ("version unknown; " + note) if note else "version unknown"
    for since, value in table:
        if v >= since:
            if value is None:
                return None, f"{setting} does not exist in Postfix {version}"
            return value, _DEFAULT_NOTES.get(setting, "")
    return None, ""


# --------------------------------------------------------------------------- main.cf


@dataclass(frozen=True, slots=True)
class MainCf:
    """main.cf parameters as read from ``postconf -n``, ``postconf`` or the file itself."""

    params: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    """Line number (in the input) of the definition that won."""
    service_params: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """``postconf -P`` lines: (service, type) -> {parameter: value}."""
    full: bool = False
    """True for full ``postconf`` output: every parameter, defaults included."""
    warnings: tuple[str, ...] = ()

    def get(self, name: str) -> str | None:
        return self.params.get(name)


_PARAM = re.compile(r"^([A-Za-z0-9_]+(?:/[A-Za-z0-9_.:\[\]-]+/[A-Za-z0-9_]+)?)\s*=\s?(.*)$")


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """main.cf/master.cf logical lines: whitespace-led lines continue the previous one.

    Comment lines (first non-space ``#``) and blank lines are ignored and do not end one.
    """
    start = 0
    buf: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] in " \t":
            if buf:
                buf.append(stripped)
            continue
        if buf:
            yield start, " ".join(buf)
        start, buf = lineno, [line]
    if buf:
        yield start, " ".join(buf)


def parse_main_cf(text: str) -> MainCf:
    """Read ``postconf -n``, full ``postconf`` or ``main.cf``. Never raises on any ``str``."""
    params: dict[str, str] = {}
    lines: dict[str, int] = {}
    per_service: dict[tuple[str, str], dict[str, str]] = {}
    warnings: list[str] = []
    bad = 0
    for lineno, line in _logical_lines(text):
        if line.startswith(("postconf:", "postfix:", "postconf -")):
            warnings.append(f"line {lineno}: {line[:200]}")
            continue
        m = _PARAM.match(line)
        if not m:
            bad += 1
            if bad <= 5:
                warnings.append(f"line {lineno}: not a 'name = value' line: {line[:80]!r}")
            continue
        name, value = m.group(1), m.group(2).strip()
        if "/" in name:
            service, typ, pname = name.split("/")
            per_service.setdefault((service, typ), {})[pname] = value
            continue
        if name in params and params[name] != value:
            warnings.append(
                f"line {lineno}: {name} is set again; the later value wins "
                f"(line {lines[name]} is overridden)"
            )
        params[name] = value
        lines[name] = lineno
    if bad > 5:
        warnings.append(f"{bad - 5} more lines were not 'name = value'")
    full = len(params) > 300 and "mail_version" in params
    return MainCf(params, lines, per_service, full, tuple(warnings))


# --------------------------------------------------------------------------- master.cf


@dataclass(frozen=True, slots=True)
class MasterService:
    """One master.cf service (one line of ``postconf -M``)."""

    name: str
    """The service field as written: ``smtp``, ``465``, ``submissions``, ``127.0.0.1:465``."""
    type: str
    """``inet``, ``unix``, ``unix-dgram``, ``fifo`` or ``pass``."""
    private: str
    unpriv: str
    chroot: str
    wakeup: str
    maxproc: str
    command: str
    """The daemon: ``smtpd``, ``postscreen``, ``tlsproxy`` ..."""
    args: tuple[str, ...] = ()
    overrides: tuple[tuple[str, str], ...] = ()
    """``-o name=value`` pairs in order (a later one for the same name wins)."""
    host: str | None = None
    """Listen address from the service field (``127.0.0.1``, ``::1``), None = inet_interfaces."""
    port: int | None = None
    """Listen port for ``inet`` services (service names mapped as /etc/services does)."""
    lineno: int = 0
    line: str = ""

    @property
    def key(self) -> str:
        """``submissions/inet``: the form ``postconf -P`` and ``postconf -M`` take."""
        return f"{self.name}/{self.type}"

    def override(self, setting: str) -> str | None:
        """The value this service's ``-o`` sets for ``setting`` (last wins), or None."""
        found: str | None = None
        for name, value in self.overrides:
            if name == setting:
                found = value
        return found


@dataclass(frozen=True, slots=True)
class MasterCf:
    services: tuple[MasterService, ...] = ()
    warnings: tuple[str, ...] = ()


def _tokens(line: str) -> list[str]:
    """Split on whitespace, keeping ``{ ... }`` groups (Postfix >= 3.0) as one token."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] == "{":
            depth, j = 0, i
            while j < n:
                if line[j] == "{":
                    depth += 1
                elif line[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append("{" + line[i + 1 : j].strip() + "}")
            i = j + 1
            continue
        j = i
        while j < n and not line[j].isspace():
            j += 1
        out.append(line[i:j])
        i = j
    return out


def _listen_endpoint(name: str, typ: str) -> tuple[str | None, int | None]:
    if typ != "inet":
        return None, None
    host: str | None = None
    port_text = name
    if name.startswith("["):
        end = name.find("]")
        if end > 0 and name[end + 1 : end + 2] == ":":
            host, port_text = name[1:end], name[end + 2 :]
    elif ":" in name:
        host, _, port_text = name.rpartition(":")
    port: int | None
    if port_text.isdigit():
        port = int(port_text) if int(port_text) <= 65535 else None
    else:
        port = SERVICE_PORTS.get(port_text)
    return host or None, port


def _overrides(args: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    pairs: list[tuple[str, str]] = []
    bad: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        item: str | None = None
        if a == "-o" and i + 1 < len(args):
            item = args[i + 1]
            i += 2
        elif a.startswith("-o") and len(a) > 2:
            item = a[2:]
            i += 1
        else:
            i += 1
            continue
        if item.startswith("{") and item.endswith("}"):
            item = item[1:-1].strip()
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            bad.append(item)
            continue
        pairs.append((name.strip(), value.strip()))
    return pairs, bad


def parse_master_cf(text: str) -> MasterCf:
    """Read ``postconf -M``/``-Mf`` output or a raw master.cf. Never raises on any ``str``."""
    services: list[MasterService] = []
    warnings: list[str] = []
    for lineno, line in _logical_lines(text):
        if line.startswith(("postconf:", "postfix:")):
            warnings.append(f"line {lineno}: {line[:200]}")
            continue
        toks = _tokens(line)
        if len(toks) < 8:
            warnings.append(f"line {lineno}: fewer than 8 master.cf fields: {line[:80]!r}")
            continue
        name, typ = toks[0], toks[1]
        args = toks[8:]
        pairs, bad = _overrides(args)
        for item in bad:
            warnings.append(f"line {lineno}: -o {item!r} is not name=value")
        host, port = _listen_endpoint(name, typ)
        if typ == "inet" and port is None:
            warnings.append(
                f"line {lineno}: cannot tell the port of service {name!r} "
                "(not a number or a name advisor knows)"
            )
        services.append(
            MasterService(
                name=name,
                type=typ,
                private=toks[2],
                unpriv=toks[3],
                chroot=toks[4],
                wakeup=toks[5],
                maxproc=toks[6],
                command=toks[7],
                args=tuple(args),
                overrides=tuple(pairs),
                host=host,
                port=port,
                lineno=lineno,
                line=line,
            )
        )
    return MasterCf(tuple(services), tuple(warnings))


def parse_mail_version(text: str) -> str | None:
    """``mail_version = 3.4.13`` (or a bare ``3.4.13``, or the master's startup log line)."""
    m = re.search(r"mail_version\s*=\s*(\d+\.\d+(?:\.\d+)?\S*)", text)
    if not m:
        m = re.search(r"daemon started -- version (\d+\.\d+(?:\.\d+)?)", text)
    if not m:
        m = re.fullmatch(r"\s*(\d+\.\d+(?:\.\d+)?)\s*", text)
    return m.group(1) if m else None


# --------------------------------------------------------------------------- combined


class Effective(NamedTuple):
    """A setting's value for one service, and where it came from."""

    value: str | None
    """None when advisor cannot tell (no evidence and not in the defaults table)."""
    source: str
    """``master.cf -o on service submissions/inet``, ``main.cf``, ``default`` ..."""


@dataclass(frozen=True, slots=True)
class TlsMode:
    """How TLS works on one SMTP service, and which settings govern it."""

    service: str | None
    wrapper: bool
    """True: TLS from the first byte (port 465). False: STARTTLS."""
    level: str
    """Effective ``smtpd_tls_security_level`` (``none``, ``may``, ``encrypt``)."""
    mandatory: bool
    """Wrapper mode or level ``encrypt``: the ``smtpd_tls_mandatory_*`` settings apply."""
    protocols_setting: str
    ciphers_setting: str
    exclude_settings: tuple[str, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class PostfixConfig:
    """All Postfix evidence for one host."""

    main: MainCf | None = None
    master: MasterCf | None = None
    version: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def services(self) -> tuple[MasterService, ...]:
        return self.master.services if self.master else ()

    def services_for_port(self, port: int) -> list[MasterService]:
        """Every inet service listening on this port (several when bound to several hosts)."""
        return [s for s in self.services if s.type == "inet" and s.port == port]

    def service_for_port(self, port: int, address: str | None = None) -> MasterService | None:
        """The inet service on ``port``; with ``address``, the one bound to it (or to all)."""
        cands = self.services_for_port(port)
        if address is not None and len(cands) > 1:
            target = normalise_address(address)
            exact = [
                s
                for s in cands
                if s.host is not None
                and target is not None
                and (t := normalise_address(s.host)) is not None
                and t[0] == target[0]
            ]
            if exact:
                return exact[0]
            anyhost = [s for s in cands if s.host is None]
            if anyhost:
                return anyhost[0]
        return cands[0] if cands else None

    def smtpd_service_for(self, service: MasterService) -> MasterService:
        """With postscreen on a port, the smtpd that serves the session is the ``pass`` one."""
        if service.command == "postscreen":
            for s in self.services:
                if s.type == "pass" and s.command == "smtpd":
                    return s
        return service

    def _resolve(self, service: MasterService | str | None) -> MasterService | None:
        if service is None or isinstance(service, MasterService):
            return service
        name, _, typ = service.partition("/")
        for s in self.services:
            if s.name == name and (not typ or s.type == typ):
                return s
        return None

    def effective(self, setting: str, service: MasterService | str | None = None) -> Effective:
        """The value of ``setting`` for ``service`` and where it comes from.

        Order: the service's ``-o`` overrides (for a postscreen port, the ``smtpd`` pass
        service's), ``postconf -P`` per-service parameters, main.cf, then Postfix's default for
        the known version. ``service`` may be a :class:`MasterService`, ``"submissions/inet"``,
        ``"smtps"``, or None for main.cf only.
        """
        svc = self._resolve(service)
        if svc is not None:
            target = self.smtpd_service_for(svc)
            value = target.override(setting)
            if value is not None:
                via = f" (postscreen hands sessions to it from {svc.key})" if target != svc else ""
                return Effective(value, f"master.cf -o on service {target.key}{via}")
            if self.main is not None:
                per = self.main.service_params.get((target.name, target.type), {})
                if setting in per:
                    return Effective(per[setting], f"master.cf -o on service {target.key}")
        if self.main is not None and setting in self.main.params:
            if self.main.full:
                return Effective(
                    self.main.params[setting],
                    "postconf (main.cf or built-in default: full postconf output does not "
                    "say which; use postconf -n)",
                )
            return Effective(self.main.params[setting], "main.cf")
        value, note = default_value(setting, self.version)
        if value is None:
            return Effective(None, note or "unknown")
        where = f"default (Postfix {self.version})" if self.version else "default"
        return Effective(value, f"{where}; {note}" if note else where)

    def tls_mode(self, service: MasterService | str | None) -> TlsMode:
        """Wrapper mode or STARTTLS, the security level, and which settings govern TLS there."""
        svc = self._resolve(service)
        key = svc.key if svc else None
        wrapper_v = (self.effective("smtpd_tls_wrappermode", svc).value or "no").lower()
        wrapper = wrapper_v in _TRUE
        level = (self.effective("smtpd_tls_security_level", svc).value or "").strip().lower()
        if not level:
            if (self.effective("smtpd_enforce_tls", svc).value or "").lower() in _TRUE:
                level = "encrypt"
            elif (self.effective("smtpd_use_tls", svc).value or "").lower() in _TRUE:
                level = "may"
            else:
                level = "none"
        if level in ("fingerprint", "verify", "secure", "dane", "dane-only"):
            # postconf(5): the SMTP server does not support these, logs a warning, uses encrypt
            level = "encrypt"
        mandatory = wrapper or level == "encrypt"
        if mandatory:
            why = (
                "wrapper mode (TLS from the first byte) is mandatory TLS; postconf(5): "
                "smtpd_tls_security_level is ignored with smtpd_tls_wrappermode = yes"
                if wrapper
                else "security level encrypt makes TLS mandatory"
            )
            return TlsMode(
                key,
                wrapper,
                level,
                True,
                "smtpd_tls_mandatory_protocols",
                "smtpd_tls_mandatory_ciphers",
                ("smtpd_tls_exclude_ciphers", "smtpd_tls_mandatory_exclude_ciphers"),
                f"{why}: smtpd_tls_mandatory_protocols, smtpd_tls_mandatory_ciphers and "
                "smtpd_tls_mandatory_exclude_ciphers apply, plus smtpd_tls_exclude_ciphers",
            )
        why = (
            "opportunistic STARTTLS (level may)"
            if level == "may"
            else f"level {level}: no TLS offered unless something else enables it"
        )
        return TlsMode(
            key,
            False,
            level,
            False,
            "smtpd_tls_protocols",
            "smtpd_tls_ciphers",
            ("smtpd_tls_exclude_ciphers",),
            f"{why}: smtpd_tls_protocols, smtpd_tls_ciphers and smtpd_tls_exclude_ciphers apply",
        )


def load_postfix(
    main: str | None = None, master: str | None = None, mail_version: str | None = None
) -> PostfixConfig:
    """Combine whatever Postfix evidence there is. Every argument is the raw text, or None.

    The version comes from ``mail_version`` text, else from a ``mail_version`` line in the
    main text (full ``postconf`` prints it).
    """
    m = parse_main_cf(main) if main is not None else None
    ms = parse_master_cf(master) if master is not None else None
    version = parse_mail_version(mail_version) if mail_version else None
    if version is None and m is not None:
        version = m.params.get("mail_version")
    warnings = (m.warnings if m else ()) + (ms.warnings if ms else ())
    return PostfixConfig(m, ms, version, warnings)
