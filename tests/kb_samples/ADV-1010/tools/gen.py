import os, shutil, sys, json
sys.path.insert(0, os.path.dirname(__file__))
from nsexml import *
from luadesc import desc_after_title

LAB = '/tmp/advlab/'
CORPUS = '/work/shared/corpus/public/'
OUT = '/work/main/tests/kb_samples/'
CERT_LAB = "openssl s_server (OpenSSL 3.0.22) on 127.0.0.1 with lab certificates and DH files; how they were made: tests/kb_samples/ADV-1010/tools/README.md (good.crt = RSA-2048 SHA-256 leaf from a throwaway CA; sha1ss.crt = self-signed RSA-2048 SHA-1; weak.crt = self-signed RSA-1024 MD5 valid 2022-01-01..2024-01-01; intaddr.crt = CN 192.168.10.5 + SAN IP 10.1.2.3; dh1024.pem = openssl dhparam 1024)"

def lab_cmds(name, showall=True):
    lines = open(LAB + 'cmd-%s.txt' % name).read().strip().split('\n')
    server = lines[0]
    nm = [l for l in lines[1:] if ('showall' in l) == showall]
    return server, nm[0]

REG = {}
def add(entry, fname, content=None, **meta):
    REG.setdefault(entry, []).append((fname, content, meta))

def lab(entry, fname, name, showall=True, expect=''):
    server, nm = lab_cmds(name, showall)
    src = LAB + ('%s-showall.xml' % name if showall else '%s.xml' % name)
    add(entry, fname, open(src).read(), provenance='real',
        command='%s &  then:  %s' % (server, nm),
        target=CERT_LAB, expect=expect, file=os.path.basename(src))

def corpus(entry, fname, cfile, expect='', note=''):
    add(entry, fname, open(CORPUS + cfile).read(), provenance='real',
        corpus_file='shared/corpus/public/' + cfile + ' (copied unchanged; see shared/corpus/public/SOURCES.md for the repository and commit)',
        expect=expect, **({'note': note} if note else {}))

def constructed(entry, fname, xml, source_lines, expect, note=''):
    add(entry, fname, xml, provenance='constructed', follows=source_lines, expect=expect,
        **({'note': note} if note else {}))

def toml_str(s):
    return json.dumps(s, ensure_ascii=False)

def write_all(only=None):
    for entry, files in REG.items():
        if only and entry not in only: continue
        d = OUT + entry
        os.makedirs(d, exist_ok=True)
        src = ['# Provenance of each sample file (advisor kb samples).', '']
        for fname, content, meta in files:
            open(os.path.join(d, fname), 'w').write(content)
            src.append('[%s]' % toml_str(fname))
            for k, v in meta.items():
                if v == '' : continue
                src.append('%s = %s' % (k, toml_str(v)))
            src.append('')
        open(os.path.join(d, 'SOURCES.toml'), 'w').write('\n'.join(src))
