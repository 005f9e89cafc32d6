"""Build the constructed nmap 7.93 -oX samples of ADV-5300..ADV-5399 (free-form script output).

Each sample follows the script's own output code in nmap 7.93 (scripts/<id>.nse, cited per file
in the entry's SOURCES.toml): the `output` attribute is the text nmap prints (stdnse.format_output
or output_table: leading newline, two-space indent), the inner XML the structured form. Host
192.0.2.10 (TEST-NET-1). Run from the repository root: python tests/kb_samples/ADV-5300/make_constructed_53xx.py
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent


def attr(s: str) -> str:
    out = []
    for ch in s:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == '"':
            out.append("&quot;")
        elif ord(ch) < 0x20:
            out.append(f"&#x{ord(ch):x};")
        else:
            out.append(ch)
    return "".join(out).replace("--", "-&#45;")


def elems(pairs: list[tuple[str | None, str]]) -> str:
    return "".join(
        (f'<elem key="{attr(k)}">{attr(v)}</elem>\n' if k else f"<elem>{attr(v)}</elem>\n")
        for k, v in pairs
    )


def build(
    script: str,
    output: str | None,
    inner: str = "",
    port: int = 0,
    proto: str = "tcp",
    service: str = "",
    where: str = "port",
    product: str = "",
) -> str:
    args = f"nmap -Pn -sV -p {port} --script {script} 192.0.2.10"
    if proto == "udp":
        args = f"nmap -Pn -sU -sV -p {port} --script {script} 192.0.2.10"
    el = ""
    if output is not None:
        el = (
            f'<script id="{script}" output="{attr(output)}">{inner}</script>'
            if inner
            else (f'<script id="{script}" output="{attr(output)}"/>')
        )
    prod = f' product="{attr(product)}"' if product else ""
    svc = f'<service name="{service}"{prod} method="{"probed" if product else "table"}" conf="{10 if product else 3}"/>'
    state = "open"
    reason = "syn-ack" if proto == "tcp" else "udp-response"
    port_el = f'<port protocol="{proto}" portid="{port}"><state state="{state}" reason="{reason}" reason_ttl="64"/>{svc}'
    ports = f"<ports>{port_el}{el if where == 'port' else ''}</port>\n</ports>\n"
    hs = f"<hostscript>{el}</hostscript>" if where == "host" and el else ""
    pre = f"<prescript>{el}</prescript>\n" if where == "pre" and el else ""
    post = f"<postscript>{el}</postscript>" if where == "post" and el else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.93 scan initiated Fri Dec  4 01:00:00 2026 as: {attr(args)} -->
<nmaprun scanner="nmap" args="{attr(args)}" start="1796346000" startstr="Fri Dec  4 01:00:00 2026" version="7.93" xmloutputversion="1.05">
<scaninfo type="{"syn" if proto == "tcp" else "udp"}" protocol="{proto}" numservices="1" services="{port}"/>
<verbose level="0"/>
<debugging level="0"/>
{pre}<host starttime="1796346000" endtime="1796346010"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="192.0.2.10" addrtype="ipv4"/>
<hostnames>
</hostnames>
{ports}{hs}<times srtt="500" rttvar="3000" to="100000"/>
</host>
{post}<runstats><finished time="1796346010" timestr="Fri Dec  4 01:00:10 2026" summary="Nmap done at Fri Dec  4 01:00:10 2026; 1 IP address (1 host up) scanned in 10.00 seconds" elapsed="10.00" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
"""


def fmt(lines: list[str]) -> str:
    """stdnse.format_output(true, list): leading newline, two spaces per level."""
    return "\n" + "\n".join("  " + ln for ln in lines)


SPECS: dict[str, dict[str, dict[str, object]]] = {}


def spec(entry: str, name: str, **kw: object) -> None:
    SPECS.setdefault(entry, {})[name] = kw


# -- the samples (appended per entry) -------------------------------------------------------

# ADV-5300 afp-ls / afp-showmount (guest login: users = { ['nil'] = 'nil' })
spec(
    "ADV-5300",
    "positive-afp-showmount-guest-constructed.xml",
    script="afp-showmount",
    port=548,
    service="afp",
    output=fmt(
        [
            "Public",
            "  Owner: Search,Read,Write",
            "  Group: Search,Read",
            "  Everyone: Search,Read",
            "  User: Search,Read",
            "Time Machine",
            "  Owner: Search,Read,Write",
            "  Group: Search,Read",
            "  Everyone: Search,Read,Write",
            "  User: Search,Read,Write",
        ]
    ),
)
spec(
    "ADV-5300",
    "positive-afp-ls-guest-constructed.xml",
    script="afp-ls",
    port=548,
    service="afp",
    output="information retrieved as nil\nVolume Public\nPERMISSION  UID  GID  SIZE  TIME              FILENAME\ndrwxr-xr-x  0    100  0     2015-06-26 17:17  Backups\n-rw-r--r--  1000 100  6148  2015-06-26 17:20  .DS_Store\n",
    inner='<table key="volumes">\n<table>\n<elem key="volume">Public</elem>\n<table key="files">\n<table>\n<elem key="permission">drwxr-xr-x</elem>\n<elem key="uid">0</elem>\n<elem key="gid">100</elem>\n<elem key="size">0</elem>\n<elem key="time">2015-06-26 17:17</elem>\n<elem key="filename">Backups</elem>\n</table>\n<table>\n<elem key="permission">-rw-r-&#45;r-&#45;</elem>\n<elem key="uid">1000</elem>\n<elem key="gid">100</elem>\n<elem key="size">6148</elem>\n<elem key="time">2015-06-26 17:20</elem>\n<elem key="filename">.DS_Store</elem>\n</table>\n</table>\n</table>\n</table>\n<table key="info">\n<elem>information retrieved as nil</elem>\n</table>\n<table key="total">\n<elem key="files">2</elem>\n<elem key="bytes">6148</elem>\n</table>\n',
)
spec(
    "ADV-5300",
    "negative-afp-ls-as-user-constructed.xml",
    script="afp-ls",
    port=548,
    service="afp",
    output="information retrieved as alice\nVolume alice\nPERMISSION  UID  GID  SIZE  TIME              FILENAME\n-rw-r--r--  501  20   33    2011-01-19 20:11  .bashrc\n",
    inner='<table key="volumes">\n<table>\n<elem key="volume">alice</elem>\n<table key="files">\n<table>\n<elem key="permission">-rw-r-&#45;r-&#45;</elem>\n<elem key="uid">501</elem>\n<elem key="gid">20</elem>\n<elem key="size">33</elem>\n<elem key="time">2011-01-19 20:11</elem>\n<elem key="filename">.bashrc</elem>\n</table>\n</table>\n</table>\n</table>\n<table key="info">\n<elem>information retrieved as alice</elem>\n</table>\n<table key="total">\n<elem key="files">1</elem>\n<elem key="bytes">33</elem>\n</table>\n',
)

# ADV-5301 auth-owners (returns the bare owner string)
spec(
    "ADV-5301",
    "positive-auth-owners-root-constructed.xml",
    script="auth-owners",
    port=22,
    service="ssh",
    output="root",
)
spec(
    "ADV-5301",
    "negative-auth-owners-no-identd-constructed.xml",
    script="auth-owners",
    port=22,
    service="ssh",
    output=None,
)

# ADV-5302 auth-spoof ("Spoofed reply: " .. first line)
spec(
    "ADV-5302",
    "positive-auth-spoof-constructed.xml",
    script="auth-spoof",
    port=113,
    service="auth",
    output="Spoofed reply: 0, 0 : USERID : UNIX : OGJdvM",
)
spec(
    "ADV-5302",
    "negative-auth-spoof-silent-identd-constructed.xml",
    script="auth-spoof",
    port=113,
    service="auth",
    output=None,
)

# ADV-5303 backorifice-info / netbus-info
spec(
    "ADV-5303",
    "positive-netbus-info-constructed.xml",
    script="netbus-info",
    port=12345,
    service="netbus",
    output=fmt(
        [
            "ACL",
            "  127.0.0.1",
            "APPLICATIONS",
            "  PuTTY Configuration",
            "INFO",
            "  Program Path: C:\\WINDOWS\\Patch.exe",
            "  Restart persistent: Yes",
            "  Login ID: joeuser",
            "  Clients connected to this host: 1",
            "SETUP",
            "  TCP-port: 12345",
            "  Log traffic: 1",
            "  Password: ",
            "  Notify to: ",
            "  Notify from: ",
            "  SMTP-server: ",
            "VOLUME",
            "  Wave: 0",
            "  Synth: 0",
            "  Cd: 0",
        ]
    ),
    inner='<table key="ACL">\n<elem>127.0.0.1</elem>\n</table>\n<table key="APPLICATIONS">\n<elem>PuTTY Configuration</elem>\n</table>\n<table key="INFO">\n<elem key="Program Path">C:\\WINDOWS\\Patch.exe</elem>\n<elem key="Restart persistent">Yes</elem>\n<elem key="Login ID">joeuser</elem>\n<elem key="Clients connected to this host">1</elem>\n</table>\n<table key="SETUP">\n<elem key="TCP-port">12345</elem>\n<elem key="Log traffic">1</elem>\n<elem key="Password"></elem>\n<elem key="Notify to"></elem>\n<elem key="Notify from"></elem>\n<elem key="SMTP-server"></elem>\n</table>\n<table key="VOLUME">\n<elem key="Wave">0</elem>\n<elem key="Synth">0</elem>\n<elem key="Cd">0</elem>\n</table>\n',
)
spec(
    "ADV-5303",
    "positive-backorifice-info-constructed.xml",
    script="backorifice-info",
    port=31337,
    proto="udp",
    service="BackOrifice",
    output=fmt(
        [
            "PING REPLY",
            "  !PONG!1.20!HAL9000!",
            "SYSTEM INFO",
            "  System info for machine 'HAL9000'",
            "  Current user: 'Dave'",
            "PLUGIN LIST",
            "  End of plugins",
        ]
    ),
)
spec(
    "ADV-5303",
    "negative-netbus-port-no-answer-constructed.xml",
    script="netbus-info",
    port=12345,
    service="netbus",
    output=None,
)

# ADV-5304 couchdb-databases (queryResultToTable of the JSON body)
spec(
    "ADV-5304",
    "positive-couchdb-all-dbs-constructed.xml",
    script="couchdb-databases",
    port=5984,
    service="http",
    product="CouchDB httpd",
    output=fmt(["1 = _replicator", "2 = _users", "3 = customers", "4 = orders"]),
)
spec(
    "ADV-5304",
    "negative-couchdb3-unauthorized-constructed.xml",
    script="couchdb-databases",
    port=5984,
    service="http",
    product="CouchDB httpd",
    output=fmt(["error = unauthorized", "reason = You are not a server admin."]),
)

# ADV-5305 creds-summary (postrule; creds.Credentials:getTable, Account __tostring)
spec(
    "ADV-5305",
    "positive-creds-summary-constructed.xml",
    script="creds-summary",
    port=21,
    service="ftp",
    where="post",
    output=fmt(
        [
            "192.0.2.10",
            "  21/ftp",
            "    admin:admin - Valid credentials",
            "  22/ssh",
            "    root:<empty> - Valid credentials",
        ]
    ),
)
spec(
    "ADV-5305",
    "negative-creds-summary-own-credentials-constructed.xml",
    script="creds-summary",
    port=21,
    service="ftp",
    where="post",
    output=fmt(
        [
            "192.0.2.10",
            "  21/ftp",
            "    backup:Given-On-The-Command-Line - Credentials passed to script during Nmap execution",
        ]
    ),
)

# ADV-5306 dicom-ping / dicom-brute
spec(
    "ADV-5306",
    "positive-dicom-ping-any-aet-constructed.xml",
    script="dicom-ping",
    port=4242,
    service="dicom",
    output="\n  dicom: DICOM Service Provider discovered!\n  config: Any AET is accepted (Insecure)",
    inner='<elem key="dicom">DICOM Service Provider discovered!</elem>\n<elem key="config">Any AET is accepted (Insecure)</elem>\n',
)
spec(
    "ADV-5306",
    "positive-dicom-brute-constructed.xml",
    script="dicom-brute",
    port=4242,
    service="dicom",
    output=fmt(
        [
            "Accounts: ",
            "  Called Application Entity Title:ORTHANC - Valid credentials",
            "Statistics: Performed 5 guesses in 1 seconds, average tps: 5.0",
        ]
    ),
)
spec(
    "ADV-5306",
    "negative-dicom-ping-aet-check-constructed.xml",
    script="dicom-ping",
    port=4242,
    service="dicom",
    output="\n  dicom: DICOM Service Provider discovered!\n  config: Called AET check enabled",
    inner='<elem key="dicom">DICOM Service Provider discovered!</elem>\n<elem key="config">Called AET check enabled</elem>\n',
)

# ADV-5307 dns-blacklist / dns-zeustracker (hostrule)
spec(
    "ADV-5307",
    "positive-dns-blacklist-constructed.xml",
    script="dns-blacklist",
    port=25,
    service="smtp",
    where="host",
    output=fmt(["SPAM", "  bl.spamcop.net - SPAM", "  spam.dnsbl.sorbs.net - SPAM"]),
)
spec(
    "ADV-5307",
    "positive-dns-zeustracker-constructed.xml",
    script="dns-zeustracker",
    port=80,
    service="http",
    where="host",
    output=fmt(
        [
            "Name             IP          SBL        ASN    Country  Status  Level               Files Online  Date added",
            "cc.example.test  192.0.2.10  SBL123456  64496  ZZ       online  Bulletproof hosted  0             2011-06-17",
        ]
    ),
)
spec(
    "ADV-5307",
    "negative-dns-blacklist-fail-only-constructed.xml",
    script="dns-blacklist",
    port=25,
    service="smtp",
    where="host",
    output=fmt(["SPAM", "  l2.apews.org - FAIL"]),
)

# ADV-5308 dns-check-zone (hostrule, needs dns-check-zone.domain)
spec(
    "ADV-5308",
    "positive-dns-check-zone-recursion-constructed.xml",
    script="dns-check-zone",
    port=53,
    service="domain",
    where="host",
    output="\nDNS check results for domain: example.test\n  NS\n    FAIL - Recursive queries\n      The following servers allow recursive queries: 192.0.2.10\n    PASS - Multiple name servers\n      Server has 2 name servers\n  SOA\n    PASS - SOA REFRESH\n      SOA REFRESH was within recommended range (7200s)",
)
spec(
    "ADV-5308",
    "negative-dns-check-zone-all-pass-constructed.xml",
    script="dns-check-zone",
    port=53,
    service="domain",
    where="host",
    output="\nDNS check results for domain: example.test\n  NS\n    PASS - Recursive queries\n      None of the servers allow recursive queries.\n    PASS - Multiple name servers\n      Server has 2 name servers\n  SOA\n    PASS - Zone serial numbers\n      Zone serials match",
)

# ADV-5309 dns-nsid: real samples (unbound 1.17.1), see its SOURCES.toml

# ADV-5310 finger / rusers
spec(
    "ADV-5310",
    "positive-finger-users-constructed.xml",
    script="finger",
    port=79,
    service="finger",
    output="\nLogin     Name       Tty      Idle  Login Time   Office     Office Phone\nalice     Alice Doe  pts/0       1  Dec  4 00:41 (198.51.100.7)\n",
)
spec(
    "ADV-5310",
    "positive-rusers-constructed.xml",
    script="rusers",
    port=111,
    service="rpcbind",
    output="\nUSER   ON     FROM          SINCE                IDLE\nroot   pts/0  198.51.100.7  2026-12-04T00:41:00  5m\n",
)
spec(
    "ADV-5310",
    "negative-finger-closed-constructed.xml",
    script="finger",
    port=79,
    service="finger",
    output=None,
)

# ADV-5311 ip-forwarding (hostrule)
spec(
    "ADV-5311",
    "positive-ip-forwarding-constructed.xml",
    script="ip-forwarding",
    port=22,
    service="ssh",
    where="host",
    output="\n  The host has ip forwarding enabled, tried ping against (198.51.100.1)",
)
spec(
    "ADV-5311",
    "negative-ip-forwarding-off-constructed.xml",
    script="ip-forwarding",
    port=22,
    service="ssh",
    where="host",
    output=None,
)

# ADV-5312 ipmi-version (output_table with comma_separated lists)
spec(
    "ADV-5312",
    "positive-ipmi-null-user-constructed.xml",
    script="ipmi-version",
    port=623,
    proto="udp",
    service="asf-rmcp",
    output="\n  Version: \n    IPMI-2.0\n  UserAuth: password, md5, null\n  PassAuth: auth_msg, auth_user, non_null_user, null_user\n  Level: 1.5, 2.0",
    inner='<table key="Version">\n<elem>IPMI-2.0</elem>\n</table>\n<table key="UserAuth">\n<elem>password</elem>\n<elem>md5</elem>\n<elem>null</elem>\n</table>\n<table key="PassAuth">\n<elem>auth_msg</elem>\n<elem>auth_user</elem>\n<elem>non_null_user</elem>\n<elem>null_user</elem>\n</table>\n<table key="Level">\n<elem>1.5</elem>\n<elem>2.0</elem>\n</table>\n',
)
spec(
    "ADV-5312",
    "negative-ipmi-named-users-only-constructed.xml",
    script="ipmi-version",
    port=623,
    proto="udp",
    service="asf-rmcp",
    output="\n  Version: \n    IPMI-2.0\n  UserAuth: password, md5\n  PassAuth: auth_msg, auth_user, non_null_user\n  Level: 2.0",
    inner='<table key="Version">\n<elem>IPMI-2.0</elem>\n</table>\n<table key="UserAuth">\n<elem>password</elem>\n<elem>md5</elem>\n</table>\n<table key="PassAuth">\n<elem>auth_msg</elem>\n<elem>auth_user</elem>\n<elem>non_null_user</elem>\n</table>\n<table key="Level">\n<elem>2.0</elem>\n</table>\n',
)

# ADV-5313 iscsi-info
spec(
    "ADV-5313",
    "positive-iscsi-no-auth-constructed.xml",
    script="iscsi-info",
    port=3260,
    service="iscsi",
    output="\n  iqn.2003-01.org.linux-iscsi.lab:disk1: \n    Address: 192.0.2.10:3260,1\n    Authentication: NOT required",
    inner='<table key="iqn.2003-01.org.linux-iscsi.lab:disk1">\n<elem key="Address">192.0.2.10:3260,1</elem>\n<elem key="Authentication">NOT required</elem>\n</table>\n',
)
spec(
    "ADV-5313",
    "negative-iscsi-chap-constructed.xml",
    script="iscsi-info",
    port=3260,
    service="iscsi",
    output="\n  iqn.2003-01.org.linux-iscsi.lab:disk1: \n    Address: 192.0.2.10:3260,1\n    Authentication: required\n    Auth reason: Authentication failure",
    inner='<table key="iqn.2003-01.org.linux-iscsi.lab:disk1">\n<elem key="Address">192.0.2.10:3260,1</elem>\n<elem key="Authentication">required</elem>\n<elem key="Auth reason">Authentication failure</elem>\n</table>\n',
)

# ADV-5314 jdwp-info (runs on tcpwrapped ports)
spec(
    "ADV-5314",
    "positive-jdwp-info-constructed.xml",
    script="jdwp-info",
    port=8000,
    service="tcpwrapped",
    output=fmt(
        [
            "Available processors: 2",
            "Free memory: 15331736",
            "File system root: /",
            "Total space (bytes): 42935926784",
            "Free space (bytes): 29779054592",
            "Name of the OS: Linux",
            "OS Version : 6.1.0-28-amd64",
            "OS patch level : ",
            "OS Architecture: amd64",
            "Java version: 17.0.13",
            "Username: tomcat",
            "User home: /opt/tomcat",
            "System time: Fri Dec 04 01:00:05 UTC 2026",
        ]
    ),
)
spec(
    "ADV-5314",
    "negative-tcpwrapped-no-jdwp-constructed.xml",
    script="jdwp-info",
    port=8000,
    service="tcpwrapped",
    output=None,
)

# ADV-5315 ldap-search
spec(
    "ADV-5315",
    "positive-ldap-search-anonymous-constructed.xml",
    script="ldap-search",
    port=389,
    service="ldap",
    output="\n  Context: dc=example,dc=test\n    dn: uid=alice,ou=people,dc=example,dc=test\n        objectClass: inetOrgPerson\n        uid: alice\n        cn: Alice Doe\n        mail: alice@example.test\n    dn: uid=bob,ou=people,dc=example,dc=test\n        objectClass: inetOrgPerson\n        uid: bob\n        cn: Bob Roe",
)
spec(
    "ADV-5315",
    "negative-ldap-search-nothing-readable-constructed.xml",
    script="ldap-search",
    port=389,
    service="ldap",
    output=None,
)

# ADV-5316 mongodb-databases / mongodb-info (mongodb.queryResultToTable)
spec(
    "ADV-5316",
    "positive-mongodb-databases-constructed.xml",
    script="mongodb-databases",
    port=27017,
    service="mongodb",
    product="MongoDB",
    output=fmt(
        [
            "databases",
            "  0",
            "    name = admin",
            "    sizeOnDisk = 40960",
            "    empty = false",
            "  1",
            "    name = shop",
            "    sizeOnDisk = 8192000",
            "    empty = false",
            "totalSize = 8232960",
            "ok = 1.0",
        ]
    ),
)
spec(
    "ADV-5316",
    "positive-mongodb-info-constructed.xml",
    script="mongodb-info",
    port=27017,
    service="mongodb",
    product="MongoDB",
    output=fmt(
        [
            "MongoDB Build info",
            "  version = 4.4.29",
            "  bits = 64",
            "  ok = 1.0",
            "Server status",
            "  host = db1",
            "  version = 4.4.29",
            "  uptime = 747",
            "  connections",
            "    current = 1",
            "    available = 51199",
            "  ok = 1.0",
        ]
    ),
)
spec(
    "ADV-5316",
    "negative-mongodb-databases-auth-constructed.xml",
    script="mongodb-databases",
    port=27017,
    service="mongodb",
    product="MongoDB",
    output=fmt(
        [
            "ok = 0.0",
            "errmsg = command listDatabases requires authentication",
            "code = 13",
            "codeName = Unauthorized",
        ]
    ),
)
spec(
    "ADV-5316",
    "negative-mongodb-info-auth-constructed.xml",
    script="mongodb-info",
    port=27017,
    service="mongodb",
    product="MongoDB",
    output=fmt(
        [
            "MongoDB Build info",
            "  version = 6.0.19",
            "  bits = 64",
            "  ok = 1.0",
            "Server status",
            "  ok = 0.0",
            "  errmsg = command serverStatus requires authentication",
            "  code = 13",
            "  codeName = Unauthorized",
        ]
    ),
)

# ADV-5317 mqtt-subscribe (output_table "Topics and their most recent payloads")
spec(
    "ADV-5317",
    "positive-mqtt-subscribe-anonymous-constructed.xml",
    script="mqtt-subscribe",
    port=1883,
    service="mqtt",
    output="\n  Topics and their most recent payloads: \n    $SYS/broker/version: mosquitto version 1.6.12\n    $SYS/broker/uptime: 225478 seconds\n    home/frontdoor/lock: UNLOCKED",
    inner='<table key="Topics and their most recent payloads">\n<elem key="$SYS/broker/version">mosquitto version 1.6.12</elem>\n<elem key="$SYS/broker/uptime">225478 seconds</elem>\n<elem key="home/frontdoor/lock">UNLOCKED</elem>\n</table>\n',
)
spec(
    "ADV-5317",
    "negative-mqtt-not-authorized-constructed.xml",
    script="mqtt-subscribe",
    port=1883,
    service="mqtt",
    output="Connection rejected: Not Authorized",
    inner='<elem key="ERROR">Connection rejected: Not Authorized</elem>\n',
)

# ADV-5318 nfs-showmount / nfs-ls
spec(
    "ADV-5318",
    "positive-nfs-showmount-star-constructed.xml",
    script="nfs-showmount",
    port=111,
    service="rpcbind",
    output=fmt(["/srv/share *", "/home 192.0.2.0/255.255.255.0"]),
)
spec(
    "ADV-5318",
    "positive-nfs-ls-writable-constructed.xml",
    script="nfs-ls",
    port=111,
    service="rpcbind",
    output="\nVolume /srv/share\n  access: Read Lookup Modify Extend Delete NoExecute\nPERMISSION  UID   GID   SIZE  TIME                 FILENAME\ndrwxrwxrwx  0     0     4096  2026-12-01T10:00:00  .\n-rw-r--r--  1000  1000  5120  2026-12-01T10:00:00  notes.txt\n\n",
)
spec(
    "ADV-5318",
    "negative-nfs-showmount-restricted-constructed.xml",
    script="nfs-showmount",
    port=111,
    service="rpcbind",
    output=fmt(["/srv/share 192.0.2.0/255.255.255.0", "/home 192.0.2.20"]),
)

# ADV-5319 ntp-info (mode 4 + mode 6 READVAR)
spec(
    "ADV-5319",
    "positive-ntp-info-readvar-constructed.xml",
    script="ntp-info",
    port=123,
    proto="udp",
    service="ntp",
    output="\n  receive time stamp: 2026-12-04T01:00:03\n  version: ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)\n  processor: x86_64\n  system: Linux/5.10.0-28-amd64\n  leap: 0\n  stratum: 2\n  refid: 192.0.2.1",
    inner='<elem key="receive time stamp">2026-12-04T01:00:03</elem>\n<elem key="version">ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)</elem>\n<elem key="processor">x86_64</elem>\n<elem key="system">Linux/5.10.0-28-amd64</elem>\n<elem key="leap">0</elem>\n<elem key="stratum">2</elem>\n<elem key="refid">192.0.2.1</elem>\n',
)
spec(
    "ADV-5319",
    "negative-ntp-info-time-only-constructed.xml",
    script="ntp-info",
    port=123,
    proto="udp",
    service="ntp",
    output="\n  receive time stamp: 2026-12-04T01:00:03",
    inner='<elem key="receive time stamp">2026-12-04T01:00:03</elem>\n',
)

# ADV-5320 rpcap-info
spec(
    "ADV-5320",
    "positive-rpcap-info-constructed.xml",
    script="rpcap-info",
    port=2002,
    service="rpcap",
    output=fmt(
        [
            "\\Device\\NPF_{0D5D1364-1F1F-4892-8AC3-B838258F9BB8}",
            "  Intel(R) PRO/1000 MT Desktop Adapter",
            "  Addresses",
            "      192.0.2.10/24",
        ]
    ),
)
spec(
    "ADV-5320",
    "negative-rpcap-auth-required-constructed.xml",
    script="rpcap-info",
    port=2002,
    service="rpcap",
    output=None,
)

# ADV-5321 rsync-list-modules (format_output of the module lines "name<spaces>\tcomment")
spec(
    "ADV-5321",
    "positive-rsync-modules-constructed.xml",
    script="rsync-list-modules",
    port=873,
    service="rsync",
    output=fmt(["www            \twww directory", "backup         \tnightly backups"]),
)
spec(
    "ADV-5321",
    "negative-rsync-no-listed-modules-constructed.xml",
    script="rsync-list-modules",
    port=873,
    service="rsync",
    output=None,
)

# ADV-5322 socks-open-proxy / socks-auth-info
spec(
    "ADV-5322",
    "positive-socks-open-proxy-constructed.xml",
    script="socks-open-proxy",
    port=1080,
    service="socks5",
    output="\n  status: open\n  versions: \n    socks4\n    socks5",
    inner='<elem key="status">open</elem>\n<table key="versions">\n<elem>socks4</elem>\n<elem>socks5</elem>\n</table>\n',
)
spec(
    "ADV-5322",
    "negative-socks-auth-info-password-constructed.xml",
    script="socks-auth-info",
    port=1080,
    service="socks5",
    output="\n  Username and password",
    inner='<table>\n<elem key="method">2</elem>\n<elem key="name">Username and password</elem>\n</table>\n',
)

# ADV-5323 x11-access (hostrule; output "X server access is granted", xml "true")
spec(
    "ADV-5323",
    "positive-x11-access-constructed.xml",
    script="x11-access",
    port=6000,
    service="X11",
    where="host",
    output="X server access is granted",
)
spec(
    "ADV-5323",
    "negative-x11-access-denied-constructed.xml",
    script="x11-access",
    port=6000,
    service="X11",
    where="host",
    output=None,
)

# ADV-5324 xdmcp-discover
spec(
    "ADV-5324",
    "positive-xdmcp-discover-constructed.xml",
    script="xdmcp-discover",
    port=177,
    proto="udp",
    service="xdmcp",
    output=fmt(
        [
            "Session id: 0x0000703E",
            "Authorization name: MIT-MAGIC-COOKIE-1",
            "Authorization data: c282137c9bf8e2af88879e6eaa922326",
        ]
    ),
)
spec(
    "ADV-5324",
    "negative-xdmcp-disabled-constructed.xml",
    script="xdmcp-discover",
    port=177,
    proto="udp",
    service="xdmcp",
    output=None,
)

# ADV-5325 nbns-interfaces (hostrule, output_table hostname + interfaces)
spec(
    "ADV-5325",
    "positive-nbns-interfaces-multihomed-constructed.xml",
    script="nbns-interfaces",
    port=137,
    proto="udp",
    service="netbios-ns",
    where="host",
    output="\n  hostname: FILESRV01\n  interfaces: \n    192.0.2.10\n    10.20.30.5\n    172.24.80.1",
    inner='<elem key="hostname">FILESRV01</elem>\n<table key="interfaces">\n<elem>192.0.2.10</elem>\n<elem>10.20.30.5</elem>\n<elem>172.24.80.1</elem>\n</table>\n',
)
spec(
    "ADV-5325",
    "negative-nbns-interfaces-single-constructed.xml",
    script="nbns-interfaces",
    port=137,
    proto="udp",
    service="netbios-ns",
    where="host",
    output="\n  hostname: FILESRV01\n  interfaces: \n    192.0.2.10",
    inner='<elem key="hostname">FILESRV01</elem>\n<table key="interfaces">\n<elem>192.0.2.10</elem>\n</table>\n',
)

# ADV-5326 quake1-info
spec(
    "ADV-5326",
    "positive-quake1-info-constructed.xml",
    script="quake1-info",
    port=26000,
    proto="udp",
    service="quake",
    output="\n  server info exchange payload amplification: 59/12=4.916667\n  listen address: 192.0.2.10:26000\n  server name: lab server\n  level name: dm1\n  players: 0/8\n  protocol version: released (0x3)",
    inner='<elem key="server_ratio">59/12=4.916667</elem>\n<elem key="listen_address">192.0.2.10:26000</elem>\n<elem key="server_name">lab server</elem>\n<elem key="level_name">dm1</elem>\n<elem key="players">0/8</elem>\n<elem key="protocol_version">released (0x3)</elem>\n',
)
spec(
    "ADV-5326",
    "negative-quake-port-silent-constructed.xml",
    script="quake1-info",
    port=26000,
    proto="udp",
    service="quake",
    output=None,
)

# ADV-5327 telnet-encryption (returns "\n  Telnet server supports encryption" or "... does not support ...")
spec(
    "ADV-5327",
    "positive-telnet-encryption-constructed.xml",
    script="telnet-encryption",
    port=23,
    service="telnet",
    output="\n  Telnet server supports encryption",
)
spec(
    "ADV-5327",
    "negative-telnet-no-encryption-constructed.xml",
    script="telnet-encryption",
    port=23,
    service="telnet",
    output="\n  Telnet server does not support encryption",
)

# ADV-5328 xmpp-info (output_table: name-handling line, info / pre_tls / post_tls from factor())
spec(
    "ADV-5328",
    "positive-xmpp-plain-before-tls-constructed.xml",
    script="xmpp-info",
    port=5222,
    service="jabber",
    output="\n  Respects server name\n  info: \n    xmpp: \n      version: 1.0\n  pre_tls: \n    xmpp: \n    features: \n      TLS\n    auth_mechanisms: \n      PLAIN\n      SCRAM-SHA-1\n  post_tls: \n    xmpp: \n    auth_mechanisms: \n      SCRAM-SHA-1-PLUS",
    inner='<elem>Respects server name</elem>\n<table key="info">\n<table key="xmpp">\n<elem key="version">1.0</elem>\n</table>\n</table>\n<table key="pre_tls">\n<table key="xmpp">\n</table>\n<table key="features">\n<elem>TLS</elem>\n</table>\n<table key="auth_mechanisms">\n<elem>PLAIN</elem>\n<elem>SCRAM-SHA-1</elem>\n</table>\n</table>\n<table key="post_tls">\n<table key="xmpp">\n</table>\n<table key="auth_mechanisms">\n<elem>SCRAM-SHA-1-PLUS</elem>\n</table>\n</table>\n',
)
spec(
    "ADV-5328",
    "negative-xmpp-auth-only-after-tls-constructed.xml",
    script="xmpp-info",
    port=5222,
    service="jabber",
    output="\n  Respects server name\n  info: \n    xmpp: \n      version: 1.0\n  pre_tls: \n    features: \n      TLS\n  post_tls: \n    auth_mechanisms: \n      PLAIN\n      SCRAM-SHA-1",
    inner='<elem>Respects server name</elem>\n<table key="info">\n<table key="xmpp">\n<elem key="version">1.0</elem>\n</table>\n</table>\n<table key="pre_tls">\n<table key="features">\n<elem>TLS</elem>\n</table>\n</table>\n<table key="post_tls">\n<table key="auth_mechanisms">\n<elem>PLAIN</elem>\n<elem>SCRAM-SHA-1</elem>\n</table>\n</table>\n',
)

# ADV-5329 oracle-enum-users / domino-enum-users / ncp-enum-users
spec(
    "ADV-5329",
    "positive-oracle-enum-users-constructed.xml",
    script="oracle-enum-users",
    port=1521,
    service="oracle-tns",
    output=fmt(["scott is a valid user account", "system is a valid user account"]),
)
spec(
    "ADV-5329",
    "positive-domino-enum-users-constructed.xml",
    script="domino-enum-users",
    port=1352,
    service="lotusnotes",
    output=fmt(
        [
            'User "admin" found, but no ID file could be downloaded',
            'Successfully retrieved ID for "jdoe" (to store set the domino-enum-users.path argument)',
        ]
    ),
)
spec(
    "ADV-5329",
    "positive-ncp-enum-users-constructed.xml",
    script="ncp-enum-users",
    port=524,
    service="ncp",
    output=fmt(["CN=admin.O=example", "CN=jdoe.OU=finance.O=example"]),
)
spec(
    "ADV-5329",
    "negative-oracle-enum-users-patched-constructed.xml",
    script="oracle-enum-users",
    port=1521,
    service="oracle-tns",
    output=fmt(["Failed to find any valid user accounts"]),
)
spec(
    "ADV-5329",
    "negative-domino-enum-users-none-constructed.xml",
    script="domino-enum-users",
    port=1352,
    service="lotusnotes",
    output=fmt(["Guessed 40 usernames, none were found"]),
)

# ADV-5330 sip-enum-users (brute.lua output: Accounts, Statistics)
spec(
    "ADV-5330",
    "positive-sip-enum-users-constructed.xml",
    script="sip-enum-users",
    port=5060,
    proto="udp",
    service="sip",
    output=fmt(
        [
            "Accounts: ",
            "  101: Auth required",
            "  120: No auth",
            "Statistics: ",
            "  Performed 1000 guesses in 50 seconds, average tps: 20",
        ]
    ),
)
spec(
    "ADV-5330",
    "negative-sip-enum-users-none-constructed.xml",
    script="sip-enum-users",
    port=5060,
    proto="udp",
    service="sip",
    output=None,
)


if __name__ == "__main__":
    for entry, files in SPECS.items():
        for name, kw in files.items():
            (SAMPLES / entry).mkdir(exist_ok=True)
            (SAMPLES / entry / name).write_text(build(**kw), encoding="utf-8")  # type: ignore[arg-type]
            print(entry, name)
