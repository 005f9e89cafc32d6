"""Minimal SMTP emulator for capturing nmap NSE output on 127.0.0.1 only."""
import socket, sys, threading

MODE, PORT = sys.argv[1], int(sys.argv[2])
BANNERS = {
    "exim469": "220 mail.lab.test ESMTP Exim 4.69 Fri, 27 Nov 2026 23:50:00 +0000",
    "exim471": "220 mail.lab.test ESMTP Exim 4.71 Fri, 27 Nov 2026 23:50:00 +0000",
    "exim496": "220 mail.lab.test ESMTP Exim 4.96 Fri, 27 Nov 2026 23:50:00 +0000",
    "exim474dkimcrash": "220 mail.lab.test ESMTP Exim 4.74 Fri, 27 Nov 2026 23:50:00 +0000",
    "exim474": "220 mail.lab.test ESMTP Exim 4.74 Fri, 27 Nov 2026 23:50:00 +0000",
    "postfixsaslcrash": "220 mail.lab.test ESMTP Postfix",
    "postfixsaslok": "220 mail.lab.test ESMTP Postfix",
    "openrelay": "220 mail.lab.test ESMTP Postfix",
    "closedrelay": "220 mail.lab.test ESMTP Postfix",
}

def handle(conn):
    f = conn.makefile("rb")
    def send(s):
        conn.sendall((s + "\r\n").encode())
    try:
        send(BANNERS[MODE])
        in_data = False
        auth_count = 0
        while True:
            line = f.readline()
            if not line:
                return
            if in_data:
                if line.rstrip(b"\r\n") == b".":
                    in_data = False
                    if MODE == "exim474dkimcrash":
                        return  # child dies: connection closed
                    send("250 OK id=1abcde-000001-AB")
                continue
            cmd = line.decode("latin-1").strip()
            up = cmd.upper()
            if not cmd:
                continue
            if not cmd[:1].isalpha() and cmd != "*":
                return  # TLS hello or garbage
            if up.startswith("EHLO") or up.startswith("HELO"):
                ext = ["250-mail.lab.test Hello nmap.scanme.org [127.0.0.1]", "250-SIZE 52428800", "250-PIPELINING"]
                if MODE.startswith("postfixsasl"):
                    ext.append("250-AUTH CRAM-MD5 DIGEST-MD5 PLAIN LOGIN")
                ext.append("250 HELP")
                send("\r\n".join(ext))
            elif up.startswith("AUTH"):
                auth_count += 1
                if MODE == "postfixsaslcrash" and "DIGEST-MD5" in up:
                    return  # smtpd child crashes (SIGSEGV): connection closed
                send("334 PDEyMzQ1Njc4OTAuMTIzNDU2QG1haWwubGFiLnRlc3Q+")
            elif cmd == "*":
                send("501 5.7.0 Authentication aborted")
            elif up.startswith("MAIL"):
                send("250 2.1.0 Ok")
            elif up.startswith("RCPT"):
                if MODE == "closedrelay":
                    send("554 5.7.1 <%s>: Relay access denied" % cmd.split(":", 1)[1].strip(" <>"))
                else:
                    send("250 2.1.5 Ok")
            elif up.startswith("DATA"):
                in_data = True
                send("354 End data with <CR><LF>.<CR><LF>")
            elif up.startswith("RSET"):
                send("250 2.0.0 Ok")
            elif up.startswith("QUIT"):
                send("221 2.0.0 Bye")
                return
            else:
                send("502 5.5.2 Error: command not recognized")
    except OSError:
        return
    finally:
        conn.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(20)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
