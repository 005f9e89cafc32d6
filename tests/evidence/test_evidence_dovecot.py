"""doveconf -n reader on real Dovecot 2.3.19.1 output and 2.2 / 2.4 shaped examples."""

from __future__ import annotations

from pathlib import Path

from advisor.evidence.dovecot import parse_doveconf

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"


def read(rel: str) -> str:
    return (DATA / rel).read_text(encoding="utf-8")


def test_lab_doveconf_version_settings_and_sections() -> None:
    c = parse_doveconf(read("lab/doveconf-n.txt"))
    assert c.warnings == ()
    assert (c.version, c.build, c.major_minor) == ("2.3.19.1", "9b53102964", (2, 3))
    assert c.config_path == "/tmp/evlab/dv/dovecot.conf"
    assert c.get("ssl_cipher_list") == "ALL:!aNULL:!eNULL"
    assert c.get("ssl_cert") == "</tmp/evlab/cert.pem"
    assert c.get("ssl_key") == "# hidden, use -P to show it"
    # settings inside local/remote/protocol blocks keep their section path
    where = {s.where: s.value for s in c.find("ssl_min_protocol")}
    assert where == {"remote 10.0.0.0/8": "TLSv1.2", "local 127.0.0.1 > protocol imap": "TLSv1.3"}
    assert c.get("mail_max_userip_connections", ("protocol imap",)) == "20"
    assert c.get("ssl_cert", ("local_name mail.example.test",)) == "</tmp/evlab/cert.pem"
    # the global value is not set: doveconf -n omits defaults
    assert c.effective("ssl_min_protocol", "imap") is None


def test_lab_listeners() -> None:
    c = parse_doveconf(read("lab/doveconf-n.txt"))
    got = {(x.service, x.name): (x.port, x.addresses, x.ssl, x.implicit) for x in c.listeners}
    assert got == {
        ("imap-login", "imap"): (1143, ("127.0.0.1",), False, False),
        ("imap-login", "imaps"): (1993, ("127.0.0.1", "::1"), True, False),
        # pop3 has port = 0: disabled, so not listed
        ("pop3-login", "pop3s"): (1995, ("127.0.0.1",), True, False),
    }
    [imaps] = c.listeners_on(1993)
    assert imaps.lineno == 19


def test_debian_default_config_implies_default_listeners() -> None:
    c = parse_doveconf(read("lab/doveconf-n-debian12-default.txt"))
    assert c.warnings == ()
    assert c.version == "2.3.19.1"
    ports = {(x.name, x.port, x.ssl, x.implicit) for x in c.listeners}
    assert ports == {
        ("imap", 143, False, True),
        ("imaps", 993, True, True),
        ("pop3", 110, False, True),
        ("pop3s", 995, True, True),
    }
    assert all(x.addresses == ("*", "::") for x in c.listeners)
    assert c.get("ssl_dh") == "# hidden, use -P to show it"
    assert c.get("special_use", ("namespace inbox", 'mailbox "Sent Messages"')) == "\\Sent"


def test_raw_dovecot_conf_records_includes() -> None:
    c = parse_doveconf(read("lab/debian12-dovecot.conf"))
    assert "/usr/share/dovecot/protocols.d/*.protocol" in c.includes
    assert "conf.d/*.conf" in c.includes
    assert c.version is None
    assert any("version" in w for w in c.warnings)


def test_dovecot_22_settings() -> None:
    c = parse_doveconf(read("docs/doveconf-n-2.2.txt"))
    assert (c.version, c.major_minor) == ("2.2.36", (2, 2))
    assert c.get("ssl_protocols") == "!SSLv2 !SSLv3 !TLSv1"
    assert c.get("ssl_dh_parameters_length") == "2048"
    assert {x.port for x in c.listeners} == {143, 993, 110, 995}
    assert c.get("group", ("service auth", "unix_listener /var/spool/postfix/private/auth")) == (
        "postfix"
    )


def test_dovecot_24_settings_and_listeners() -> None:
    c = parse_doveconf(read("docs/doveconf-n-2.4.txt"))
    assert (c.version, c.build, c.major_minor) == ("2.4.1-4", "7d8c0e5759", (2, 4))
    assert c.get("ssl_server_cert_file", ()) == (
        "/etc/letsencrypt/live/mail.example.com/fullchain.pem"
    )
    got = {(x.name, x.port, x.implicit) for x in c.listeners}
    # imap (143) disabled, imaps default, submissions on 465 explicit, submission default
    assert got == {("submissions", 465, False), ("imaps", 993, True), ("submission", 587, True)}


def test_broken_input_is_read_as_far_as_possible() -> None:
    c = parse_doveconf("# 2.3.7.2 (3c910f64b): /etc/dovecot/dovecot.conf\nssl = yes\nservice x {\n")
    assert c.version == "2.3.7.2"
    assert c.get("ssl") == "yes"
    assert any("not closed" in w for w in c.warnings)
    c2 = parse_doveconf("}\nwhat is this\n= value\n")
    assert len(c2.warnings) >= 3
