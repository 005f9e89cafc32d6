"""Property tests: every reader takes arbitrary text without raising (untrusted input)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.evidence.distros import guess_from_os_match, guess_from_service, lookup
from advisor.evidence.dovecot import parse_doveconf
from advisor.evidence.listeners import parse_listeners
from advisor.evidence.nginx import parse_nginx
from advisor.evidence.postfix import load_postfix, parse_mail_version
from advisor.evidence.processes import describe_socket, identify

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"
SAMPLES = [p.read_text(encoding="utf-8") for p in sorted(DATA.rglob("*")) if p.is_file()]

# Arbitrary text, plus text built from the readers' own vocabulary so the fuzzer reaches deep.
_TOKENS = st.sampled_from(
    [
        "LISTEN",
        "UNCONN",
        "ESTAB",
        "tcp",
        "udp6",
        "0",
        "100",
        "0.0.0.0:465",
        "*:25",
        "[::]:22",
        "[::ffff:1.2.3.4]:7",
        "127.0.0.53%lo:53",
        ":::22",
        "users:((",
        '"smtpd"',
        ",pid=",
        ",fd=",
        "))",
        "IPv4",
        "IPv6",
        "TCP",
        "(LISTEN)",
        "1234/master",
        "-",
        "{",
        "}",
        ";",
        "=",
        "-o",
        "smtpd_tls_wrappermode=yes",
        "inet",
        "smtps",
        "server",
        "listen",
        "ssl",
        "include",
        "# configuration file /x:",
        "# 2.3.19.1 (abc):",
        "service",
        "inet_listener",
        "port",
        "\n",
        "\n  ",
        "\t",
        '"',
        "'",
        "\\",
        "#",
        "$",
        "${",
        "[",
        "]",
        "%",
        ":",
    ]
)
TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(_TOKENS, max_size=80).map(" ".join),
    st.lists(_TOKENS, max_size=80).map("".join),
    st.builds(
        lambda s, i, j, junk: s[: i % (len(s) + 1)] + junk + s[j % (len(s) + 1) :],
        st.sampled_from(SAMPLES),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.text(max_size=40),
    ),
)
# EVIDENCE_FUZZ_EXAMPLES=5000 for a longer run (passed locally: 6 x 5000 examples, ~35 s).
FUZZ = settings(
    max_examples=int(os.environ.get("EVIDENCE_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(TEXT, st.text(max_size=40), st.integers(-5, 70_000))
def test_listeners_never_raise(text: str, address: str, port: int) -> None:
    t = parse_listeners(text)
    t.lookup(address, port)
    t.lookup("192.0.2.1", port, "udp")
    for x in t.listeners:
        assert 0 <= x.port <= 65535
        assert x.protocol in ("tcp", "udp")
        describe_socket(x.processes)


@FUZZ
@given(st.text(max_size=60))
def test_identify_never_raises(name: str) -> None:
    assert identify(name).process == name


@FUZZ
@given(TEXT, TEXT, st.text(max_size=30), st.integers(-5, 70_000))
def test_postfix_never_raises(main: str, master: str, version: str, port: int) -> None:
    c = load_postfix(main, master, version)
    parse_mail_version(version)
    for s in c.services:
        c.effective("smtpd_tls_exclude_ciphers", s)
        c.tls_mode(s)
    c.service_for_port(port, "192.0.2.1")
    c.effective("smtpd_tls_protocols", main[:20])


@FUZZ
@given(TEXT)
def test_dovecot_never_raises(text: str) -> None:
    c = parse_doveconf(text)
    _ = c.major_minor
    c.effective("ssl_min_protocol", "imap")


@FUZZ
@given(TEXT, st.integers(-5, 70_000))
def test_nginx_never_raises(text: str, port: int) -> None:
    c = parse_nginx(text)
    c.servers_for_port(port, "::1")
    for s in c.servers:
        s.ssl_directives()


@FUZZ
@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=60))
def test_distros_never_raise(a: str, b: str, c: str) -> None:
    lookup(a)
    guess_from_service(a, b, c, [c])
    guess_from_os_match(a)
