"""Postfix evidence: real postconf -n / -M / mail_version output and raw main.cf / master.cf."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.evidence.postfix import (
    default_value,
    load_postfix,
    parse_mail_version,
    parse_main_cf,
    parse_master_cf,
    protocol_exclusion_list,
    supports_chain_files,
    supports_protocol_ranges,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"
LAB = DATA / "lab"
U2004 = LAB / "ubuntu2004-like"


def read(p: Path) -> str:
    return p.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- main.cf readers


def test_postconf_n_already_applied_fix() -> None:
    m = parse_main_cf(read(LAB / "postconf-n.txt"))
    assert m.warnings == ()
    assert not m.full
    assert m.get("smtpd_tls_exclude_ciphers") == "aNULL"
    assert m.get("smtpd_tls_mandatory_protocols") == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
    assert m.get("alias_maps") == ""  # "name =" with an empty value


def test_raw_main_cf_matches_postconf_n() -> None:
    raw = parse_main_cf(read(LAB / "main.cf"))
    n = parse_main_cf(read(LAB / "postconf-n.txt"))
    # postconf -n adds config_directory when run with -c; everything else must agree
    assert {k: v for k, v in n.params.items() if k != "config_directory"} == raw.params
    # the continuation line was joined
    assert raw.get("smtpd_tls_mandatory_protocols") == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"


def test_ubuntu_like_main_cf_with_comments_and_continuations() -> None:
    raw = parse_main_cf(read(U2004 / "main.cf"))
    n = parse_main_cf(read(U2004 / "postconf-n.txt"))
    assert raw.warnings == ()
    assert raw.get("smtpd_relay_restrictions") == (
        "permit_mynetworks permit_sasl_authenticated defer_unauth_destination"
    )
    assert {k: v for k, v in n.params.items() if k != "config_directory"} == raw.params
    assert raw.lines["smtpd_tls_security_level"] == 20


def test_full_postconf_is_recognised() -> None:
    m = parse_main_cf(read(LAB / "postconf-full.txt"))
    assert m.full
    assert m.get("mail_version") == "3.7.11"
    assert len(m.params) > 800


def test_duplicate_setting_later_wins() -> None:
    m = parse_main_cf("a = 1\nb = 2\na = 3\n")
    assert m.get("a") == "3"
    assert any("set again" in w for w in m.warnings)


def test_postconf_P_lines_are_service_overrides() -> None:
    m = parse_main_cf(read(U2004 / "postconf-P-fixed.txt"))
    assert m.service_params[("smtps", "inet")]["smtpd_tls_exclude_ciphers"] == "aNULL"
    assert m.params == {}


# --------------------------------------------------------------------------- master.cf readers


def test_postconf_M_services_and_overrides() -> None:
    ms = parse_master_cf(read(LAB / "postconf-M.txt"))
    assert ms.warnings == ()
    by_key = {s.key: s for s in ms.services}
    s465 = by_key["127.0.0.1:4465/inet"]
    assert (s465.host, s465.port, s465.command) == ("127.0.0.1", 4465, "smtpd")
    assert s465.override("smtpd_tls_wrappermode") == "yes"
    v6 = by_key["[::1]:5587/inet"]
    assert (v6.host, v6.port) == ("::1", 5587)
    assert v6.override("smtpd_tls_exclude_ciphers") == "aNULL,eNULL"
    assert by_key["postlog/unix-dgram"].command == "postlogd"
    assert by_key["relay/unix"].overrides == (("syslog_name", "postfix/$service_name"),)


@pytest.mark.parametrize("name", ["postconf-Mf.txt", "master.cf"])
def test_folded_and_raw_master_cf_read_the_same(name: str) -> None:
    a = parse_master_cf(read(LAB / "postconf-M.txt")).services
    b = parse_master_cf(read(LAB / name)).services
    common = [(s.key, s.overrides, s.port, s.host) for s in b]
    assert common == [(s.key, s.overrides, s.port, s.host) for s in a][: len(common)]


def test_debian_master_cf_template() -> None:
    ms = parse_master_cf(read(LAB / "debian12-master.cf.proto"))
    assert ms.warnings == ()
    smtp = [s for s in ms.services if s.type == "inet"]
    assert [(s.name, s.port) for s in smtp] == [("smtp", 25)]  # the rest is commented out
    maildrop = next(s for s in ms.services if s.name == "maildrop")
    assert maildrop.args[-1] == "${recipient}"  # continuation line joined


def test_service_names_map_to_ports() -> None:
    ms = parse_master_cf(
        "smtp inet n - y - - smtpd\n"
        "submission inet n - y - - smtpd\n"
        "smtps inet n - y - - smtpd\n"
        "submissions inet n - y - - smtpd\n"
        "465 inet n - y - - smtpd\n"
        "127.0.0.1:10025 inet n - n - - smtpd\n"
        "[::1]:587 inet n - n - - smtpd\n"
        "weird inet n - n - - smtpd\n"
    )
    assert [s.port for s in ms.services] == [25, 587, 465, 465, 465, 10025, 587, None]
    assert any("weird" in w for w in ms.warnings)


def test_braced_override_form() -> None:
    ms = parse_master_cf(
        "submissions inet n - y - - smtpd\n"
        "  -o { smtpd_tls_exclude_ciphers = aNULL, eNULL }\n"
        "  -osmtpd_tls_wrappermode=yes\n"
        "  -o broken\n"
    )
    [s] = ms.services
    assert s.override("smtpd_tls_exclude_ciphers") == "aNULL, eNULL"
    assert s.override("smtpd_tls_wrappermode") == "yes"
    assert any("broken" in w for w in ms.warnings)


# --------------------------------------------------------------------------- version


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("mail_version = 3.7.11\n", "3.7.11"),
        ("3.4.13\n", "3.4.13"),
        (
            "Nov 27 lab postfix/master[1]: daemon started -- version 3.7.11, configuration x",
            "3.7.11",
        ),
        ("no version here", None),
    ],
)
def test_mail_version(text: str, version: str | None) -> None:
    assert parse_mail_version(text) == version


def test_mail_version_from_real_output() -> None:
    assert parse_mail_version(read(LAB / "postconf-mail_version.txt")) == "3.7.11"


def test_version_dependent_syntax() -> None:
    assert supports_protocol_ranges("3.4.13") is False
    assert supports_protocol_ranges("3.6.0") is True
    assert supports_protocol_ranges(None) is None
    assert supports_chain_files("3.3.0") is False
    assert supports_chain_files("3.4.13") is True
    assert protocol_exclusion_list("TLSv1.2", "3.4.13") == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
    assert protocol_exclusion_list("TLSv1.2", "3.7.11") == ">=TLSv1.2"
    assert protocol_exclusion_list("TLSv1.3", None).endswith("!TLSv1.2")
    with pytest.raises(ValueError):
        protocol_exclusion_list("TLSv9", "3.7")


def test_defaults_by_version() -> None:
    # Postfix 3.7.11 postconf -d, captured on Debian 12
    assert default_value("smtpd_tls_protocols", "3.7.11")[0] == ">=TLSv1"
    assert default_value("smtpd_tls_mandatory_protocols", "3.7.11")[0] == ">=TLSv1"
    assert default_value("smtpd_tls_protocols", "3.4.13")[0] == "!SSLv2, !SSLv3"
    assert default_value("smtpd_tls_ciphers", "3.4.13")[0] == "medium"
    assert default_value("smtpd_tls_chain_files", "3.3.0")[0] is None
    assert default_value("no_such_parameter")[0] is None


def test_defaults_agree_with_full_postconf_of_3_7() -> None:
    full = parse_main_cf(read(LAB / "postconf-full.txt"))
    for name in (
        "smtpd_tls_exclude_ciphers",
        "smtpd_tls_mandatory_exclude_ciphers",
        "smtpd_tls_protocols",
        "smtpd_tls_ciphers",
        "smtpd_tls_mandatory_ciphers",
        "smtpd_tls_wrappermode",
        "smtpd_tls_dh1024_param_file",
        "smtpd_tls_chain_files",
        "tls_high_cipherlist",
        "tls_medium_cipherlist",
    ):
        # none of these is set in the lab main.cf except the exclude (checked separately)
        if name == "smtpd_tls_exclude_ciphers":
            continue
        assert default_value(name, "3.7.11")[0] == full.get(name), name


# --------------------------------------------------------------------------- effective values


def test_effective_on_lab_ports() -> None:
    c = load_postfix(
        read(LAB / "postconf-n.txt"),
        read(LAB / "postconf-M.txt"),
        read(LAB / "postconf-mail_version.txt"),
    )
    assert c.version == "3.7.11"
    s25 = c.service_for_port(2525)
    assert s25 is not None
    assert c.effective("smtpd_tls_exclude_ciphers", s25) == ("aNULL", "main.cf")
    s587 = c.service_for_port(5587)
    value, source = c.effective("smtpd_tls_exclude_ciphers", s587)
    assert (value, source) == ("aNULL,eNULL", "master.cf -o on service [::1]:5587/inet")
    value, source = c.effective("smtpd_tls_mandatory_exclude_ciphers", s587)
    assert value == "" and source.startswith("default (Postfix 3.7.11)")


def test_tls_mode_wrapper_starttls_encrypt() -> None:
    c = load_postfix(read(LAB / "postconf-n.txt"), read(LAB / "postconf-M.txt"))
    m25 = c.tls_mode(c.service_for_port(2525))
    assert (m25.wrapper, m25.level, m25.mandatory) == (False, "may", False)
    assert m25.protocols_setting == "smtpd_tls_protocols"
    assert m25.exclude_settings == ("smtpd_tls_exclude_ciphers",)
    m465 = c.tls_mode(c.service_for_port(4465))
    assert (m465.wrapper, m465.mandatory) == (True, True)
    assert m465.protocols_setting == "smtpd_tls_mandatory_protocols"
    assert "smtpd_tls_mandatory_exclude_ciphers" in m465.exclude_settings
    m587 = c.tls_mode("[::1]:5587/inet")
    assert (m587.wrapper, m587.level, m587.mandatory) == (False, "encrypt", True)


def test_motivating_case_ubuntu_like_port_465() -> None:
    c = load_postfix(read(U2004 / "postconf-n.txt"), read(U2004 / "postconf-M.txt"), "3.4.13")
    svc = c.service_for_port(465)
    assert svc is not None and svc.key == "smtps/inet"
    mode = c.tls_mode(svc)
    # wrapper mode at level "may" is still mandatory TLS (lab notes)
    assert (mode.wrapper, mode.level, mode.mandatory) == (True, "may", True)
    assert c.effective("smtpd_tls_wrappermode", svc).source == "master.cf -o on service smtps/inet"
    assert c.effective("smtpd_tls_exclude_ciphers", svc)[0] == ""
    assert c.effective("smtpd_tls_mandatory_protocols", svc)[0] == "!SSLv2, !SSLv3"
    assert c.effective("smtpd_tls_dh1024_param_file", svc) == (
        "/etc/ssl/private/dhparams-2048.pem",
        "main.cf",
    )
    assert supports_protocol_ranges(c.version) is False
    s587 = c.service_for_port(587)
    assert s587 is not None and c.tls_mode(s587).level == "encrypt"
    assert c.tls_mode(c.service_for_port(25)).mandatory is False


def test_motivating_case_fix_applied_on_smtps_only() -> None:
    c = load_postfix(
        read(U2004 / "postconf-n.txt"), read(U2004 / "postconf-M-smtps-fixed.txt"), "3.4.13"
    )
    assert c.effective("smtpd_tls_exclude_ciphers", "smtps/inet") == (
        "aNULL",
        "master.cf -o on service smtps/inet",
    )
    # postconf -P output read as main text gives the same answer for the service
    p = load_postfix(read(U2004 / "postconf-P-fixed.txt"), read(U2004 / "postconf-M.txt"))
    assert p.effective("smtpd_tls_exclude_ciphers", "smtps")[0] == "aNULL"
    assert p.effective("smtpd_tls_exclude_ciphers", "submission")[0] == ""


def test_postscreen_port_uses_the_smtpd_pass_service() -> None:
    c = load_postfix(
        "smtpd_tls_security_level = may\n",
        "smtp inet n - y - 1 postscreen\n"
        "smtpd pass - - y - - smtpd\n"
        "  -o smtpd_tls_exclude_ciphers=aNULL\n"
        "tlsproxy unix - - y - 0 tlsproxy\n",
    )
    svc = c.service_for_port(25)
    assert svc is not None and svc.command == "postscreen"
    value, source = c.effective("smtpd_tls_exclude_ciphers", svc)
    assert value == "aNULL"
    assert "smtpd/pass" in source and "postscreen" in source


def test_service_for_port_prefers_the_bound_address() -> None:
    c = load_postfix(
        None,
        "127.0.0.1:25 inet n - n - - smtpd\n  -o smtpd_tls_security_level=none\n"
        "[::1]:25 inet n - n - - smtpd\n"
        "192.0.2.1:25 inet n - n - - smtpd\n",
    )
    s = c.service_for_port(25, "192.0.2.1")
    assert s is not None and s.host == "192.0.2.1"
    s6 = c.service_for_port(25, "::1")
    assert s6 is not None and s6.host == "::1"
    assert len(c.services_for_port(25)) == 3
    assert c.service_for_port(26) is None


def test_full_postconf_source_is_honest() -> None:
    c = load_postfix(read(LAB / "postconf-full.txt"))
    assert c.version == "3.7.11"
    value, source = c.effective("smtpd_tls_ciphers")
    assert value == "medium" and "does not say which" in source


def test_legacy_use_tls_and_unknown_version() -> None:
    c = load_postfix("smtpd_use_tls = yes\n", "smtp inet n - y - - smtpd\n")
    assert c.tls_mode("smtp").level == "may"
    c2 = load_postfix("smtpd_enforce_tls = yes\n", "smtp inet n - y - - smtpd\n")
    assert c2.tls_mode("smtp").mandatory
    assert "version unknown" in c2.effective("smtpd_tls_protocols", "smtp").source
    assert load_postfix().tls_mode(None).level == "none"


def test_client_only_levels_fall_back_to_encrypt() -> None:
    c = load_postfix("smtpd_tls_security_level = verify\n", "smtp inet n - y - - smtpd\n")
    mode = c.tls_mode("smtp")
    assert (mode.level, mode.mandatory) == ("encrypt", True)
    w = load_postfix(
        "smtpd_tls_security_level = none\n",
        "smtps inet n - y - - smtpd\n  -o smtpd_tls_wrappermode=yes\n",
    ).tls_mode("smtps")
    assert w.mandatory and "ignored" in w.explanation
