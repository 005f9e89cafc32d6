"""Build nmap-7.93-shaped XML for constructed samples, following nselib/vulns.lua
(format_vuln_base, Report:make_output) and scripts/ssl-enum-ciphers.nse output shapes."""
from xml.sax.saxutils import escape

def attr(s):
    # nmap xml.cc escaping: < > & " ' , "--" and control chars
    out = []
    for ch in s:
        if ch == '&': out.append('&amp;')
        elif ch == '<': out.append('&lt;')
        elif ch == '>': out.append('&gt;')
        elif ch == '"': out.append('&quot;')
        elif ch == "'": out.append('&apos;')
        elif ord(ch) < 0x20: out.append('&#x%x;' % ord(ch))
        else: out.append(ch)
    return ''.join(out).replace('--', '-&#45;')

text = attr  # same escaping for element text

def fmt_output(lines):
    """stdnse.format_output(true, list): leading newline, every line indented by 2."""
    out = []
    for item in lines:
        for l in item.split('\n'):
            out.append('  ' + l)
    return '\n' + '\n'.join(out)

def vuln_text(v):
    out = [v['title'], '  State: %s' % v['state']]
    if v.get('ids'):
        out.append('  IDs:  ' + '  '.join(v['ids']))
    if v['state'] != 'NOT VULNERABLE':
        if v.get('risk'):
            rs = ''.join('  %s: %s' % (k, s) for k, s in (v.get('scores') or {}).items())
            out.append('  Risk factor: %s%s' % (v['risk'], rs))
        if v.get('description'):
            for l in v['description'].split('\n'):
                out.append('    ' + l)
        if v.get('disclosure'):
            out.append('  Disclosure date: %s' % v['disclosure'])
        if v.get('check_results'):
            out.append('  Check results:')
            for item in v['check_results']:
                for l in item.split('\n'):
                    out.append('    ' + l)
        if v.get('exploit_results'):
            out.append('  Exploit results:')
            for l in v['exploit_results']:
                out.append('    ' + l)
        if v.get('extra_info'):
            out.append('  Extra information:')
            for l in v['extra_info']:
                out.append('    ' + l)
    if v.get('refs'):
        out.append('  References:')
        for r in v['refs']:
            out.append('    ' + r)
    return '\n'.join(out)

def vuln_tables(v):
    x = ['<table key="%s">' % attr(v['key'])]
    x.append('<elem key="title">%s</elem>' % text(v['title']))
    x.append('<elem key="state">%s</elem>' % text(v['state']))
    if v.get('ids'):
        x.append('<table key="ids">' + ''.join('\n<elem>%s</elem>' % text(i) for i in v['ids']) + '\n</table>')
    notv = v['state'] == 'NOT VULNERABLE'
    if not notv:
        if v.get('risk') and v.get('scores'):
            x.append('<table key="scores">' + ''.join('\n<elem key="%s">%s</elem>' % (k, text(s)) for k, s in v['scores'].items()) + '\n</table>')
        if v.get('description'):
            x.append('<table key="description">\n<elem>%s</elem>\n</table>' % text(v['description']))
        if v.get('disclosure'):
            y, m, d = v['disclosure'].split('-')
            x.append('<table key="dates">\n<table key="disclosure">\n<elem key="year">%s</elem>\n<elem key="month">%s</elem>\n<elem key="day">%s</elem>\n</table>\n</table>' % (y, m, d))
            x.append('<elem key="disclosure">%s</elem>' % v['disclosure'])
        for k in ('check_results', 'exploit_results', 'extra_info'):
            if v.get(k):
                x.append('<table key="%s">' % k + ''.join('\n<elem>%s</elem>' % text(i) for i in v[k]) + '\n</table>')
    if v.get('refs'):
        x.append('<table key="refs">' + ''.join('\n<elem>%s</elem>' % text(r) for r in v['refs']) + '\n</table>')
    x.append('</table>')
    return '\n'.join(x)

def vulns_script(script_id, vulns, showall=False):
    vul = [v for v in vulns if v['state'] != 'NOT VULNERABLE']
    nv = [v for v in vulns if v['state'] == 'NOT VULNERABLE']
    lines = []
    if vul:
        lines.append('VULNERABLE:')
        for i, v in enumerate(vul):
            lines.append(vuln_text(v))
            if len(vul) > 1 and i != len(vul) - 1:
                lines.append('')
    if nv and showall:
        if vul: lines.append('')
        lines.append('NOT VULNERABLE:')
        for i, v in enumerate(nv):
            lines.append(vuln_text(v))
            if len(nv) > 1 and i != len(nv) - 1:
                lines.append('')
    shown = vul + (nv if showall else [])
    body = '\n'.join(vuln_tables(v) for v in shown)
    return '<script id="%s" output="%s">%s\n</script>' % (script_id, attr(fmt_output(lines)), body)

def enum_script(protocols, least):
    """protocols: list of (name, ciphers[(name,kex,grade)], pref, warnings)"""
    lines = []
    xml = []
    for name, ciphers, pref, warnings in protocols:
        sub = ['%s: ' % name, '  ciphers: ']
        for c, kex, g in ciphers:
            sub.append('    %s (%s) - %s' % (c, kex, g) if kex else '    %s - %s' % (c, g))
        sub += ['  compressors: ', '    NULL', '  cipher preference: %s' % pref]
        if warnings:
            sub.append('  warnings: ')
            sub += ['    ' + w for w in sorted(warnings)]
        lines.append('\n'.join(sub))
        t = ['<table key="%s">' % name, '<table key="ciphers">']
        for c, kex, g in ciphers:
            t.append('<table>')
            if kex: t.append('<elem key="kex_info">%s</elem>' % text(kex))
            t.append('<elem key="name">%s</elem>\n<elem key="strength">%s</elem>\n</table>' % (c, g))
        t.append('</table>\n<table key="compressors">\n<elem>NULL</elem>\n</table>')
        t.append('<elem key="cipher preference">%s</elem>' % pref)
        if warnings:
            t.append('<table key="warnings">' + ''.join('\n<elem>%s</elem>' % text(w) for w in sorted(warnings)) + '\n</table>')
        t.append('</table>')
        xml.append('\n'.join(t))
    lines.append('least strength: %s' % least)
    xml.append('<elem key="least strength">%s</elem>' % least)
    return '<script id="ssl-enum-ciphers" output="%s">%s\n</script>' % (attr(fmt_output(lines)), '\n'.join(xml))

def freeform_script(script_id, output, inner=''):
    return '<script id="%s" output="%s">%s</script>' % (script_id, attr(output), inner)

def document(port, service_xml, scripts, args_scripts, note, proto='tcp', start=1795822234):
    args = 'nmap -Pn -sV --script %s -p %d -oX sample.xml 192.0.2.10' % (args_scripts, port)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n'
        '<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>\n'
        '<!-- CONSTRUCTED SAMPLE (advisor kb): %s -->\n'
        '<!-- Nmap 7.93 scan initiated Fri Nov 27 23:30:34 2026 as: %s -->\n'
        '<nmaprun scanner="nmap" args="%s" start="%d" startstr="Fri Nov 27 23:30:34 2026" version="7.93" xmloutputversion="1.05">\n'
        '<scaninfo type="syn" protocol="tcp" numservices="1" services="%d"/>\n<verbose level="0"/>\n<debugging level="0"/>\n'
        '<host starttime="%d" endtime="%d"><status state="up" reason="user-set" reason_ttl="0"/>\n'
        '<address addr="192.0.2.10" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n'
        '<ports><port protocol="%s" portid="%d"><state state="open" reason="syn-ack" reason_ttl="64"/>%s%s</port>\n</ports>\n'
        '<times srtt="53" rttvar="5000" to="100000"/>\n</host>\n'
        '<runstats><finished time="%d" timestr="Fri Nov 27 23:31:28 2026" summary="Nmap done at Fri Nov 27 23:31:28 2026; 1 IP address (1 host up) scanned in 54.08 seconds" elapsed="54.08" exit="success"/><hosts up="1" down="0" total="1"/>\n'
        '</runstats>\n</nmaprun>\n') % (attr(note).replace('-&#45;', '- -'), attr(args), attr(args), start, port, start, start + 54, proto, port, service_xml, ''.join(scripts), start + 54)

SVC_HTTPS = '<service name="https" tunnel="ssl" method="table" conf="3"/>'
SVC_SMTPS = '<service name="smtps" method="table" conf="3"/>'

def struct_text(obj, indent='  '):
    """nse_main.lua format_table(): list items then string keys (ordered dict here)."""
    if isinstance(obj, (list, dict)):
        parts = []
        items = obj if isinstance(obj, list) else []
        for v in items:
            parts += ['\n', indent, struct_text(v, indent + '  ')]
        if isinstance(obj, dict):
            for k, v in obj.items():
                parts += ['\n', indent, k, ': ', struct_text(v, indent + '  ')]
        return ''.join(parts)
    return str(obj)

def struct_xml(obj):
    out = []
    if isinstance(obj, list):
        for v in obj:
            out.append(struct_xml_item(None, v))
    else:
        for k, v in obj.items():
            out.append(struct_xml_item(k, v))
    return '\n'.join(out)

def struct_xml_item(k, v):
    ka = '' if k is None else ' key="%s"' % attr(k)
    if isinstance(v, (list, dict)):
        return '<table%s>\n%s\n</table>' % (ka, struct_xml(v))
    return '<elem%s>%s</elem>' % (ka, text(str(v)))

def struct_script(script_id, obj):
    return '<script id="%s" output="%s">%s\n</script>' % (script_id, attr(struct_text(obj)), struct_xml(obj))
