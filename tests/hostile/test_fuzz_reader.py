"""Property tests: no input makes the scan reader or the whole pipeline crash or hang."""

from __future__ import annotations

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.api import explain
from advisor.kb import KnowledgeBase
from advisor.render import Format, render
from advisor.render.escape import code, fence, neutralise
from advisor.scan import ScanError, open_scan
from tests.conftest import CORPUS_FILES

SEEDS = [p.read_bytes() for p in CORPUS_FILES if p.stat().st_size < 70_000][:12] or [
    b'<?xml version="1.0"?><nmaprun scanner="nmap"></nmaprun>'
]
KB = KnowledgeBase.load()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos : pos + draw(st.integers(1, 200))]
        elif op == "insert":
            data[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b">",
                        b"&",
                        b"&#x1;",
                        b"]]>",
                        b"<table>",
                        b"</host>",
                        b'"',
                        b"\x00",
                        b"<!DOCTYPE x [<!ENTITY e 'x'>]>",
                        b"<elem key='title'>",
                        b"\xff\xfe",
                    ]
                )
            )
        else:
            end = min(len(data), pos + draw(st.integers(1, 500)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


def pipeline(data: bytes) -> None:
    try:
        report = explain(io.BytesIO(data), KB)
    except ScanError as exc:
        assert "\n" not in str(exc)
        return
    for fmt in Format:
        render(fmt, report, io.StringIO(), KB)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_scans_never_crash(data: bytes) -> None:
    pipeline(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(ScanError):
        list(open_scan(io.BytesIO(data)))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escapes_contain_no_control_characters(text: str) -> None:
    for out in (code(text), fence(text), neutralise(text)):
        assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in out)
        assert "\x1b" not in out
    assert "\n" not in code(text)
