"""A minimal SSH protocol 1 greeter on 127.0.0.1, for capturing nmap's ``sshv1`` and
``ssh-hostkey`` output against an SSH-1 server (no SSH-1 server can run here: OpenSSH removed
protocol 1 from sshd in 7.4 and the code in 7.6; Debian 12 ships 9.2).

    python tests/kb_samples/ADV-5100/tools/fakesshv1.py PORT

For each connection: send the banner ``SSH-1.5-OpenSSH_3.9p1``, read the client's banner,
send one well-formed SSH_SMSG_PUBLIC_KEY packet (RFC-draft "The SSH (Secure Shell) Remote
Login Protocol" 1.5, section "SSH_SMSG_PUBLIC_KEY"): 4-byte length, 1..8 zero padding bytes
(plaintext packets, as before encryption), type 2, an 8-byte cookie, a 768-bit server key and
a 1024-bit host key (fresh RSA keys from ``openssl genrsa``), protocol flags, cipher and
authentication masks, CRC-32. Then wait for the client to close. Nothing else of the protocol
is implemented: it is exactly what nmap's sshv1.nse and nselib/ssh1.lua read.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import zlib

BANNER = b"SSH-1.5-OpenSSH_3.9p1\r\n"


def _rsa(bits: int) -> tuple[int, int]:
    """(exponent, modulus) of a fresh RSA key from the openssl command line."""
    pem = subprocess.run(["openssl", "genrsa", str(bits)], capture_output=True, check=True).stdout
    text = subprocess.run(
        ["openssl", "rsa", "-noout", "-modulus"], input=pem, capture_output=True, check=True
    ).stdout.decode()
    return 65537, int(text.strip().split("=", 1)[1], 16)


def _mpint1(value: int) -> bytes:
    """SSH-1 multiple-precision integer: 16-bit bit count, then the big-endian bytes."""
    bits = value.bit_length()
    return struct.pack(">H", bits) + value.to_bytes((bits + 7) // 8, "big")


def public_key_packet(server_key: tuple[int, int], host_key: tuple[int, int]) -> bytes:
    body = bytes([2]) + os.urandom(8)
    body += struct.pack(">I", server_key[1].bit_length()) + _mpint1(server_key[0])
    body += _mpint1(server_key[1])
    body += struct.pack(">I", host_key[1].bit_length()) + _mpint1(host_key[0])
    body += _mpint1(host_key[1])
    # protocol flags 0; ciphers: 3DES (3) and Blowfish (6); auth: RSA (2) and password (3)
    body += struct.pack(">III", 0, (1 << 3) | (1 << 6), (1 << 2) | (1 << 3))
    length = len(body) + 4
    padding = b"\0" * (8 - length % 8)
    crc = zlib.crc32(padding + body) & 0xFFFFFFFF
    return struct.pack(">I", length) + padding + body + struct.pack(">I", crc)


def serve(conn: socket.socket, packet: bytes) -> None:
    with conn:
        conn.settimeout(10)
        try:
            conn.sendall(BANNER)
            line = b""
            while not line.endswith(b"\n") and len(line) < 256:
                chunk = conn.recv(1)
                if not chunk:
                    return
                line += chunk
            conn.sendall(packet)
            while conn.recv(4096):
                pass
        except OSError:
            return


def main(port: int) -> None:
    packet = public_key_packet(_rsa(768), _rsa(1024))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(16)
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=serve, args=(conn, packet), daemon=True).start()


if __name__ == "__main__":
    main(int(sys.argv[1]))
