# NOTE: the scan recorded in ADV-3026/3017/3018/3021 samples ran against this app with the SQL error answered as 500; it was later changed to 200 (http-sql-injection ignores 500 responses).
# Lab web app on 127.0.0.1 only: deliberately weak behaviours for nmap http-* scripts.
import html, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
COMMENTS = []
INDEX = """<html><head><title>lab app</title></head><body>
<a href="/guestbook">guestbook</a> <a href="/api/contacts">contacts</a> <a href="/item?id=1">item</a> <a href="/private/">private</a>
</body></html>"""
class H(BaseHTTPRequestHandler):
    server_version = "LabApp/1.0"
    def send(self, code, body, ctype="text/html", extra=()):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in extra: self.send_header(k, v)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(b)
    def do_TRACE(self):  # like Apache "TraceEnable On": echo the request
        raw = self.requestline + "\r\n" + "".join("%s: %s\r\n" % kv for kv in self.headers.items())
        self.send(200, raw, "message/http")
    def do_HEAD(self): self.route()
    def do_GET(self): self.route()
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = parse_qs(self.rfile.read(n).decode(errors="replace"))
        if self.path.startswith("/guestbook"):
            COMMENTS.extend(data.get("text", []))   # stored without escaping (the bug)
            return self.send(200, "<html><body>thanks <a href='/guestbook'>back</a></body></html>")
        self.route()
    def route(self):
        u = urlparse(self.path); q = parse_qs(u.query)
        if self.request_version == "HTTP/1.0" and "Host" not in self.headers:
            return self.send(302, "moved", extra=[("Location", "http://10.20.30.40%s" % u.path)])
        if u.path == "/":
            return self.send(200, INDEX)
        if u.path == "/guestbook":
            body = "<html><body><form action='/guestbook' method='post'><input type='text' name='text' value=''><input type='submit' value='Post'></form>" + "".join("<p>%s</p>" % c for c in COMMENTS) + "</body></html>"
            return self.send(200, body)
        if u.path == "/api/contacts":
            cb = (q.get("callback") or [None])[0]
            if cb: return self.send(200, '%s({"contacts": [{"name": "a"}]});' % cb, "application/javascript")
            return self.send(200, '{"contacts": [{"name": "a"}]}', "application/json")
        if u.path == "/item":
            i = (q.get("id") or [""])[0]
            if "'" in i: return self.send(200, "<html><body>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version</body></html>")
            return self.send(200, "<html><body>item %s</body></html>" % html.escape(i))
        if u.path.startswith("/private/"):
            if self.command == "GET":  # only GET is protected (the verb-tampering bug)
                return self.send(401, "auth required", extra=[("WWW-Authenticate", 'Basic realm="private"')])
            return self.send(200, "secret area")
        return self.send(404, "not found")
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
