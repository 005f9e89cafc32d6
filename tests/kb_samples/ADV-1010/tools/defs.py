from gen import *

DH = 'ssl-dh-params.nse'
def dhv(title, state, key, check=None, ids=None, refs=None, disclosure=None):
    d, a, b = desc_after_title(DH, title)
    return dict(key=key, title=title, state=state, ids=ids, description=d, check_results=check,
                refs=refs or ['https://weakdh.org'], disclosure=disclosure)
ANON = 'Anonymous Diffie-Hellman Key Exchange MitM Vulnerability'
LOGJAM = 'Transport Layer Security (TLS) Protocol DHE_EXPORT Ciphers Downgrade MitM (Logjam)'
WEAK = 'Diffie-Hellman Key Exchange Insufficient Group Strength'
NOSAFE = 'Diffie-Hellman Key Exchange Incorrectly Generated Group Parameters'
def group(label, n, suite, typ, src, mod, gen, pub):
    return ('%s %d\n      Cipher Suite: %s\n      Modulus Type: %s\n      Modulus Source: %s\n'
            '      Modulus Length: %d\n      Generator Length: %d\n      Public Key Length: %d') % (label, n, suite, typ, src, mod, gen, pub)

# ---------------- ADV-1002 Insufficient group strength
lab('ADV-1002', 'positive-sserver-dhparam1024.xml', 'lowkex', expect='ssl-dh-params: "Diffie-Hellman Key Exchange Insufficient Group Strength" VULNERABLE, WEAK DH GROUP 1, Modulus Source Unknown/Custom-generated, 1024 bits (vulns.showall also lists the 3 other titles as NOT VULNERABLE)')
lab('ADV-1002', 'positive-sserver-rsa1024-autodh-oakley2.xml', 'weakcert', expect='1024-bit certificate key and no DH file: OpenSSL 3 automatic DH picks "RFC2409/Oakley Group 2" (1024) -> Insufficient Group Strength VULNERABLE; anonymous title also VULNERABLE')
corpus('ADV-1002', 'positive-corpus-kis-7.70-oakley2.xml', 'kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml', expect='Insufficient Group Strength VULNERABLE, RFC2409/Oakley Group 2, 1024 (table key NMAP-3)')
lab('ADV-1002', 'negative-sserver-autodh-2048-showall.xml', 'dhe2048', expect='DHE with OpenSSL automatic group for a 2048-bit key: all four ssl-dh-params titles NOT VULNERABLE (vulns.showall)')
lab('ADV-1002', 'negative-sserver-ecdhe-only-no-dh-output.xml', 'modern', showall=False, expect='ECDHE only: ssl-dh-params prints nothing, no <script id="ssl-dh-params"> element')
corpus('ADV-1002', 'negative-corpus-rails-showall-7.01.xml', 'rails-ssl-scan__scan_ssl-dh-params_poodle_ccs_heartbleed_showall_7.01SVN.xml', expect='nmap 7.01SVN with vulns.showall: Insufficient Group Strength NOT VULNERABLE')

# ---------------- ADV-1003 non-safe prime
lab('ADV-1003', 'positive-sserver-dsaparam2048.xml', 'dsaparam3', expect='"Diffie-Hellman Key Exchange Incorrectly Generated Group Parameters" LIKELY VULNERABLE, NON-SAFE GROUP 1, Non-safe prime, 2048 bits (DH file from openssl dhparam -dsaparam 2048)')
REG['ADV-1003'][-1][2]['note'] = "s_server refuses OpenSSL 3's X9.42 '-dsaparam' output ('unexpected parameters type'), so p and g of that file were re-encoded as a PKCS#3 DHparameter (SEQUENCE{p,g}) with a few lines of Python; the group itself is unchanged."
lab('ADV-1003', 'negative-sserver-safe-prime-showall.xml', 'dhe2048', expect='safe-prime group: Incorrectly Generated Group Parameters NOT VULNERABLE (vulns.showall)')
lab('ADV-1003', 'negative-sserver-dh1024-safe-prime.xml', 'lowkex', expect='1024-bit safe prime: only Insufficient Group Strength is VULNERABLE; the non-safe title is NOT VULNERABLE')

# ---------------- ADV-1004 Logjam (constructed)
logjam_v = dhv(LOGJAM, 'VULNERABLE', 'CVE-2015-4000',
    check=[group('EXPORT-GRADE DH GROUP', 1, 'TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA', 'Safe prime', 'Unknown/Custom-generated', 512, 8, 512)],
    ids=['CVE:CVE-2015-4000', 'BID:74733'],
    refs=['https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2015-4000', 'https://weakdh.org', 'https://www.securityfocus.com/bid/74733'],
    disclosure='2015-5-19')
weak_v = dhv(WEAK, 'VULNERABLE', 'NMAP-2', check=[group('WEAK DH GROUP', 1, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'Safe prime', 'Unknown/Custom-generated', 1024, 8, 1024)])
constructed('ADV-1004', 'positive-constructed-dhe-export-512.xml',
    document(443, SVC_HTTPS, [vulns_script('ssl-dh-params', [logjam_v, weak_v])], 'ssl-dh-params', 'ssl-dh-params Logjam VULNERABLE; no server with DHE_EXPORT suites can run here (OpenSSL 3 has none)'),
    'scripts/ssl-dh-params.nse 7.93: vuln_table_logjam (lines 827-854: title, description, IDS CVE/BID, dates 2015-5-19, refs), check_dhgroup() lines 743-787 (EXPORT cipher -> logjam list), format_check() label "EXPORT-GRADE DH GROUP", fields_order lines 723-730; nselib/vulns.lua format_vuln_base() lines 1806-1960 and Report:make_output() 2256-2313 for the text and table layout; table key = IDS.CVE',
    expect='Logjam title VULNERABLE with CVE-2015-4000/BID:74733, EXPORT-GRADE DH GROUP 1 (512-bit); a WEAK DH GROUP for the normal DHE suites as on a real OpenSSL 1.0.1 server')
lab('ADV-1004', 'negative-sserver-showall.xml', 'lowkex', expect='Logjam title present but NOT VULNERABLE (vulns.showall)')
corpus('ADV-1004', 'negative-corpus-rails-showall-7.01.xml', 'rails-ssl-scan__scan_ssl-dh-params_poodle_ccs_heartbleed_showall_7.01SVN.xml', expect='nmap 7.01SVN: Logjam NOT VULNERABLE with OSVDB-era IDs')

# ---------------- ssl-enum-ciphers warnings
lab('ADV-1010', 'positive-sserver-null-md5.xml', 'legacy', expect='warnings include "Ciphersuite uses MD5 for message integrity" (TLS_RSA_WITH_NULL_MD5 accepted; s_server with -provider legacy, cipher ALL:COMPLEMENTOFALL:@SECLEVEL=0)')
lab('ADV-1010', 'negative-sserver-modern.xml', 'modern', showall=False, expect='TLS 1.2/1.3 ECDHE-AEAD only: no warnings')
lab('ADV-1010', 'negative-sserver-weakcert-md5-signature.xml', 'weakcert', expect='MD5 appears only in "Insecure certificate signature (MD5)": must not count as an MD5 MAC suite')

corpus('ADV-1011', 'positive-corpus-kis-7.91-3des.xml', 'kis__tlsnmap-test_ssl-enum-ciphers_7.91.xml', expect='"64-bit block cipher 3DES vulnerable to SWEET32 attack" under TLSv1.0/1.1/1.2 (Apache 2.4.39 / OpenSSL 1.1.1b)')
corpus('ADV-1011', 'positive-corpus-kis-7.70-3des-idea.xml', 'kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml', expect='SWEET32 warnings for 3DES and IDEA (nmap 7.70)')
lab('ADV-1011', 'negative-sserver-modern.xml', 'modern', showall=False, expect='no 64-bit block ciphers')
lab('ADV-1011', 'negative-sserver-legacy-no-3des.xml', 'legacy', expect='many legacy suites but OpenSSL 3.0 here has no 3DES/IDEA: no SWEET32 warning')

SSL3_TABLE = ('SSLv3', [('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'secp256r1', 'A'), ('TLS_RSA_WITH_AES_128_CBC_SHA', 'rsa 2048', 'A')], 'server', ['CBC-mode cipher in SSLv3 (CVE-2014-3566)'])
TLS12_TABLE = ('TLSv1.2', [('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'secp256r1', 'A'), ('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'secp256r1', 'A'), ('TLS_RSA_WITH_AES_128_GCM_SHA256', 'rsa 2048', 'A')], 'server', [])
ENUM_SRC = 'scripts/ssl-enum-ciphers.nse 7.93: warnings in find_ciphers_group() lines 688-790, score_cipher()/letter_grade() lines 545-593, output layout in try_protocol() lines 1060-1095 and "least strength" lines 1131-1138, XML shape as in @xmloutput lines 150-305 and in real 7.93 captures of this repository'
ssl3_doc = document(443, SVC_HTTPS, [enum_script([SSL3_TABLE, TLS12_TABLE], 'A')], 'ssl-enum-ciphers', 'SSLv3 table with CBC suites; no SSLv3 server can run here (OpenSSL 3.0 built without SSLv3)')
constructed('ADV-1012', 'positive-constructed-sslv3-cbc.xml', ssl3_doc, ENUM_SRC, expect='SSLv3 table with AES-CBC suites and the warning "CBC-mode cipher in SSLv3 (CVE-2014-3566)"')
lab('ADV-1012', 'negative-sserver-tls10-no-sslv3.xml', 'tls10', expect='TLSv1.0-1.2 with CBC suites but no SSLv3 table: no SSLv3 CBC warning')

rc4_doc = document(443, SVC_HTTPS, [enum_script([('TLSv1.0', [('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'secp256r1', 'A'), ('TLS_RSA_WITH_RC4_128_SHA', 'rsa 2048', 'C')], 'server', ['Broken cipher RC4 is deprecated by RFC 7465']), ('TLSv1.2', [('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'secp256r1', 'A'), ('TLS_RSA_WITH_RC4_128_SHA', 'rsa 2048', 'C')], 'server', ['Broken cipher RC4 is deprecated by RFC 7465'])], 'C')], 'ssl-enum-ciphers', 'RC4 suites accepted; OpenSSL 3.0 here has no RC4')
constructed('ADV-1013', 'positive-constructed-rc4.xml', rc4_doc, ENUM_SRC + '; tls.lua cipher_info() caps RC4 at 80 bits (grade C), as in the script @output example', expect='TLS_RSA_WITH_RC4_128_SHA graded C with "Broken cipher RC4 is deprecated by RFC 7465"')
lab('ADV-1013', 'negative-sserver-modern.xml', 'modern', showall=False, expect='no RC4')

t13_doc = document(443, SVC_HTTPS, [enum_script([TLS12_TABLE, ('TLSv1.3', [('TLS_AKE_WITH_AES_128_GCM_SHA256', 'ecdh_x25519', 'A'), ('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ecdh_x25519', 'A')], 'server', ['Non-TLSv1.3 ciphersuite chosen for TLSv1.3'])], 'A')], 'ssl-enum-ciphers', 'a TLS 1.3 ServerHello selecting a TLS 1.2 suite (buggy TLS stack); cannot be produced with OpenSSL here')
constructed('ADV-1014', 'positive-constructed-tls13-wrong-suite.xml', t13_doc, ENUM_SRC + ' (warning at line 701: protocol == "TLSv1.3" and not info.tls13ok)', expect='TLSv1.3 table with "Non-TLSv1.3 ciphersuite chosen for TLSv1.3"')
lab('ADV-1014', 'negative-sserver-modern-tls13.xml', 'modern', showall=False, expect='correct TLS 1.3 table (TLS_AKE_WITH_* suites), no warning')

exp_doc = document(443, SVC_HTTPS, [enum_script([('TLSv1.0', [('TLS_RSA_WITH_AES_128_CBC_SHA', 'rsa 2048', 'A'), ('TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA', 'dh 512', 'E'), ('TLS_RSA_EXPORT_WITH_RC4_40_MD5', 'rsa 512', 'E')], 'client', ['Broken cipher RC4 is deprecated by RFC 7465', 'Ciphersuite uses MD5 for message integrity', 'Export key exchange'])], 'E')], 'ssl-enum-ciphers', 'export suites accepted (OpenSSL < 1.0.2 era server); OpenSSL 3 has no export suites')
constructed('ADV-1015', 'positive-constructed-export.xml', exp_doc, ENUM_SRC + ' (export: kex_strength 512, line 705-712; DES40/RC4_40 -> 40-bit cipher; score 0.43*0.4+0.57*0.2 = 0.286 -> E)', expect='EXPORT suites graded E with the warning "Export key exchange"')
lab('ADV-1015', 'negative-sserver-legacy.xml', 'legacy', expect='legacy server (NULL-MD5, anonymous, SHA-1 cert) but no export suites: no "Export key exchange"')

lab('ADV-1016', 'positive-sserver-anon.xml', 'legacy', expect='"Anonymous key exchange, score capped at F" (ADH/AECDH suites accepted)')
lab('ADV-1016', 'negative-sserver-modern.xml', 'modern', showall=False, expect='no anonymous suites')

lab('ADV-1017', 'positive-sserver-sha1-selfsigned.xml', 'legacy', expect='"Insecure certificate signature (SHA1), score capped at F" (nmap 7.93 wording)')
lab('ADV-1017', 'positive-sserver-md5-cert.xml', 'weakcert', expect='"Insecure certificate signature (MD5), score capped at F"')
corpus('ADV-1017', 'positive-corpus-kis-7.70-weak-sha1.xml', 'kis__tlsnmap-test_ssl-dh-params_ssl-enum-ciphers_7.70.xml', expect='nmap 7.70 wording "Weak certificate signature: SHA1"')
lab('ADV-1017', 'negative-sserver-modern.xml', 'modern', showall=False, expect='SHA-256 certificate: no signature warning')

rsae1_doc = document(443, SVC_HTTPS, [enum_script([('TLSv1.2', [('TLS_RSA_WITH_AES_128_CBC_SHA', 'rsa 1024', 'F'), ('TLS_RSA_WITH_AES_128_GCM_SHA256', 'rsa 1024', 'F')], 'client', ['Certificate RSA exponent is 1, score capped at F', 'Forward Secrecy not supported by any cipher'])], 'F')], 'ssl-enum-ciphers', 'certificate with RSA exponent 1; OpenSSL refuses to load such a key, so no server can run here')
constructed('ADV-1018', 'positive-constructed-rsa-exponent-1.xml', rsae1_doc, ENUM_SRC + ' (exponent check lines 741-745: kex_strength = 0 -> score 0 -> F)', expect='"Certificate RSA exponent is 1, score capped at F"')
lab('ADV-1018', 'negative-sserver-legacy.xml', 'legacy', expect='capped at F for other reasons (anonymous, SHA1) but exponent 65537')

lab('ADV-1019', 'positive-sserver-dh1024-rsa2048.xml', 'lowkex', expect='"Key exchange (dh 1024) of lower strength than certificate key" (SHA-256 RSA-2048 cert, 1024-bit DH file)')
lab('ADV-1019', 'negative-sserver-modern.xml', 'modern', showall=False, expect='ECDHE x25519/secp256r1 with RSA-2048: no warning')
lab('ADV-1019', 'negative-sserver-sha1-masks-dh1024.xml', 'legacy', expect='dh 1024 with RSA-2048, but the SHA-1 certificate already sets the key-exchange strength to 0, so nmap 7.93 does not emit the lower-strength warning (ssl-enum-ciphers.nse lines 733-737 then 780)')

lab('ADV-1020', 'positive-sserver-static-rsa-only.xml', 'nopfs', expect='"Forward Secrecy not supported by any cipher" (TLS_RSA_WITH_AES_*_GCM only)')
lab('ADV-1020', 'negative-sserver-modern.xml', 'modern', showall=False, expect='ECDHE suites: no warning')

lab('ADV-1021', 'positive-sserver-legacy-grade-f.xml', 'legacy', expect='least strength: F')
corpus('ADV-1021', 'positive-corpus-kis-7.91-grade-c.xml', 'kis__tlsnmap-test_ssl-enum-ciphers_7.91.xml', expect='least strength: C (3DES)')
lab('ADV-1021', 'negative-sserver-modern-grade-a.xml', 'modern', showall=False, expect='least strength: A')
lab('ADV-1021', 'negative-sserver-dh1024-still-grade-a.xml', 'lowkex', expect='least strength: A despite dh 1024 (warning only)')

# ---------------- protocol tables

constructed('ADV-1031', 'positive-constructed-sslv3.xml', ssl3_doc, ENUM_SRC, expect='SSLv3 protocol table present')
lab('ADV-1031', 'negative-sserver-tls10.xml', 'tls10', expect='no SSLv3 table (oldest is TLSv1.0)')
lab('ADV-1031', 'negative-sserver-modern.xml', 'modern', showall=False, expect='TLS 1.2/1.3 only')

lab('ADV-1032', 'positive-sserver-tls10-clean.xml', 'tls10', expect='TLSv1.0 table (grade A suites, no warnings): the protocol alone triggers')
corpus('ADV-1032', 'positive-corpus-kis-7.91.xml', 'kis__tlsnmap-test_ssl-enum-ciphers_7.91.xml', expect='TLSv1.0 and TLSv1.1 tables (Apache 2.4.39)')
lab('ADV-1032', 'negative-sserver-modern.xml', 'modern', showall=False, expect='TLSv1.2 and TLSv1.3 tables only')

lab('ADV-1033', 'positive-sserver-tls10-clean.xml', 'tls10', expect='TLSv1.1 table present')
corpus('ADV-1033', 'positive-corpus-kis-7.91.xml', 'kis__tlsnmap-test_ssl-enum-ciphers_7.91.xml', expect='TLSv1.1 table')
lab('ADV-1033', 'negative-sserver-modern.xml', 'modern', showall=False, expect='TLSv1.2 and TLSv1.3 tables only')

corpus('ADV-1034', 'positive-corpus-libnmap-6.40-sslv2.xml', 'libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml', expect='sslv2 script: "SSLv2 supported" with a ciphers list (nmap 6.40, three hosts/ports)')
corpus('ADV-1034', 'positive-corpus-zenmap-4.53-old-id-SSLv2.xml', 'nmap__zenmap-radialnet-example_old-script-ids_4.53.xml', expect='old script id "SSLv2": "server still supports SSLv2"')
lab('ADV-1034', 'negative-sserver-modern-sslv2-ran.xml', 'modern', showall=False, expect='the sslv2 script was run (see args) and printed nothing: SSL 2.0 refused')

# ---------------- vulns-lib scripts
def v_from(script, title, state, key, **kw):
    d, a, b = desc_after_title(script, title)
    v = dict(key=key, title=title, state=state, description=d)
    v.update(kw)
    return v
VULNS_SRC = 'nselib/vulns.lua 7.93 format_vuln_base() lines 1806-1960 (text: title, State, IDs, Risk factor, description lines, Disclosure date, Check results, Exploit results, References; XML tables in the same order) and Report:make_output() lines 2256-2313 (VULNERABLE: header, table key = IDS.CVE or NMAP-n)'

POODLE_T = 'SSL POODLE information leak'
pood = v_from('ssl-poodle.nse', POODLE_T, 'VULNERABLE', 'CVE-2014-3566', ids=['CVE:CVE-2014-3566', 'BID:70574'],
    disclosure='2014-10-14', check_results=['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_RSA_WITH_AES_256_CBC_SHA'],
    refs=['https://www.securityfocus.com/bid/70574', 'https://www.imperialviolet.org/2014/10/14/poodle.html', 'https://www.openssl.org/~bodo/ssl-poodle.pdf', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2014-3566'])
constructed('ADV-1040', 'positive-constructed-poodle-no-scsv.xml',
    document(443, SVC_HTTPS, [vulns_script('ssl-poodle', [pood])], 'ssl-poodle', 'ssl-poodle VULNERABLE (SSLv3 CBC, no TLS_FALLBACK_SCSV); no SSLv3 server can run here'),
    'scripts/ssl-poodle.nse 7.93 lines 314-357 (vuln_table: title, description, IDS CVE/BID, dates 2014-10-14, references; check_results = accepted CBC cipher names; state VULN when check_fallback_scsv() fails); ' + VULNS_SRC,
    expect='SSL POODLE information leak, State: VULNERABLE, CBC suites in check results, no TLS_FALLBACK_SCSV line')
corpus('ADV-1040', 'positive-corpus-rails-0a137b37-likely.xml', 'rails-ssl-scan__0a137b37_ssl-dh-params_7.01SVN.xml', expect='nmap 7.01SVN: SSL POODLE information leak LIKELY VULNERABLE, check results TLS_RSA_WITH_AES_128_CBC_SHA + "TLS_FALLBACK_SCSV properly implemented", IDs OSVDB:113251 CVE:CVE-2014-3566')
lab('ADV-1040', 'negative-sserver-showall-not-vulnerable.xml', 'modern', expect='SSL POODLE information leak NOT VULNERABLE (vulns.showall)')
corpus('ADV-1040', 'negative-corpus-rails-showall-7.01.xml', 'rails-ssl-scan__scan_ssl-dh-params_poodle_ccs_heartbleed_showall_7.01SVN.xml', expect='POODLE NOT VULNERABLE (nmap 7.01SVN, vulns.showall)')

HB_T = 'The Heartbleed Bug is a serious vulnerability in the popular OpenSSL cryptographic software library. It allows for stealing information intended to be protected by SSL/TLS encryption.'
hb = v_from('ssl-heartbleed.nse', HB_T, 'VULNERABLE', 'NMAP-1', risk='High',
    refs=['http://cvedetails.com/cve/2014-0160/', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2014-0160', 'http://www.openssl.org/news/secadv_20140407.txt '])
constructed('ADV-1041', 'positive-constructed-heartbleed.xml',
    document(443, SVC_HTTPS, [vulns_script('ssl-heartbleed', [hb])], 'ssl-heartbleed', 'ssl-heartbleed VULNERABLE; no OpenSSL 1.0.1-1.0.1f server can run here'),
    'scripts/ssl-heartbleed.nse 7.93 lines 203-237 (vuln_table: long title, risk_factor High, description, 3 references incl. the trailing space in the openssl.org one; no IDS -> key NMAP-n); ' + VULNS_SRC,
    expect='Heartbleed long title, State: VULNERABLE, Risk factor: High')
lab('ADV-1041', 'negative-sserver-showall-not-vulnerable.xml', 'modern', expect='Heartbleed title NOT VULNERABLE (vulns.showall)')
corpus('ADV-1041', 'negative-corpus-asecurityteam-7.70-showall.xml', 'asecurityteam-nmap-scanner__showall_ssl-scripts_7.70_SEMI-SYNTHETIC.xml', expect='nmap 7.70 showall: heartbleed NOT VULNERABLE', note='Semi-synthetic in the corpus (a hand-added fake-for-test script element); the ssl-* output is real 7.70 output.')

CCS_T = 'SSL/TLS MITM vulnerability (CCS Injection)'
ccs = v_from('ssl-ccs-injection.nse', CCS_T, 'VULNERABLE', 'NMAP-1', risk='High',
    refs=['http://www.cvedetails.com/cve/2014-0224', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2014-0224', 'http://www.openssl.org/news/secadv_20140605.txt'])
constructed('ADV-1042', 'positive-constructed-ccs-injection.xml',
    document(443, SVC_HTTPS, [vulns_script('ssl-ccs-injection', [ccs])], 'ssl-ccs-injection', 'ssl-ccs-injection VULNERABLE; no vulnerable OpenSSL server can run here'),
    'scripts/ssl-ccs-injection.nse 7.93 lines 285-327 (title, risk_factor High, description, references; no IDS -> NMAP-n); ' + VULNS_SRC,
    expect='CCS Injection VULNERABLE')
lab('ADV-1042', 'negative-sserver-showall-not-vulnerable.xml', 'modern', expect='CCS Injection NOT VULNERABLE (vulns.showall)')
corpus('ADV-1042', 'negative-corpus-asecurityteam-7.70-timeout.xml', 'asecurityteam-nmap-scanner__showall_ssl-scripts_7.70_SEMI-SYNTHETIC.xml', expect='ssl-ccs-injection free-form "No reply from server (TIMEOUT)": inconclusive, not a finding of this entry', note='Semi-synthetic corpus file (hand-added fake-for-test element); ssl-* output real.')

# DROWN
D = 'sslv2-drown.nse'
T3197 = "OpenSSL: SSLv2 doesn't block disabled ciphers"
T0703 = 'OpenSSL: Divide-and-conquer session key recovery in SSLv2'
T0800 = 'OpenSSL: Cross-protocol attack on TLS using SSLv2 (DROWN)'
def drown_vuln(title, cve, refs):
    d, a, b = desc_after_title(D, title)
    return {'title': title, 'state': 'VULNERABLE', 'ids': ['CVE:' + cve], 'description': [d], 'refs': refs}
def drown_doc(which, forced=True):
    vulns = {}
    if '3197' in which: vulns['CVE-2015-3197'] = drown_vuln(T3197, 'CVE-2015-3197', ['https://www.openssl.org/news/secadv/20160128.txt', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2015-3197'])
    if '0703' in which: vulns['CVE-2016-0703'] = drown_vuln(T0703, 'CVE-2016-0703', ['https://www.openssl.org/news/secadv/20160301.txt', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-0703'])
    if '0800' in which: vulns['CVE-2016-0800'] = drown_vuln(T0800, 'CVE-2016-0800', ['https://www.openssl.org/news/secadv/20160301.txt', 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-0800'])
    obj = {'ciphers': ['SSL2_DES_192_EDE3_CBC_WITH_MD5', 'SSL2_RC2_128_CBC_WITH_MD5', 'SSL2_RC4_128_WITH_MD5'] + ([] if forced else ['SSL2_RC4_128_EXPORT40_WITH_MD5'])}
    if forced: obj['forced_ciphers'] = ['SSL2_RC2_128_CBC_EXPORT40_WITH_MD5', 'SSL2_RC4_128_EXPORT40_WITH_MD5']
    obj['vulns'] = vulns
    return obj
DROWN_SRC = 'scripts/sslv2-drown.nse 7.93 lines 224-345 (three vuln tables with IDS CVE; output_table ciphers / forced_ciphers / vulns = report:make_output() structured part) and its @output/@xmloutput (lines 22-83); text rendered like nse_main.lua format_table() lines 1109-1139; ' + VULNS_SRC
d_all = document(443, SVC_HTTPS, [struct_script('sslv2', {}) if False else '', struct_script('sslv2-drown', drown_doc(['3197', '0703', '0800']))], 'sslv2,sslv2-drown', 'sslv2-drown with all three CVEs VULNERABLE (OpenSSL 1.0.1 < 1.0.1m with SSLv2 on); cannot run here')
d_0800 = document(443, SVC_HTTPS, [struct_script('sslv2-drown', drown_doc(['0800'], forced=False))], 'sslv2,sslv2-drown', 'sslv2-drown: SSLv2 offers an export cipher (general DROWN, CVE-2016-0800) but no forced ciphers and no extra-clear bug')
for eid, fname in (('ADV-1043', 'positive-constructed-drown-all-three.xml'), ('ADV-1044', 'positive-constructed-drown-all-three.xml'), ('ADV-1045', 'positive-constructed-drown-all-three.xml')):
    constructed(eid, fname, d_all, DROWN_SRC, expect='vulns: CVE-2015-3197, CVE-2016-0703 and CVE-2016-0800 all VULNERABLE, forced export ciphers listed')
constructed('ADV-1045', 'positive-constructed-drown-general-only.xml', d_0800, DROWN_SRC + ' (CVE-2016-0800 set by GENERAL_DROWN_CIPHERS: export cipher offered)', expect='only CVE-2016-0800 VULNERABLE')
for eid in ('ADV-1043', 'ADV-1044'):
    constructed(eid, 'negative-constructed-drown-general-only.xml', d_0800, DROWN_SRC, expect='only CVE-2016-0800 is VULNERABLE; this entry\'s CVE is absent (NOT VULNERABLE entries are hidden without vulns.showall)')
for eid in ('ADV-1043', 'ADV-1044', 'ADV-1045'):
    lab(eid, 'negative-sserver-no-sslv2.xml', 'modern', expect='sslv2-drown ran (see args) and printed nothing: no SSLv2')

TB_T = 'Ticketbleed is a serious issue in products manufactured by F5, a popular vendor of TLS load-balancers. The issue allows for stealing information from the load balancer'
tb = v_from('tls-ticketbleed.nse', TB_T, 'VULNERABLE (Exploitable)', 'NMAP-1', risk='High',
    exploit_results=['8f2a6c0d5e4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a29180706f5e4d3c2', '.*l.^K:)......................'],
    refs=['https://support.f5.com/csp/article/K05121675', 'https://filippo.io/Ticketbleed/', 'https://blog.filippo.io/finding-ticketbleed/'])
constructed('ADV-1046', 'positive-constructed-ticketbleed.xml',
    document(443, SVC_HTTPS, [vulns_script('tls-ticketbleed', [tb])], 'tls-ticketbleed', 'tls-ticketbleed VULNERABLE (Exploitable) with 31 leaked bytes; no F5 BIG-IP here'),
    'scripts/tls-ticketbleed.nse 7.93 lines 318-357 (title, risk_factor High, description, references; state EXPLOIT -> "VULNERABLE (Exploitable)"; exploit_results = {hex of the 31 extra session-ID bytes, printable form with non-printables as "."}); ' + VULNS_SRC,
    expect='Ticketbleed title, State: VULNERABLE (Exploitable), Exploit results with hex and printable leak (bytes invented)')
lab('ADV-1046', 'negative-sserver-showall-not-vulnerable.xml', 'modern', expect='Ticketbleed NOT VULNERABLE (vulns.showall)')
corpus('ADV-1046', 'negative-corpus-dionaea-script-error.xml', 'libnmap__dionaea_prescript-hostscript-many-scripts.xml', expect='tls-ticketbleed "ERROR: Script execution failed (use -d to debug)": not a finding of this entry (handled by the meta/error entries)')

ROCA_T = 'ROCA: Vulnerable RSA generation'
roca = v_from('rsa-vuln-roca.nse', ROCA_T, 'VULNERABLE', 'CVE-2017-15361', ids=['CVE:CVE-2017-15361'],
    refs=['https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-15361', 'https://crocs.fi.muni.cz/public/papers/rsa_ccs17'])
constructed('ADV-1047', 'positive-constructed-roca.xml',
    document(443, SVC_HTTPS, [vulns_script('rsa-vuln-roca', [roca])], 'rsa-vuln-roca', 'rsa-vuln-roca VULNERABLE; no Infineon-generated key available here'),
    'scripts/rsa-vuln-roca.nse 7.93 lines 145-176 (title, description, IDS CVE-2017-15361, reference; state VULN when is_vulnerable(modulus)); ' + VULNS_SRC,
    expect='ROCA: Vulnerable RSA generation VULNERABLE, key CVE-2017-15361')
lab('ADV-1047', 'negative-sserver-showall-not-vulnerable.xml', 'modern', expect='ROCA NOT VULNERABLE for an OpenSSL-generated key (vulns.showall)')

# ---------------- certificates
lab('ADV-1050', 'positive-sserver-expired-2024.xml', 'weakcert', expect='ssl-cert notAfter 2024-01-01T00:00:00, scan ran 2026-11-27: expired')
lab('ADV-1050', 'negative-sserver-valid.xml', 'modern', showall=False, expect='notAfter 2027-11-27: valid at scan time')
corpus('ADV-1050', 'negative-corpus-libnmap-not-expired-at-scan-time.xml', 'libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml', expect='notAfter 2024-05-29 but the scan ran 2014-05-08: not expired relative to the scan (advisor compares with scan time)')

lab('ADV-1051', 'positive-sserver-selfsigned-sha1.xml', 'legacy', expect='subject = issuer = CN lab.example.test')
corpus('ADV-1051', 'positive-corpus-libnmap-6.40-jungo.xml', 'libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml', expect='subject = issuer (ORname_Jungo: OpenRG Products Group, a router factory certificate)')
lab('ADV-1051', 'negative-sserver-ca-signed.xml', 'modern', showall=False, expect='issuer "Advisor Lab Test CA" differs from subject: not self-signed (private CA)')

lab('ADV-1052', 'positive-sserver-rsa1024.xml', 'weakcert', expect='Public Key bits: 1024 (rsa)')
corpus('ADV-1052', 'positive-corpus-libnmap-6.40-rsa1024.xml', 'libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml', expect='rsa 1024 (nmap 6.40)')
lab('ADV-1052', 'negative-sserver-rsa2048.xml', 'modern', showall=False, expect='rsa 2048')

lab('ADV-1053', 'positive-sserver-sha1.xml', 'legacy', expect='sig_algo sha1WithRSAEncryption')
lab('ADV-1053', 'positive-sserver-md5.xml', 'weakcert', expect='sig_algo md5WithRSAEncryption')
lab('ADV-1053', 'negative-sserver-sha256.xml', 'modern', showall=False, expect='sig_algo sha256WithRSAEncryption')

corpus('ADV-1054', 'positive-corpus-libnmap-6.40-littleblackbox.xml', 'libnmap__fullscan_ssl-cert_sslv2_ssl-known-key_6.x.xml', expect='"Found in Little Black Box 0.1 - http://code.google.com/p/littleblackbox/ (SHA-1: 4388 33c0 ...)"')
lab('ADV-1054', 'negative-sserver-unknown-key.xml', 'modern', showall=False, expect='ssl-known-key ran (see args) and printed nothing')

intaddr_obj = {'Subject commonName': ['192.168.10.5'], 'X509v3 Subject Alternative Name': ['10.1.2.3']}
constructed('ADV-1055', 'positive-constructed-intaddr.xml',
    document(443, SVC_HTTPS, [struct_script('ssl-cert-intaddr', intaddr_obj)], 'ssl-cert-intaddr', 'ssl-cert-intaddr for the lab certificate intaddr.crt (CN 192.168.10.5, SAN IP 10.1.2.3); the script skips private/loopback targets so it cannot be captured on 127.0.0.1'),
    'scripts/ssl-cert-intaddr.nse 7.93 action() (output_table keyed "<Subject|Issuer> <field>" / extension name, each a list of private IPs) and its @output/@xmloutput (lines 18-34); text rendered like nse_main.lua format_table() lines 1109-1139',
    expect='Subject commonName: 192.168.10.5 and X509v3 Subject Alternative Name: 10.1.2.3')
lab('ADV-1055', 'negative-sserver-no-private-ips.xml', 'modern', showall=False, expect='certificate without private IPs (and ssl-cert-intaddr skipped on loopback): no output')

# ---------------- Cisco ASA
ASA = [
 ('ADV-1200', 'http-vuln-cve2014-2126', 'Cisco ASA ASDM Privilege Escalation Vulnerability', 'High', '8.5 (HIGH) (AV:N/AC:M/AU:S/C:C/I:C/A:C)', '2126', '9.1(3.2)'),
 ('ADV-1201', 'http-vuln-cve2014-2127', 'Cisco ASA SSL VPN Privilege Escalation Vulnerability', 'High', '8.5 (HIGH) (AV:N/AC:M/AU:S/C:C/I:C/A:C)', '2127', '9.1(3.2)'),
 ('ADV-1202', 'http-vuln-cve2014-2128', 'Cisco ASA SSL VPN Authentication Bypass Vulnerability', 'Medium', '5.0 (MEDIUM) (AV:N/AC:L/AU:N/C:P/I:N/A:N)', '2128', '9.1(2.8)'),
 ('ADV-1203', 'http-vuln-cve2014-2129', 'Cisco ASA SIP Denial of Service Vulnerability', 'High', '7.1 (HIGH) (AV:N/AC:M/AU:N/C:N/I:N/A:C)', '2129', '9.1(2.4)'),
]
for eid, script, title, risk, cvss, n, ver in ASA:
    v = v_from(script + '.nse', title, 'VULNERABLE', 'NMAP-1', risk=risk, scores={'CVSSv2': cvss},
        refs=['http://tools.cisco.com/security/center/content/CiscoSecurityAdvisory/cisco-sa-20140409-asa', 'http://cvedetails.com/cve/2014-%s/' % n])
    svc = '<service name="https" product="Cisco ASA SSL VPN" tunnel="ssl" method="probed" conf="10"/>'
    constructed(eid, 'positive-constructed-asa-%s.xml' % ver.replace('(', '-').replace(')', ''),
        document(443, svc, [vulns_script(script, [v])], script, '%s VULNERABLE for an ASA announcing %s; no Cisco ASA available here' % (script, ver)),
        'scripts/%s.nse 7.93 action() (title, risk_factor %s, scores CVSSv2 "%s", description, references; version table vuln_versions; no IDS -> key NMAP-n) and its @output; ' % (script, risk, cvss) + VULNS_SRC,
        expect='"%s" VULNERABLE, Risk factor %s, CVSSv2 score table' % (title, risk))
    add(eid, 'negative-sserver-not-an-asa.xml', open(LAB + 'asa-showall.xml').read(), provenance='real',
        command=' &  then:  '.join(open(LAB + 'cmd-asa.txt').read().strip().split('\n')),
        target=CERT_LAB, expect='all four http-vuln-cve2014-212x scripts ran against a non-ASA TLS server (with vulns.showall): the AnyConnect probe fails and the scripts print nothing')
