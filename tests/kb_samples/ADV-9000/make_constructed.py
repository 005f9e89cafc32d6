"""Build a constructed nmap 7.93 -oX file with one vulns-library result (format of nselib/vulns.lua,
Report:make_output / format_vuln_base; see /work/shared/brief/nse-facts.md 1b)."""
import json, sys
from xml.sax.saxutils import escape

def attr(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '&': out.append('&amp;')
        elif ch == '<': out.append('&lt;')
        elif ch == '>': out.append('&gt;')
        elif ch == '"': out.append('&quot;')
        elif ch == "'": out.append('&apos;')
        elif o < 0x20: out.append('&#x%x;' % o)
        else: out.append(ch)
    return ''.join(out).replace('--', '-&#45;')

def text(s):
    return attr(s).replace('&quot;', '"')  # nmap escapes quotes in elem text too; keep simple

def build(spec):
    sid = spec["script"]; port = spec.get("port", 445); proto = spec.get("proto", "tcp")
    service = spec.get("service", "microsoft-ds"); hostscript = spec.get("hostscript", False)
    args = spec.get("args", f"nmap -Pn -p {port} --script {sid} 192.0.2.10")
    entries = spec["entries"]  # list of dicts: title,state,ids,description,check_results,extra_info,exploit_results,refs,disclosure,key,scores
    text_lines = []
    groups = {}
    for e in entries:
        groups.setdefault("NOT VULNERABLE:" if e["state"] == "NOT VULNERABLE" else "VULNERABLE:", []).append(e)
    for hdr in ("VULNERABLE:", "NOT VULNERABLE:"):
        if hdr not in groups: continue
        text_lines.append("  " + hdr)
        for e in groups[hdr]:
            text_lines.append("  " + e["title"])
            text_lines.append("    State: " + e["state"])
            if e.get("ids"): text_lines.append("    IDs:  " + "  ".join(e["ids"]))
            if e["state"] != "NOT VULNERABLE":
                if e.get("risk"): text_lines.append("    Risk factor: " + e["risk"])
                for l in e.get("description", "").splitlines(): text_lines.append("      " + l)
                if e.get("disclosure"): text_lines.append("    Disclosure date: " + e["disclosure"])
                if e.get("check_results"):
                    text_lines.append("    Check results:")
                    for c in e["check_results"]: text_lines.append("      " + c)
                if e.get("exploit_results"):
                    text_lines.append("    Exploit results:")
                    for c in e["exploit_results"]: text_lines.append("      " + c)
                if e.get("extra_info"):
                    text_lines.append("    Extra information:")
                    for c in e["extra_info"]: text_lines.append("      " + c)
            if e.get("refs"):
                text_lines.append("    References:")
                for r in e["refs"]: text_lines.append("      " + r)
    output = "\n" + "\n".join(text_lines) + "\n"
    tables = []
    for e in entries:
        key = e.get("key") or "NMAP-1"
        t = [f'<table key="{key}">', f'<elem key="title">{text(e["title"])}</elem>', f'<elem key="state">{e["state"]}</elem>']
        if e.get("ids"):
            t.append('<table key="ids">'); t += [f'<elem>{text(i)}</elem>' for i in e["ids"]]; t.append('</table>')
        if e["state"] != "NOT VULNERABLE":
            if e.get("scores"):
                t.append('<table key="scores">'); t += [f'<elem key="{k}">{text(v)}</elem>' for k, v in e["scores"].items()]; t.append('</table>')
            if e.get("description"):
                t.append('<table key="description">'); t.append(f'<elem>{text(e["description"])}</elem>'); t.append('</table>')
            if e.get("disclosure"):
                y, m, d = e["disclosure"].split("-")
                t.append(f'<table key="dates">\n<table key="disclosure">\n<elem key="year">{y}</elem>\n<elem key="month">{m}</elem>\n<elem key="day">{d}</elem>\n</table>\n</table>')
                t.append(f'<elem key="disclosure">{e["disclosure"]}</elem>')
            for k in ("check_results", "exploit_results", "extra_info"):
                if e.get(k):
                    t.append(f'<table key="{k}">'); t += [f'<elem>{text(c)}</elem>' for c in e[k]]; t.append('</table>')
        if e.get("refs"):
            t.append('<table key="refs">'); t += [f'<elem>{text(r)}</elem>' for r in e["refs"]]; t.append('</table>')
        t.append('</table>')
        tables.append("\n".join(t))
    script = f'<script id="{sid}" output="{attr(output)}">' + "\n".join(tables) + "\n</script>"
    if spec.get("freeform") is not None:
        elems = spec.get("elems")
        if elems:
            inner = "\n".join((f'<elem key="{k}">{text(v)}</elem>' if k else f'<elem>{text(v)}</elem>') for k, v in elems)
            script = f'<script id="{sid}" output="{attr(spec["freeform"])}">' + inner + "\n</script>"
        else:
            script = f'<script id="{sid}" output="{attr(spec["freeform"])}"/>'
    port_el = f'<port protocol="{proto}" portid="{port}"><state state="open" reason="syn-ack" reason_ttl="128"/><service name="{service}" method="table" conf="3"/>'
    if hostscript:
        ports = f'<ports>{port_el}</port>\n</ports>\n'
        hs = f'<hostscript>{script}</hostscript>'
    else:
        ports = f'<ports>{port_el}{script}</port>\n</ports>\n'
        hs = ''
    pre = ''
    if spec.get("prescript"):
        pre = f'<prescript>{script}</prescript>\n'; ports = f'<ports>{port_el}</port>\n</ports>\n'; hs = ''
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.93 scan initiated Fri Nov 27 23:50:00 2026 as: {attr(args)} -->
<nmaprun scanner="nmap" args="{attr(args)}" start="1795823400" startstr="Fri Nov 27 23:50:00 2026" version="7.93" xmloutputversion="1.05">
<scaninfo type="syn" protocol="{proto}" numservices="1" services="{port}"/>
<verbose level="0"/>
<debugging level="0"/>
{pre}<hosthint><status state="up" reason="unknown-response" reason_ttl="0"/>
<address addr="192.0.2.10" addrtype="ipv4"/>
<hostnames>
</hostnames>
</hosthint>
<host starttime="1795823400" endtime="1795823410"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="192.0.2.10" addrtype="ipv4"/>
<hostnames>
</hostnames>
{ports}{hs}<times srtt="500" rttvar="3000" to="100000"/>
</host>
<runstats><finished time="1795823410" timestr="Fri Nov 27 23:50:10 2026" summary="Nmap done at Fri Nov 27 23:50:10 2026; 1 IP address (1 host up) scanned in 10.00 seconds" elapsed="10.00" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
'''

if __name__ == "__main__":
    spec = json.load(open(sys.argv[1]))
    open(sys.argv[2], "w").write(build(spec))
