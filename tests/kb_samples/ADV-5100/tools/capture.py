"""Capture the SSH entries' samples (ADV-5100..5109): real OpenSSH 9.2p1 (Debian 12) and nmap
7.93 on 127.0.0.1, in the configurations SOURCES.toml of each entry names.

    python tests/kb_samples/ADV-5100/tools/capture.py OUTDIR [SCENARIO ...]

Each scenario starts tests/lab/servers_ssh.py's SshdServer on 127.0.0.1:22 (the real port:
nothing is rewritten afterwards), applies its settings, and runs

    nmap -Pn -n -sV -p 22 --script ssh-hostkey,ssh2-enum-algos,sshv1,ssh-auth-methods,\
ssh-publickey-acceptance 127.0.0.1 -oX OUTDIR/<scenario>.xml

Needs root (sshd, port 22). Only 127.0.0.1 is scanned (tests/lab/nmap.py refuses anything else).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT))

from tests.lab.common import make_lab_dir  # noqa: E402
from tests.lab.nmap import run_nmap  # noqa: E402
from tests.lab.servers_ssh import SshdServer  # noqa: E402

SCRIPTS = "ssh-hostkey,ssh2-enum-algos,sshv1,ssh-auth-methods,ssh-publickey-acceptance"
PUBLICKEYDB = Path("/usr/share/nmap/nselib/data/publickeydb")


def _weak(s: SshdServer) -> None:
    s.make_host_key("ssh_host_rsa1024_key", "rsa", 1024)
    s.make_host_key("ssh_host_dsa_key", "dsa")
    s.set(
        {
            "HostKey": "/etc/ssh/ssh_host_ed25519_key\n/etc/ssh/ssh_host_rsa1024_key\n"
            "/etc/ssh/ssh_host_dsa_key",
            "HostKeyAlgorithms": "+ssh-rsa,ssh-dss",
            "Ciphers": "+3des-cbc,aes128-cbc,aes256-cbc",
            "KexAlgorithms": "+diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1,"
            "diffie-hellman-group14-sha1",
            "MACs": "+hmac-md5,hmac-sha1-96",
            "PasswordAuthentication": "yes",
        }
    )


def _debian_default(s: SshdServer) -> None:
    """Debian 12's own settings that matter here: none (PasswordAuthentication is sshd's
    compiled-in default, yes; /etc/ssh/sshd_config only sets KbdInteractiveAuthentication no)."""
    s.set({})


def _hardened(s: SshdServer) -> None:
    s.set({"PasswordAuthentication": "no"})


def _rsa1024_only(s: SshdServer) -> None:
    s.make_host_key("ssh_host_rsa1024_key", "rsa", 1024)
    s.set({"HostKey": "/etc/ssh/ssh_host_rsa1024_key", "PasswordAuthentication": "no"})


def _rsa1024_sha1(s: SshdServer) -> None:
    """A 1024-bit RSA host key on a server that still signs with ssh-rsa (SHA-1), as every
    OpenSSH before 8.8 did by default: the only way nmap 7.93's ssh-hostkey sees RSA keys."""
    s.make_host_key("ssh_host_rsa1024_key", "rsa", 1024)
    s.set(
        {
            "HostKey": "/etc/ssh/ssh_host_ed25519_key\n/etc/ssh/ssh_host_rsa1024_key",
            "HostKeyAlgorithms": "+ssh-rsa",
            "PasswordAuthentication": "no",
        }
    )


def _group14_sha1(s: SshdServer) -> None:
    s.set({"KexAlgorithms": "+diffie-hellman-group14-sha1", "PasswordAuthentication": "no"})


def _kbdint(s: SshdServer) -> None:
    s.set({"PasswordAuthentication": "no", "KbdInteractiveAuthentication": "yes", "UsePAM": "yes"})


def _f5_key(accept_sha1: bool) -> Callable[[SshdServer], None]:
    def apply(s: SshdServer) -> None:
        f5 = next(ln for ln in PUBLICKEYDB.read_text().splitlines() if "f5 BigIP" in ln)
        s.set_authorized_keys([f"ssh-rsa {f5.split(',', 1)[0]} f5-bigip-static-key"])
        settings = {"PasswordAuthentication": "no"}
        if accept_sha1:
            settings["PubkeyAcceptedAlgorithms"] = "+ssh-rsa"
        s.set(settings)

    return apply


SCENARIOS: dict[str, Callable[[SshdServer], None]] = {
    "weak": _weak,
    "debian-default": _debian_default,
    "hardened": _hardened,
    "rsa1024-only": _rsa1024_only,
    "rsa1024-sha1": _rsa1024_sha1,
    "group14-sha1": _group14_sha1,
    "kbdint-pam": _kbdint,
    "f5-key-sha1-accepted": _f5_key(True),
    "f5-key-default-algorithms": _f5_key(False),
}


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve()
    names = argv[1:] or list(SCENARIOS)
    lab = make_lab_dir("advisor-ssh-capture-")
    server = SshdServer(lab / "sshd", port=22)
    for name in names:
        server.reset()
        SCENARIOS[name](server)
        server.restart()
        server.login()  # the scanned server really serves
        run = run_nmap(22, SCRIPTS, out / f"{name}.xml", version_detection=True)
        print(f"{name}: {run.command_line} ({run.seconds:.1f}s)")
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
