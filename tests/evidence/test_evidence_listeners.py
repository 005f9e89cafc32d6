"""Listener evidence readers on real ss/netstat/lsof output (see tests/data/evidence/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.evidence.listeners import ListenerTable, normalise_address, parse_listeners

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"


def read(rel: str) -> str:
    return (DATA / rel).read_text(encoding="utf-8")


def table(rel: str) -> ListenerTable:
    return parse_listeners(read(rel))


# --------------------------------------------------------------------------- the seed case


@pytest.mark.parametrize("rel", ["seed/seed-ss.txt", "seed/seed-ss-wide.txt"])
def test_seed_line_names_master_and_smtpd(rel: str) -> None:
    t = table(rel)
    assert t.format == "ss"
    assert t.warnings == ()
    [sock] = t.listeners
    assert (sock.protocol, sock.address, sock.port, sock.wildcard) == ("tcp", "0.0.0.0", 465, True)
    assert [(p.name, p.pid, p.fd) for p in sock.processes] == [
        ("smtpd", 586529, 6),
        ("master", 2078, 29),
    ]
    # 0.0.0.0 serves any IPv4 address of the host, and no IPv6 one
    assert t.lookup("203.0.113.7", 465) == [sock]
    assert t.lookup("203.0.113.7", 587) == []
    assert t.lookup("2001:db8::7", 465) == []
    assert t.lookup("203.0.113.7", 465, "udp") == []


# --------------------------------------------------------------------------- lab captures


@pytest.mark.parametrize(
    "rel", ["lab/ss-lnpt.txt", "lab/ss-tlnp.txt", "lab/ss-H-lnpt.txt", "lab/ss-lntup.txt"]
)
def test_ss_variants_read_the_same_sockets(rel: str) -> None:
    t = table(rel)
    assert t.format == "ss"
    # only the note about the one socket without a process (another namespace's port 2024)
    assert [w.split(":")[0] for w in t.warnings] == [
        f"1 of {len(t.listeners)} sockets name no process"
    ]
    by_port = {(x.address, x.port): x for x in t.listeners if x.protocol == "tcp"}
    smtps = by_port[("127.0.0.1", 4465)]
    assert smtps.process_names == ("smtpd", "master")
    master = next(p for p in smtps.processes if p.name == "master")
    assert (master.pid, master.fd) == (12262, 16)
    v6 = by_port[("::1", 5587)]
    assert (v6.family, v6.wildcard) == ("ipv6", False)
    assert v6.endpoint == "[::1]:5587"
    # nginx: master and two workers share the socket
    assert len(by_port[("127.0.0.1", 8443)].processes) == 3
    # the socket without users: (another namespace's) is kept, with no process
    assert by_port[("0.0.0.0", 2024)].processes == ()


def test_ss_lntup_reads_udp() -> None:
    t = table("lab/ss-lntup.txt")
    udp = [x for x in t.listeners if x.protocol == "udp"]
    assert {(x.address, x.port) for x in udp} == {("127.0.0.1", 5300), ("::1", 5353)}
    assert all(x.state == "UNCONN" for x in udp)
    assert t.lookup("::1", 5353, "udp")[0].process_names == ("python3",)
    assert t.lookup("::1", 5353, "tcp") == []


def test_ipv4_mapped_address_is_folded_to_ipv4() -> None:
    t = table("lab/ss-lnpt.txt")
    [mapped] = [x for x in t.listeners if x.port == 7070]
    assert (mapped.family, mapped.address, mapped.wildcard) == ("ipv4", "127.0.0.1", False)
    assert t.lookup("127.0.0.1", 7070) == [mapped]
    assert t.lookup("::ffff:127.0.0.1", 7070) == [mapped]
    assert t.lookup("[::ffff:127.0.0.1]", 7070) == [mapped]


def test_ipv6_lookup_is_exact() -> None:
    t = table("lab/ss-lnpt.txt")
    assert [x.port for x in t.lookup("::1", 1993)] == [1993]
    assert t.lookup("[::1]", 1993)[0].family == "ipv6"
    assert t.lookup("127.0.0.1", 5587) == []  # 5587 is bound to ::1 only
    assert t.lookup("::2", 1993) == []
    assert t.lookup("127.0.0.2", 1993) == []  # bound to 127.0.0.1, not a wildcard


def test_ss_without_root_keeps_sockets_and_says_so() -> None:
    t = table("lab/ss-lnpt-nonroot.txt")
    assert t.format == "ss"
    by_port = {x.port: x for x in t.listeners}
    assert by_port[4465].processes == ()  # Postfix's master runs as root: hidden
    assert by_port[8443].process_names == ("nginx",)  # workers run as nobody: shown
    assert any("sudo" in w for w in t.warnings)
    assert t.lookup("127.0.0.1", 4465) == [by_port[4465]]


def test_netstat_root_and_nonroot() -> None:
    t = table("lab/netstat-tlnp.txt")
    assert t.format == "netstat"
    assert len(t.warnings) == 1 and "name no process" in t.warnings[0]
    [smtps] = t.lookup("127.0.0.1", 4465)
    assert [(p.name, p.pid) for p in smtps.processes] == [("master", 12262)]
    [ng] = t.lookup("127.0.0.1", 8443)
    assert ng.processes[0].name == "nginx: master"  # netstat prints the process title
    [mapped] = [x for x in t.listeners if x.port == 7070]
    assert (mapped.family, mapped.address) == ("ipv4", "127.0.0.1")
    n = table("lab/netstat-tlnp-nonroot.txt")
    assert n.lookup("127.0.0.1", 4465)[0].processes == ()
    assert any("sudo" in w for w in n.warnings)


def test_lsof_merges_processes_per_socket() -> None:
    t = table("lab/lsof.txt")
    assert t.format == "lsof"
    [smtps] = t.lookup("127.0.0.1", 4465)
    assert [(p.name, p.pid, p.fd, p.user) for p in smtps.processes] == [
        ("master", 12262, 16, "root"),
        ("smtpd", 13777, 6, "postfix"),
    ]
    assert len(t.lookup("127.0.0.1", 8443)[0].processes) == 3
    [v6] = t.lookup("::1", 5587)
    assert v6.family == "ipv6"
    # lsof labels the v4-mapped socket IPv6 but prints the IPv4 address
    assert t.lookup("127.0.0.1", 7070)[0].family == "ipv4"


# --------------------------------------------------------------------------- documentation shapes


def test_docker_proxy_and_dual_stack_star() -> None:
    t = table("docs/ss-tnlp-docker.txt")
    assert t.warnings == ()
    [v4, v6] = t.on_port(8443)
    assert v4.process_names == ("docker-proxy",)
    assert (v6.address, v6.family, v6.dual_stack) == ("::", "ipv6", False)
    # [::] from modern ss is IPv6-only: an IPv4 connection reaches the 0.0.0.0 socket only
    assert t.lookup("198.51.100.4", 8443) == [v4]
    assert t.lookup("2001:db8::4", 8443) == [v6]
    # "*" from modern ss is a dual-stack IPv6 socket: it serves IPv4 and IPv6
    [apache] = t.on_port(80)
    assert (apache.address, apache.dual_stack) == ("::", True)
    assert t.lookup("198.51.100.4", 80) == [apache]
    assert t.lookup("2001:db8::4", 80) == [apache]
    assert len(apache.processes) == 3


def test_interface_suffix() -> None:
    t = table("docs/ss-tnlp-docker.txt")
    [dns] = t.on_port(53)
    assert (dns.address, dns.interface, dns.endpoint) == ("127.0.0.53", "lo", "127.0.0.53%lo:53")
    assert t.lookup("127.0.0.53", 53) == [dns]
    assert t.lookup("127.0.0.1", 53) == []


def test_ss_extended_columns_and_interface() -> None:
    t = table("docs/ss-tulpne-resolved.txt")
    assert t.warnings == ()
    assert {(x.protocol, x.address, x.interface) for x in t.listeners} == {
        ("udp", "127.0.0.54", None),
        ("udp", "127.0.0.53", "lo"),
        ("tcp", "127.0.0.53", "lo"),
    }
    assert t.lookup("127.0.0.53", 53)[0].processes[0].pid == 980


def test_netstat_docker_and_program_titles() -> None:
    t = table("docs/netstat-tulpn-docker.txt")
    assert t.warnings == ()
    assert t.lookup("192.0.2.10", 443)[0].process_names == ("docker-proxy",)
    assert t.lookup("192.0.2.10", 22)[0].process_names == ("sshd: /usr/sbin",)
    # netstat cannot say whether :::8008 is dual-stack; no IPv4 socket on 8008, so it may be
    assert t.lookup("192.0.2.10", 8008)[0].address == "::"
    # :::22 beside 0.0.0.0:22 must be IPv6-only (a dual-stack bind would have failed)
    assert [x.address for x in t.lookup("192.0.2.10", 22)] == ["0.0.0.0"]
    assert t.lookup("::1", 25)[0].process_names == ("exim4",)
    assert t.lookup("192.0.2.10", 25) == []  # exim listens on 127.0.0.1 and ::1 only
    assert t.lookup("2001:db8::1", 3478, "udp")[0].process_names == ("docker-proxy",)


def test_netstat_nonroot_notice_and_dash() -> None:
    t = table("docs/netstat-lnp-nonroot.txt")
    assert t.format == "netstat"
    assert len(t.listeners) == 3
    assert all(x.processes == () for x in t.listeners)
    assert any("root" in w for w in t.warnings)
    assert not any("not ss, netstat or lsof" in w for w in t.warnings)


def test_netstat_postfix_master() -> None:
    t = table("docs/netstat-postfix-master.txt")
    [v4] = t.lookup("192.0.2.25", 25)
    assert v4.processes[0].name == "master"
    assert [x.family for x in t.lookup("2001:db8::25", 25)] == ["ipv6"]


def test_lsof_wildcards_and_truncated_command() -> None:
    t = table("docs/lsof-systemd-resolved.txt")
    assert t.format == "lsof"
    tcp = t.on_port(5355)
    assert {(x.family, x.address) for x in tcp} == {("ipv4", "0.0.0.0"), ("ipv6", "::")}
    assert all(x.processes[0].name == "systemd-r" for x in tcp)
    # IPv4 clients: the IPv4 socket only (an IPv4 socket on the port rules out dual-stack)
    assert [x.family for x in t.lookup("192.0.2.1", 5355)] == ["ipv4"]
    assert len(t.on_port(5355, "udp")) == 2


def test_centos7_ss_star_is_ipv4_any() -> None:
    t = table("docs/ss-centos7.txt")
    assert t.warnings == ()
    [mysql] = t.on_port(3306)
    assert (mysql.family, mysql.address) == ("ipv4", "0.0.0.0")
    assert t.lookup("192.0.2.1", 3306) == [mysql]
    assert t.lookup("2001:db8::1", 3306) == []
    [ssh] = t.on_port(22)
    assert (ssh.family, ssh.address, ssh.dual_stack) == ("ipv6", "::", None)
    assert t.lookup("::1", 25)[0].process_names == ("master",)


# --------------------------------------------------------------------------- edge cases


def test_old_users_format_without_pid_keys() -> None:
    t = parse_listeners('LISTEN 0 128 :::22 :::* users:(("sshd",1234,3))')
    [s] = t.listeners
    assert (s.address, s.processes[0].pid, s.processes[0].fd) == ("::", 1234, 3)


def test_process_column_broken_onto_next_line() -> None:
    t = parse_listeners(
        "LISTEN 0 100 0.0.0.0:465 0.0.0.0:*\n"
        '      users:(("smtpd",pid=586529,fd=6),("master",pid=2078,fd=29))\n'
    )
    [s] = t.listeners
    assert s.process_names == ("smtpd", "master")


def test_process_names_with_spaces_and_parens() -> None:
    t = parse_listeners('LISTEN 0 511 *:443 *:* users:(("php-fpm: pool (www)",pid=9,fd=7))')
    assert t.listeners[0].process_names == ("php-fpm: pool (www)",)


def test_non_listening_sockets_are_skipped_and_counted() -> None:
    t = parse_listeners(
        'ESTAB 0 0 192.0.2.1:465 198.51.100.9:51000 users:(("smtpd",pid=1,fd=6))\n'
        "LISTEN 0 100 0.0.0.0:465 0.0.0.0:*\n"
    )
    assert len(t.listeners) == 1
    assert any("ESTAB" in w for w in t.warnings)


def test_names_instead_of_numbers_warn() -> None:
    t = parse_listeners("LISTEN 0 100 0.0.0.0:smtps 0.0.0.0:*")
    assert t.listeners == ()
    assert any("-n" in w for w in t.warnings)


def test_mixed_paste_and_garbage() -> None:
    text = read("seed/seed-ss.txt") + "hello world\n" + read("docs/netstat-postfix-master.txt")
    t = parse_listeners(text)
    assert t.format == "mixed"
    assert {x.port for x in t.listeners} == {465, 25}
    assert any("hello world" in w for w in t.warnings)


def test_empty_input() -> None:
    t = parse_listeners("")
    assert (t.listeners, t.format, t.warnings) == ((), "unknown", ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("host.example", None),
        ("[::1", None),
        ("", None),
    ],
)
def test_normalise_address(text: str, expected: str | None) -> None:
    got = normalise_address(text)
    assert (str(got[0]) if got else None) == expected


def test_lookup_with_garbage_address_matches_nothing() -> None:
    t = table("seed/seed-ss.txt")
    assert t.lookup("not-an-ip", 465) == []
    assert t.lookup("", 465) == []


def test_netstat_connected_sockets_are_not_listeners() -> None:
    t = parse_listeners(
        "tcp        0      0 192.0.2.1:465           198.51.100.9:51000      ESTABLISHED 1/smtpd\n"
        "udp        0      0 192.0.2.1:40000         198.51.100.9:53         ESTABLISHED 2/x\n"
        "udp        0      0 0.0.0.0:68              0.0.0.0:*                     3/dhclient\n"
    )
    assert [(x.protocol, x.port) for x in t.listeners] == [("udp", 68)]
    assert any("ESTABLISHED" in w for w in t.warnings)
