"""Cut a real nmap XML file down to selected ports / host scripts (text-level, bytes of kept parts unchanged).
usage: cut.py IN OUT --ports 443,445 --hostscripts smb-vuln-ms17-010,... [--keep-pre] [--keep-post] [--port-scripts id,id]"""
import re, sys, argparse
ap = argparse.ArgumentParser()
ap.add_argument("inp"); ap.add_argument("out")
ap.add_argument("--ports", default="")
ap.add_argument("--hostscripts", default="")
ap.add_argument("--port-scripts", default="")
ap.add_argument("--keep-pre", action="store_true"); ap.add_argument("--keep-post", action="store_true")
a = ap.parse_args()
t = open(a.inp, encoding="utf-8").read()
ports = set(filter(None, a.ports.split(",")))
hs = set(filter(None, a.hostscripts.split(",")))
ps = set(filter(None, a.port_scripts.split(",")))
script_re = re.compile(r'<script id="([^"]+)"[^>]*?(?:/>|>.*?</script>)', re.S)
if not a.keep_pre:
    t = re.sub(r'<prescript>.*?</prescript>\n?', '', t, flags=re.S)
if not a.keep_post:
    t = re.sub(r'<postscript>.*?</postscript>', '', t, flags=re.S)
def port_sub(m):
    if m.group(1) not in ports:
        return ''
    body = m.group(0)
    if ps:
        body = script_re.sub(lambda s: s.group(0) if s.group(1) in ps else '', body)
    return body
t = re.sub(r'<port protocol="\w+" portid="(\d+)">.*?</port>\n?', port_sub, t, flags=re.S)
def hs_sub(m):
    inner = script_re.sub(lambda s: s.group(0) if s.group(1) in hs else '', m.group(1))
    return '<hostscript>' + inner + '</hostscript>' if script_re.search(inner) else ''
t = re.sub(r'<hostscript>(.*?)</hostscript>', hs_sub, t, flags=re.S)
open(a.out, "w", encoding="utf-8").write(t)
