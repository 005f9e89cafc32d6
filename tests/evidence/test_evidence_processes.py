"""Process name -> software and role."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.evidence.listeners import ProcessRef, parse_listeners
from advisor.evidence.processes import describe_socket, identify
from advisor.messages import Code

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"


@pytest.mark.parametrize(
    ("name", "software", "kind"),
    [
        ("master", "Postfix", "owner"),
        ("smtpd", "Postfix", "worker"),
        ("postscreen", "Postfix", "worker"),
        ("tlsproxy", "Postfix", "worker"),
        ("dovecot", "Dovecot", "owner"),
        ("imap-login", "Dovecot", "worker"),
        ("pop3-login", "Dovecot", "worker"),
        ("submission-login", "Dovecot", "worker"),
        ("nginx", "nginx", "server"),
        ("apache2", "Apache httpd", "server"),
        ("httpd", "Apache httpd", "server"),
        ("exim4", "Exim", "server"),
        ("exim", "Exim", "server"),
        ("sendmail", "Sendmail", "server"),
        ("haproxy", "HAProxy", "proxy"),
        ("stunnel", "stunnel", "proxy"),
        ("stunnel4", "stunnel", "proxy"),
        ("sshd", "OpenSSH", "server"),
        ("mariadbd", "MariaDB/MySQL", "server"),
        ("mysqld", "MariaDB/MySQL", "server"),
        ("php-fpm8.1", "PHP-FPM", "server"),
        ("php-fpm7.4", "PHP-FPM", "server"),
        ("docker-proxy", "Docker (published container port)", "proxy"),
        ("systemd", "systemd (socket activation)", "activator"),
    ],
)
def test_known_names(name: str, software: str, kind: str) -> None:
    info = identify(name)
    assert (info.software, info.kind, info.matched_by) == (
        software,
        kind,
        "pattern" if "*" in name or name.startswith("php-fpm") else "exact",
    )
    assert info.role


@pytest.mark.parametrize(
    ("name", "software", "how"),
    [
        ("nginx: master", "nginx", "title"),  # netstat prints process titles
        ("sshd: /usr/sbin", "OpenSSH", "title"),
        ("docker-pr", "Docker (published container port)", "truncated"),  # lsof, 9 chars
        ("submission-logi", "Dovecot", "truncated"),  # kernel comm, 15 chars
    ],
)
def test_titles_and_truncated_names(name: str, software: str, how: str) -> None:
    info = identify(name)
    assert (info.software, info.matched_by) == (software, how)


def test_unknown_names_come_back_as_they_are() -> None:
    info = identify("openssl")
    assert (info.process, info.software, info.kind) == ("openssl", None, "unknown")
    # a short unknown name is not "truncated" into a known one
    assert identify("ma").software is None
    assert identify("").software is None


def test_docker_proxy_says_where_to_look_next() -> None:
    info = identify("docker-proxy")
    assert "container" in info.role
    assert any(s.startswith("docker ps --format") for s in info.next_steps)
    assert "systemctl list-sockets" in identify("systemd").next_steps


def test_seed_socket_summary_names_both_pids() -> None:
    t = parse_listeners((DATA / "seed" / "seed-ss.txt").read_text())
    story = describe_socket(t.listeners[0].processes)
    assert story.software == ("Postfix",)
    assert story.owner == ProcessRef("master", 2078, 29)
    assert [w.name for w in story.workers] == ["smtpd"]
    assert "master (pid 2078) owns the listening socket" in story.summary
    assert "smtpd (pid 586529) is the per-connection SMTP server" in story.summary
    # process names are literal values (code spans in Markdown), the words around them not
    assert Code("master") in story.text and Code("smtpd") in story.text


def test_nginx_master_and_workers() -> None:
    t = parse_listeners((DATA / "lab" / "ss-lnpt.txt").read_text())
    [sock] = t.lookup("127.0.0.1", 8443)
    story = describe_socket(sock.processes)
    assert story.owner is not None and story.owner.pid == 13639  # the master: lowest pid
    assert len(story.workers) == 2
    assert "2 more nginx process(es)" in story.summary


def test_docker_proxy_socket() -> None:
    t = parse_listeners((DATA / "docs" / "ss-tnlp-docker.txt").read_text())
    story = describe_socket(t.lookup("192.0.2.1", 8443)[0].processes)
    assert story.software == ("Docker (published container port)",)
    assert "proxy in front of the real service" in story.summary


def test_no_processes_and_mixed_software() -> None:
    assert "root" in describe_socket(()).summary
    mixed = describe_socket((ProcessRef("haproxy", 10), ProcessRef("nginx", 20)))
    assert mixed.software == ("HAProxy", "nginx")
    assert "more than one program" in mixed.summary
    unknown = describe_socket((ProcessRef("weird", 5),))
    assert unknown.software == ()
    assert "does not know" in unknown.summary
