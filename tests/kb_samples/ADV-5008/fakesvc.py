"""Tiny protocol emulators for capturing nmap NSE output on 127.0.0.1 only (advisor kb samples)."""
import socket, sys, threading, time

MODE = sys.argv[1]

def serve(port, handler):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(20)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=wrap, args=(handler, c), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()

def wrap(h, c):
    try:
        h(c)
    except OSError:
        pass
    finally:
        try: c.close()
        except OSError: pass

def shell6200(c):
    f = c.makefile("rb")
    while True:
        line = f.readline()
        if not line: return
        cmd = line.strip()
        if cmd == b"id":
            c.sendall(b"uid=0(root) gid=0(root)\n")
        elif cmd == b"exit":
            return

backdoor_open = threading.Event()

def vsftpd(c, banner, backdoored):
    f = c.makefile("rb")
    c.sendall(banner)
    while True:
        line = f.readline()
        if not line: return
        up = line.strip().upper()
        if up.startswith(b"USER"):
            if backdoored and b":)" in line and not backdoor_open.is_set():
                backdoor_open.set(); serve(6200, shell6200)
            c.sendall(b"331 Please specify the password.\r\n")
        elif up.startswith(b"PASS"):
            time.sleep(0.2); c.sendall(b"530 Login incorrect.\r\n")
        elif up.startswith(b"QUIT"):
            c.sendall(b"221 Goodbye.\r\n"); return
        else:
            c.sendall(b"530 Please login with USER and PASS.\r\n")

def proftpd(c, backdoored):
    f = c.makefile("rb")
    c.sendall(b"220 ProFTPD 1.3.3c Server (ProFTPD Default Installation) [127.0.0.1]\r\n")
    shell = False
    while True:
        line = f.readline()
        if not line: return
        if shell:
            if line.strip().rstrip(b";") == b"id":
                c.sendall(b"uid=0(root) gid=0(root) groups=0(root),65534(nogroup)\n")
            continue
        if line.strip().upper() == b"HELP ACIDBITCHEZ" and backdoored:
            shell = True  # the backdoor silently spawns a root shell on the control connection
            continue
        if line.strip().upper().startswith(b"HELP"):
            c.sendall(b"502 Unknown command 'ACIDBITCHEZ'\r\n")
        elif line.strip().upper().startswith(b"QUIT"):
            c.sendall(b"221 Goodbye.\r\n"); return
        else:
            c.sendall(b"530 Please login with USER and PASS\r\n")

def netbus(c, anypass):
    c.sendall(b"NetBus 1.70\r")
    buf = b""
    while True:
        d = c.recv(1024)
        if not d: return
        buf += d
        while b"\r" in buf:
            msg, buf = buf.split(b"\r", 1)
            if msg.startswith(b"Password;1;"):
                pw = msg[len(b"Password;1;"):]
                c.sendall(b"Access;1\r" if (anypass or pw == b"") else b"Access;0\r")

def netbus_locked(c):
    c.sendall(b"NetBus 1.70\r")
    while c.recv(1024):
        c.sendall(b"Access;0\r")

def clamd(c, exposed):
    d = c.recv(1024)
    if not d: return
    if exposed and d.startswith(b"SCAN "):
        path = d[5:].strip()
        c.sendall(path + b": lstat() failed: No such file or directory. ERROR\n")
    else:
        c.sendall(b"UNKNOWN COMMAND\n")

def qconn(c):
    c.sendall(b"QCONN\r\n")
    d = c.recv(4096)
    if d.startswith(b"service launcher"):
        c.sendall(b"OK 200708\r\nLinux-like QNX qnxhost 6.5.0 2010/07/09-14:44:03EDT x86pc x86\r\n")

if MODE == "vsftpd-backdoor": serve(21, lambda c: vsftpd(c, b"220 (vsFTPd 2.3.4)\r\n", True))
elif MODE == "vsftpd-clean": serve(21, lambda c: vsftpd(c, b"220 (vsFTPd 2.3.4)\r\n", False))
elif MODE == "proftpd-backdoor": serve(21, lambda c: proftpd(c, True))
elif MODE == "proftpd-clean": serve(21, lambda c: proftpd(c, False))
elif MODE == "netbus-anypass": serve(12345, lambda c: netbus(c, True))
elif MODE == "netbus-emptypass": serve(12345, lambda c: netbus(c, False))
elif MODE == "netbus-locked": serve(12345, lambda c: netbus_locked(c))
elif MODE == "clamd-exposed": serve(3310, lambda c: clamd(c, True))
elif MODE == "clamd-locked": serve(3310, lambda c: clamd(c, False))
elif MODE == "qconn": serve(8000, qconn)
elif MODE == "qconn-clean": serve(8000, lambda c: (c.sendall(b"QCONN\r\n"), c.recv(4096), c.sendall(b"ERROR permission denied\r\n")))
while True: time.sleep(3600)
