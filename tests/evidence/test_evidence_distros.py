"""Distribution package data and the release guesser."""

from __future__ import annotations

import pytest

from advisor.evidence.distros import (
    all_releases,
    guess_from_host,
    guess_from_os_match,
    guess_from_service,
    lookup,
)
from advisor.evidence.postfix import supports_protocol_ranges

EXPECTED = {
    "ubuntu-18.04",
    "ubuntu-20.04",
    "ubuntu-22.04",
    "ubuntu-24.04",
    "debian-10",
    "debian-11",
    "debian-12",
    "debian-13",
    "rhel-8",
    "rhel-9",
}


def test_every_release_has_every_package_and_a_source() -> None:
    releases = all_releases()
    assert {r.os_id for r in releases} == EXPECTED
    for r in releases:
        for pkg in ("postfix", "dovecot", "nginx", "apache", "openssl"):
            assert r.version_of(pkg), (r.os_id, pkg)
            assert r.verified.get(pkg), (r.os_id, pkg)
        assert r.sources, r.os_id


def test_motivating_case_release() -> None:
    r = lookup("ubuntu-20.04")
    assert r is not None
    assert r.postfix == "3.4.13"
    assert supports_protocol_ranges(r.postfix) is False


def test_debian_12_matches_this_machine() -> None:
    r = lookup("debian-12")
    assert r is not None
    # measured here: postconf mail_version, dovecot --version, nginx -v (lab notes too)
    assert (r.postfix, r.dovecot, r.nginx) == ("3.7.11", "2.3.19.1", "1.22.1")
    assert supports_protocol_ranges(r.postfix) is True


@pytest.mark.parametrize(
    ("query", "os_id"),
    [
        ("ubuntu-20.04", "ubuntu-20.04"),
        ("Ubuntu 20.04", "ubuntu-20.04"),
        ("ubuntu20.04", "ubuntu-20.04"),
        ("focal", "ubuntu-20.04"),
        ("debian-12", "debian-12"),
        ("debian12", "debian-12"),
        ("bookworm", "debian-12"),
        ("rhel-9", "rhel-9"),
        ("rhel9.4", "rhel-9"),
        ("rocky-8", "rhel-8"),
        ("almalinux-9", "rhel-9"),
        ("ubuntu-21.04", None),
        ("windows-11", None),
        ("", None),
        ("-", None),
    ],
)
def test_lookup_aliases(query: str, os_id: str | None) -> None:
    r = lookup(query)
    assert (r.os_id if r else None) == os_id


@pytest.mark.parametrize(
    ("product", "version", "extrainfo", "os_id", "confidence"),
    [
        (
            "OpenSSH",
            "8.2p1 Ubuntu 4ubuntu0.5",
            "Ubuntu Linux; protocol 2.0",
            "ubuntu-20.04",
            "medium",
        ),
        (
            "OpenSSH",
            "7.6p1 Ubuntu 4ubuntu0.7",
            "Ubuntu Linux; protocol 2.0",
            "ubuntu-18.04",
            "medium",
        ),
        ("OpenSSH", "8.4p1 Debian 5+deb11u1", "protocol 2.0", "debian-11", "high"),
        ("OpenSSH", "9.2p1 Debian 2+deb12u3", "protocol 2.0", "debian-12", "high"),
        ("OpenSSH", "7.9p1 Debian 10+deb10u2", "protocol 2.0", "debian-10", "high"),
        ("Apache httpd", "2.4.41", "(Ubuntu)", "ubuntu-20.04", "medium"),
        ("Apache httpd", "2.4.52", "(Ubuntu)", "ubuntu-22.04", "medium"),
    ],
)
def test_guess_from_service(
    product: str, version: str, extrainfo: str, os_id: str, confidence: str
) -> None:
    g = guess_from_service(product, version, extrainfo)
    assert g is not None
    assert (g.os_id, g.confidence) == (os_id, confidence)
    assert g.reason


def test_ambiguous_and_unknown_services() -> None:
    g = guess_from_service("nginx", "1.18.0", "Ubuntu")
    assert g is not None and g.os_id is None
    assert set(g.candidates) == {"ubuntu-20.04", "ubuntu-22.04"}
    fam = guess_from_service("Postfix smtpd", "", "")
    assert fam is None
    deb = guess_from_service("Dovecot imapd", "", "Debian")
    assert deb is not None and deb.family == "debian" and deb.os_id is None
    odd = guess_from_service("Apache httpd", "2.4.99", "(Ubuntu)")
    assert odd is not None and odd.os_id is None and "backport" in odd.reason
    assert guess_from_service("", "", "") is None


def test_guess_from_os_match() -> None:
    assert guess_from_os_match("Linux 4.15 - 5.8") is None
    g = guess_from_os_match("Ubuntu Linux 20.04")
    assert g is not None and g.os_id == "ubuntu-20.04"
    g2 = guess_from_os_match("Debian Linux")
    assert g2 is not None and g2.os_id is None and g2.family == "debian"
    g3 = guess_from_os_match("Red Hat Enterprise Linux 9")
    assert g3 is not None and g3.os_id == "rhel-9"


def test_guess_from_host_combines_clues() -> None:
    g = guess_from_host(
        [
            ("nginx", "1.18.0", "Ubuntu", ()),
            ("OpenSSH", "8.2p1 Ubuntu 4ubuntu0.5", "Ubuntu Linux; protocol 2.0", ()),
        ],
        ["Linux 4.15 - 5.8"],
    )
    assert g is not None and g.os_id == "ubuntu-20.04"
    # two ambiguous clues that intersect in one release
    g2 = guess_from_host([("nginx", "1.18.0", "Ubuntu", ()), ("Postfix smtpd", "", "Ubuntu", ())])
    assert g2 is not None and g2.os_id is None
    # clues that disagree
    g3 = guess_from_host(
        [
            ("OpenSSH", "8.4p1 Debian 5+deb11u1", "", ()),
            ("OpenSSH", "9.2p1 Debian 2+deb12u3", "", ()),
        ]
    )
    assert g3 is not None and g3.os_id is None and "disagree" in g3.reason
    assert guess_from_host([]) is None


def test_versions_carried_by_updates_still_point_at_the_release() -> None:
    r = lookup("debian-12")
    assert r is not None
    assert r.versions_of("apache2")[0] == r.apache
    assert "2.4.62" in r.versions_of("apache")
    assert r.versions_of("no-such-package") == ()
    g = guess_from_service("Apache httpd", "2.4.59", "(Debian)")
    assert g is not None and g.os_id == "debian-10"
    # the same upstream version in several releases: ambiguous, not a wrong pick
    g2 = guess_from_service("Apache httpd", "2.4.66", "(Debian)")
    assert g2 is not None and g2.os_id is None and len(g2.candidates) > 1
