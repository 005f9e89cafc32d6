"""nginx -T reader on real nginx 1.22.1 dumps."""

from __future__ import annotations

from pathlib import Path

from advisor.evidence.nginx import parse_nginx

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"


def read(rel: str) -> str:
    return (DATA / rel).read_text(encoding="utf-8")


def test_lab_dump_servers_listens_and_ssl_files() -> None:
    c = parse_nginx(read("lab/nginx-T.txt"))
    assert c.warnings == ()
    assert c.version is None  # nginx -T alone does not print it
    assert c.files == (
        "/tmp/evlab/ng/nginx.conf",
        "/tmp/evlab/ng/conf.d/site.conf",
        "/tmp/evlab/ng/snippets/ssl-params.conf",
    )
    plain, tls, default = c.servers
    assert not plain.ssl and tls.ssl and default.ssl
    assert [(x.address, x.port, x.ssl, x.http2) for x in tls.listens] == [
        ("127.0.0.1", 8443, True, True),
        ("::1", 8443, True, False),
    ]
    ssl = tls.ssl_directives()
    # from an included snippet: the file and line where it is written
    [dh] = ssl["ssl_dhparam"]
    assert (dh.file, dh.line, dh.args) == (
        "/tmp/evlab/ng/snippets/ssl-params.conf",
        4,
        ("/tmp/evlab/ng/dhparam.pem",),
    )
    # quoted value read as one argument
    assert ssl["ssl_ciphers"][0].args[0].startswith("ECDHE-ECDSA-AES128-GCM-SHA256:")
    # inherited from http {} in nginx.conf
    [proto] = ssl["ssl_protocols"]
    assert (proto.file, proto.line, proto.context) == ("/tmp/evlab/ng/nginx.conf", 15, "http")
    # the server's own ssl_protocols overrides the inherited one
    [own] = default.effective("ssl_protocols")
    assert (own.args, own.file, own.line) == (("TLSv1.3",), "/tmp/evlab/ng/conf.d/site.conf", 28)
    assert default.listens[0].default_server
    # a quoted string with ; and { inside a location does not break the parse
    assert default.server_names == ("_",)


def test_dump_with_stderr_and_version_line() -> None:
    text = read("lab/nginx-T-2and1.txt") + read("lab/nginx-v.txt")
    c = parse_nginx(text)
    assert c.version == "1.22.1"
    assert c.warnings == ()
    assert len(c.servers) == 3


def test_servers_for_port_and_address() -> None:
    c = parse_nginx(read("lab/nginx-T.txt"))
    assert [s.server_names for s in c.servers_for_port(8443)] == [("www.example.test",)]
    assert [s.line for s in c.servers_for_port(8443, "::1")] == [10]
    assert c.servers_for_port(8443, "192.0.2.1") == []
    assert c.servers_for_port(9999) == []


def test_debian_layout_relative_includes_and_wildcard_listens() -> None:
    c = parse_nginx(read("lab/nginx-T-debian-layout.txt"))
    assert c.warnings == ()
    default, site, redirect = c.servers
    assert default.file == "/tmp/evlab/ngdeb/sites-enabled/default"
    # "listen 443 ssl" = every IPv4 address; "[::]:443" = IPv6 only (nginx's default)
    assert [(x.address, x.port, x.ssl, x.ipv6only) for x in default.listens] == [
        (None, 80, False, None),
        ("::", 80, False, True),
        (None, 443, True, None),
        ("::", 443, True, True),
    ]
    # "include snippets/snakeoil.conf;" is relative to the main file's directory
    [cert] = default.effective("ssl_certificate")
    assert cert.file == "/tmp/evlab/ngdeb/snippets/snakeoil.conf"
    # inherited ssl_protocols (with TLSv1, TLSv1.1) from nginx.conf, comment stripped
    assert default.effective("ssl_protocols")[0].args == ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    assert site.effective("ssl_dhparam")[0].file == "/tmp/evlab/ngdeb/sites-enabled/example.com"
    assert site.listens[0].ipv6only is True
    assert [s.file for s in c.servers_for_port(443, "192.0.2.1")] == [default.file, site.file]
    assert not redirect.ssl


def test_stream_block_and_implicit_listen() -> None:
    c = parse_nginx(
        "# configuration file /etc/nginx/nginx.conf:\n"
        "stream {\n  ssl_protocols TLSv1.2;\n"
        "  server { listen 993 ssl; proxy_pass 127.0.0.1:143; ssl_ciphers HIGH:!aNULL; }\n}\n"
        "http { server { server_name a; } }\n"
    )
    stream, http = c.servers
    assert (stream.context, stream.listens[0].port, stream.ssl) == ("stream", 993, True)
    assert stream.effective("ssl_protocols")[0].context == "stream"
    assert (http.listens[0].port, http.listens[0].implicit) == (80, True)


def test_not_a_dump_and_broken_dumps() -> None:
    assert parse_nginx("server { listen 443; }").warnings
    c = parse_nginx("# configuration file /x.conf:\nhttp { server { listen 443 ssl;\n")
    assert any("not closed" in w for w in c.warnings)
    c2 = parse_nginx("# configuration file /x.conf:\nhttp { include /nope.conf; }\n}\n")
    assert any("not in the dump" in w for w in c2.warnings)
    assert any("without an open block" in w for w in c2.warnings)


def test_include_loop_is_bounded() -> None:
    c = parse_nginx("# configuration file /a.conf:\ninclude /a.conf;\n")
    assert any("too deep" in w for w in c.warnings)
