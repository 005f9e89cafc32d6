# Lab emulator on 127.0.0.1 only. It imitates the *responses* of vulnerable products so that the
# real nmap scripts produce their real output. Nothing is executed and no real file is read:
# every "leaked" file is a fixed fake string defined below.
import base64, html, re, sys, json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs, unquote
MODE, PORT = sys.argv[1], int(sys.argv[2])
FAKE_PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
FAKE_SHADOW = "root:$1$$zdlNHiCDxYDfeF4MZL.H3/:10933:0:99999:7:::\nAdmin:$1$$zdlNHiCDxYDfeF4MZL.H3/:10933:0:99999:7:::\nbin::10933:0:99999:7:::\n"
COMMENTS = []
UPLOADS = {}
INDEX = """<html><head><title>lab emulator</title></head><body>
<a href="/guestbook">guestbook</a> <a href="/api/contacts">contacts</a> <a href="/item?id=1">item</a>
<a href="/private/">private</a> <a href="/test.php">php</a> <a href="/upload.html">upload</a>
<!-- router login id=4242 -->
</body></html>"""
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LabEmu/1.0"
    def version_string(self):
        return {"iis": "Microsoft-IIS/8.5", "dlink": "thttpd-alphanetworks/2.23", "rompager": "RomPager/4.07 UPnP/1.0",
                "amt": "Intel(R) Active Management Technology 8.1.40"}.get(MODE, self.server_version)
    def send(self, code, body, ctype="text/html", extra=()):
        b = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in extra: self.send_header(k, v)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(b)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def do_TRACE(self):
        raw = self.requestline + "\r\n" + "".join("%s: %s\r\n" % kv for kv in self.headers.items())
        self.send(200, raw, "message/http")
    def do_DEBUG(self):
        if MODE == "iis" and self.headers.get("Command") == "stop-debug": return self.send(200, "OK", "text/html")
        return self.send(501, "not implemented")
    def do_HEAD(self): self.route()
    def do_GET(self): self.route()
    def do_POST(self): self.route(self.body())
    def do_PROPFIND(self): self.send(501, "not implemented")
    def route(self, data=b""):
        p = re.sub(r'^/+', '/', re.sub(r'^https?://[^/]+', '', self.path)); u = urlparse(p); q = parse_qs(u.query); up = unquote(u.path)
        ua = self.headers.get("User-Agent", "")
        if MODE == "iis":
            if self.headers.get("Range") == "bytes=0-18446744073709551615":
                return self.send(416, "<h2>Requested Range Not Satisfiable</h2>", extra=[("Content-Range", "bytes */5")])
            return self.send(200, "<html><body>IIS lab</body></html>") if u.path == "/" else self.send(404, "not found")
        if MODE == "dlink":
            if ua == "xmlset_roodkcableoj28840ybtide": return self.send(200, "<html><body>DIR-100 setup</body></html>")
            return self.send(401, "Unauthorized", extra=[("WWW-Authenticate", 'Basic realm="DIR-100"')])
        if MODE == "rompager":
            ck = self.headers.get("Cookie", "")
            m = re.search(r"C107373883=(\S+)", ck)
            shown = m.group(1) if m else u.path
            if u.path == "/" and not m: return self.send(200, "<html><body>router</body></html>")
            ref = self.headers.get("Referer", "")
            return self.send(404, "<html><head><title>Object Not Found</title></head><body><h1>Object Not Found</h1>The requested URL '%s' was not found on the RomPager server.<p>Return to <A HREF=\"%s\">last page</A><p></body></html>" % (shown, ref))
        if MODE == "amt":
            if u.path == "/index.htm":
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Digest") and 'response=""' in auth: return self.send(200, "<html><body>Intel AMT web ui</body></html>")
                return self.send(401, "Unauthorized", extra=[("WWW-Authenticate", 'Digest realm="Digest:A3829B3827DE4D33D4449B366831FD01", nonce="ayNlQQAAAAAAAAAAAAAAAAAAAAA=", stale="false", qop="auth"')])
            return self.send(404, "not found")
        # ---------------- generic mode ----------------
        if self.request_version == "HTTP/1.0" and "Host" not in self.headers and u.path == "/images":
            return self.send(302, "moved", extra=[("Location", "http://10.20.30.40/images/")])
        for h in ("User-Agent", "Referer", "Cookie"):   # shellshock: emulate only "echo; echo -n A; echo B"
            m = re.match(r"\(\) \{ :;\}; echo; echo -n (\w+); echo (\w+)$", self.headers.get(h, ""))
            if m: return self.send(200, "\n%s%s\n" % (m.group(1), m.group(2)), "text/plain")
        ct = self.headers.get("Content-Type", "")
        m = re.search(r"addHeader\('X-Check-Struts', '(\w+)'\)", ct)
        if m: return self.send(200, INDEX, extra=[("X-Check-Struts", m.group(1))])
        if self.command == "POST" and u.path == "/" and ct == "application/xml":
            s = data.decode(errors="replace")
            return self.send(500 if "^@" in s or "\x00" in s or "object:^" in s else 200, "<ok/>", "application/xml")
        if u.path == "/" and "author" in q:
            return self.send(301, "", extra=[("Location", "http://127.0.0.1:%d/author/%s/" % (PORT, {"1": "admin", "2": "editor"}.get(q["author"][0], "x")))]) if q["author"][0] in ("1", "2") else self.send(404, "no")
        if u.path == "/":
            return self.send(200, INDEX)
        if u.path == "/wp-login.php": return self.send(200, "<html><body><form id='loginform'></form></body></html>")
        if u.path == "/guestbook":
            if self.command == "POST":
                COMMENTS.extend(parse_qs(data.decode(errors="replace")).get("text", []))
                return self.send(200, "<html><body>thanks</body></html>")
            return self.send(200, '<html><body><form action="/guestbook" method="post"><input type="text" name="text" value=""><input type="submit" value="Post"></form>' + "".join("<p>%s</p>" % c for c in COMMENTS) + "</body></html>")
        if u.path == "/api/contacts":
            cb = (q.get("callback") or [None])[0]
            if cb: return self.send(200, '%s({"contacts": [{"name": "a"}]});' % cb, "application/javascript")
            return self.send(200, '{"contacts": [{"name": "a"}]}', "application/json")
        if u.path == "/item":
            i = (q.get("id") or [""])[0]
            if "'" in i: return self.send(200, "<html><body>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version</body></html>")
            return self.send(200, "<html><body>item %s</body></html>" % html.escape(i))
        if u.path.startswith("/private/"):
            if self.command == "GET": return self.send(401, "auth required", extra=[("WWW-Authenticate", 'Basic realm="private"')])
            return self.send(200, "secret area")
        if up.startswith("/test.php"):   # echoes PHP_SELF unescaped
            return self.send(200, "<html><body><form action=\"%s\" method=\"post\"></form></body></html>" % up)
        if u.path == "/upload.html":
            return self.send(200, "<html><body><form action='/upload' method='post' enctype='multipart/form-data'><input type='file' name='userfile'><input type='submit' value='Upload'></form></body></html>")
        if u.path == "/upload" and self.command == "POST":
            for m in re.finditer(rb'filename="([^"]+)"', data): UPLOADS[m.group(1).decode()] = True
            return self.send(200, "<html><body>uploaded</body></html>")
        if u.path.startswith("/uploads/") and u.path[9:] in UPLOADS:
            return self.send(200, "777777" if re.search(r"\.php\d?$", u.path) else "file")
        if u.path == "/help/../../etc/shadow": return self.send(200, "<HTML><HEAD><META http-equiv=Content-Type content=\"text/html; charset=iso-8859-1\"></HEAD><SCRIPT>\n" + FAKE_SHADOW, "text/html")
        if "etc/passwd" in up and (".." in up or up.startswith("//")) and not up.startswith("/cgi-bin") and not up.startswith("/unauth") and not up.startswith("/sdk"):
            return self.send(200, FAKE_PASSWD, "text/plain")
        if u.path == "/Listadeparametros.html":
            rows = [("Usuario PPPoE:", "usuario@prodigy"), ("Modelo de m\u00f3dem:", "EchoLife HG530"), ("Versi\u00f3n de Firmware:", "V100R001B122gTelmex"),
                    ("Puerta de Enlace de Internet:", "203.0.113.1"), ("IP de Internet del m\u00f3dem:", "203.0.113.77"), ("DNS Primario:", "192.0.2.53"),
                    ("DNS Secundario:", "192.0.2.54"), ("Segmento de Red Local:", "192.168.1.0"), ("Conexiones Ethernet Activas:", "0"),
                    ("Conexiones Inal\u00e1mbricas Activas:", "3"), ("Nombre de Red Inal\u00e1mbrica (SSID):", "INFINITUM1234"), ("Encriptaci\u00f3n Activada (0: No, 1:S\u00ed):", "1")]
            return self.send(200, ("<table>" + "".join("<tr><TD>%s</td><TD class=tablerowvalue>\n%s</td></tr><tr>" % r for r in rows) + "</table>").encode("utf-8"))
        if u.path == "/wanfun.js": return self.send(200, 'var pwdppp = "fakepppoe";', "application/javascript")
        if u.path == "/system/user/scn_user_list":
            return self.send(200, "<response><data_source>IPOFFICE/7.0(27) 192.0.2.20</data_source><user><name>JDoe</name><fname>John Doe</fname><extn>211</extn></user><user><name>ASmith</name><fname>Ann Smith</fname><extn>212</extn></user></response>", "text/xml")
        if u.path == "/jmx-console/": return self.send(200, "<html><head><title>JBoss JMX Management Console</title></head><body>JMX Agent View</body></html>")
        if u.path.startswith("/unauthenticated/"): return self.send(200, FAKE_PASSWD, "text/plain")
        if "/res/I18nMsg" in u.path:
            skin = (q.get("skin") or [""])[0]
            return self.send(200, "x" * (400 if "passwd" in skin else 20), "application/x-javascript")
        if u.path == "/CFIDE/administrator/enter.cfm":
            return self.send(200, '<input name="salt" type="hidden" value="1329446896585">\n#Wed Mar 22 20:53:51 EET 2006 rdspassword=0IA/F[[E>[$_6& \\\\Q>[K\\=XP  \npassword=5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8\nencrypted=true')
        if u.path == "/CFIDE/adminapi/administrator.cfc":
            return self.send(200, "<wddxPacket version='1.0'><header/><data><boolean value='true'/></data></wddxPacket>", extra=[("Set-Cookie", "CFAUTHORIZATION_cfadmin=" + base64.b64encode(b"interactive\r\nAA251FD567358F16B7DE3F3B22DE8193A7517CD0\r\ncfadmin").decode() + "; Path=/")])
        if u.path == "/cmdownloads/":
            m = re.search(r'base64_decode\("([^"]+)"\)', unquote((q.get("CMDsearch") or [""])[0]))
            if m: return self.send(200, "<html><body>results for %s</body></html>" % base64.b64decode(m.group(1)).decode())
        if u.path == "/index.php" and q.get("option") == ["com_fields"]:
            return self.send(500, "<html><body>1105 XPATH syntax error: '\\joomla@localhost' SQL=SELECT ...</body></html>")
        if u.path == "/index.php" and "sort" in q:
            return self.send(200, "www-data\n", "text/plain")
        if u.path == "/index.php" and not q:
            return self.send(200, "<html><body>AWStats Totals</body></html>")
        if u.path == "/index.php/wp-json/wp/v2/posts/":
            return self.send(200, json.dumps([{"id": 1, "date": "2017-01-20T10:00:00"}]), "application/json")
        if u.path.startswith("/index.php/wp-json/wp/v2/posts/1/") and self.command == "POST":
            return self.send(200, json.dumps({"id": 1}), "application/json")
        if u.path == "/cgi-bin/mj_wwwusr":
            return self.send(200, "<html><body><pre>" + FAKE_PASSWD + "<!-- Majordomo help_foot format file -->\n</pre></body></html>")
        if u.path == "/phpMyAdmin-2.6.4-pl1/libraries/grab_globals.lib.php" and self.command == "POST":
            return self.send(200, FAKE_PASSWD, "text/plain")
        if u.path == "/axis2/services/listServices":
            return self.send(200, "<html><body><h2>Available services</h2><h4>Service Description : <font color=\"black\">Version</font></h4></body></html>")
        if u.path == "/axis2/services/Version" and "xsd" in q:
            return self.send(200, '<axisconfig name="AxisJava2.0"><parameter name="userName">admin</parameter><parameter name="password">axis2</parameter></axisconfig>', "text/xml")
        if up.startswith("/sdk/") and "vmInventory.xml" in up:
            return self.send(200, '<ConfigRoot><ConfigEntry id="0000"><objID>16</objID><vmxCfgPath>/vmfs/volumes/datastore1/web01/web01.vmx</vmxCfgPath></ConfigEntry></ConfigRoot>', "text/xml")
        if u.path == "/_vti_inf.html":
            return self.send(200, '<!-- FrontPage Configuration Information\nFPVersion="5.0.2.2623"\nFPShtmlScriptUrl="_vti_bin/shtml.dll/_vti_rpc"\nFPAuthorScriptUrl="_vti_bin/_vti_aut/author.dll"\n-->')
        if u.path == "/_vti_bin/_vti_aut/author.dll" and self.command == "POST":
            return self.send(200, "<html><head><title>vermeer RPC packet</title></head><body><p>method=open service:5.0.2.2623</body></html>")
        if u.path.endswith("messagebroker/http") and self.command == "POST":
            return self.send(200, '<?xml version="1.0" encoding="utf-8"?><amfx ver="3"><body targetURI="/onResult" responseURI=""><object type="flex.messaging.messages.AcknowledgeMessage"><traits><string>body</string></traits><string>' + html.escape(FAKE_PASSWD) + '</string><null/></object></body></amfx>', "application/x-amf")
        if u.path == "/passwordrecovered.cgi" and self.command == "POST":
            return self.send(200, '<tr><td>Router Admin Username</td><td align="left">admin</td></tr><tr><td>Router Admin Password</td><td align="left">fakepass</td></tr><tr><td class="MNUText">')
        return self.send(404, "<html><body>not found</body></html>")
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
