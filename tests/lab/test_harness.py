"""Tests of the lab harness itself: real servers on 127.0.0.1, real openssl and nmap."""

from __future__ import annotations

from pathlib import Path

import pytest

from .common import LabError, listening_pids, make_lab_dir, pid_alive, port_is_listening
from .fixtures import DHParams, ScanFn
from .nmap import run_nmap, titles
from .servers import DovecotServer, NginxServer, PostfixServer
from .tls import anonymous_dh_accepted, handshake

ANON = "Anonymous Diffie-Hellman Key Exchange MitM Vulnerability"
WEAK_GROUP = "Diffie-Hellman Key Exchange Insufficient Group Strength"
BAD_GROUP = "Diffie-Hellman Key Exchange Incorrectly Generated Group Parameters"


def test_nmap_refuses_non_loopback_targets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        run_nmap(443, "ssl-dh-params", tmp_path / "x.xml", target="192.0.2.1")
    with pytest.raises(ValueError, match="could be a target"):
        run_nmap(443, "ssl-dh-params", tmp_path / "x.xml", extra_args=["192.0.2.1"])
    with pytest.raises(ValueError, match="refusing nmap option"):
        run_nmap(443, "ssl-dh-params", tmp_path / "x.xml", extra_args=["-iL", "hosts.txt"])


def test_lab_dir_is_world_traversable() -> None:
    path = make_lab_dir()
    try:
        assert path.stat().st_mode & 0o777 == 0o755
    finally:
        path.rmdir()


@pytest.mark.lab
def test_postfix_starts_serves_tls_and_stops(postfix_session: PostfixServer) -> None:
    """A second, private Postfix: 3 ports accept TLS; after stop, ports closed and pid gone."""
    pf = PostfixServer(postfix_session.root.parent / "postfix-lifecycle", postfix_session.cert)
    assert pf.main_cf.read_text().count("inet_interfaces = loopback-only") == 1
    assert sorted(pf.ports) == [25, 465, 587]
    pf.start()
    try:
        pid = pf.pid
        assert pid is not None and pid_alive(pid)
        for logical, lst in pf.listeners.items():
            assert lst.name == f"127.0.0.1:{lst.port}"
            hs = handshake(lst.port, starttls=lst.starttls)
            assert hs.ok, f"port {logical} ({lst.port}): no TLS\n{hs.output[-1500:]}"
        # Postfix's defaults offer anonymous suites on every port (lab-notes.md)
        assert anonymous_dh_accepted(pf.port(465))
    finally:
        pf.stop()
    assert not pid_alive(pid)
    for port in pf.actual_ports:
        assert not port_is_listening(port), port
    assert all(not pids for pids in listening_pids(pf.actual_ports).values())


@pytest.mark.lab
def test_postfix_main_cf_setting_fixes_every_port(postfix_server: PostfixServer) -> None:
    postfix_server.apply("postfix-main", {"smtpd_tls_exclude_ciphers": "aNULL"})
    assert "smtpd_tls_exclude_ciphers = aNULL" in postfix_server.postconf("-n")
    for lst in postfix_server.listeners.values():
        assert not anonymous_dh_accepted(lst.port, starttls=lst.starttls), lst


@pytest.mark.lab
def test_postfix_master_cf_setting_fixes_one_port(postfix_server: PostfixServer) -> None:
    postfix_server.apply("postfix-master", {"smtpd_tls_exclude_ciphers": "aNULL"}, service=465)
    service = postfix_server.service(465)
    assert f"{service}/inet/smtpd_tls_exclude_ciphers = aNULL" in postfix_server.postconf("-P")
    assert not anonymous_dh_accepted(postfix_server.port(465))
    assert anonymous_dh_accepted(postfix_server.port(25), starttls="smtp")


@pytest.mark.lab
def test_postfix_reset_restores_baseline(postfix_server: PostfixServer) -> None:
    # runs after the tests above have changed the configuration
    assert "exclude_ciphers" not in postfix_server.postconf("-n")
    assert "exclude_ciphers" not in postfix_server.postconf("-P")
    assert anonymous_dh_accepted(postfix_server.port(465))


@pytest.mark.lab
def test_postfix_nmap_finds_anonymous_dh_on_465(
    postfix_server: PostfixServer, lab_scan: ScanFn
) -> None:
    port = postfix_server.port(465)
    result = lab_scan(port, "ssl-dh-params", servicedb=postfix_server.servicedb())
    assert ANON in titles(result.xml, port)


@pytest.mark.lab
def test_dovecot_default_is_clean_and_vulnerable_config_is_found(
    dovecot_server: DovecotServer, lab_dh: DHParams, lab_scan: ScanFn
) -> None:
    imaps = dovecot_server.port(993)
    assert handshake(imaps).ok
    assert not anonymous_dh_accepted(imaps)
    dovecot_server.apply(
        "dovecot",
        {
            "ssl_cipher_list": "ALL:@SECLEVEL=0",
            "ssl_min_protocol": "TLSv1",
            "ssl_dh": f"<{lab_dh.dh1024}",
        },
    )
    assert anonymous_dh_accepted(imaps)
    assert anonymous_dh_accepted(dovecot_server.port(143), starttls="imap")
    result = lab_scan(imaps, "ssl-dh-params", servicedb=dovecot_server.servicedb())
    assert {ANON, WEAK_GROUP} <= titles(result.xml, imaps)


@pytest.mark.lab
def test_nginx_dh_groups(nginx_server: NginxServer, lab_dh: DHParams, lab_scan: ScanFn) -> None:
    port = nginx_server.port(443)
    dhe = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-SHA:@SECLEVEL=1"
    nginx_server.apply(
        "nginx-server",
        {"ssl_dhparam": str(lab_dh.dh1024), "ssl_ciphers": dhe, "ssl_protocols": "TLSv1.2"},
    )
    weak = lab_scan(port, "ssl-dh-params", "weak", servicedb=nginx_server.servicedb())
    assert WEAK_GROUP in titles(weak.xml, port)
    nginx_server.apply("nginx-server", {"ssl_dhparam": str(lab_dh.dh2048_dsa)})
    dsa = lab_scan(port, "ssl-dh-params", "dsa", servicedb=nginx_server.servicedb())
    found = titles(dsa.xml, port)
    assert BAD_GROUP in found and WEAK_GROUP not in found


@pytest.mark.lab
def test_servers_refuse_unknown_targets(postfix_server: PostfixServer) -> None:
    with pytest.raises(LabError):
        postfix_server.apply("nginx-server", {"ssl_ciphers": "HIGH"}, restart=False)
