#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian/Ubuntu, as root, no systemd needed).
# Called from .ci/run. Safe to run twice.
#
# postfix is preseeded to "No configuration": no /etc/postfix/main.cf, nothing listens.
# The lab harness (tests/lab/) runs its own Postfix, Dovecot and nginx instances from temp
# directories on 127.0.0.1 high ports; it does not use the packages' system services.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -E bash "$0" "$@"
  fi
  echo "system-packages.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  nmap
  postfix
  dovecot-imapd
  dovecot-pop3d
  nginx
  ssl-cert
  openssl
  xsltproc
  iproute2
  time
  chromium
  # default/safe/auth script entries: lab servers for their proofs and captures
  openssh-server
  openssh-client
  samba
  smbclient
  snmpd
  snmp
  vsftpd
  redis-server
  sasl2-bin
  libsasl2-modules
  # Apache httpd proofs (tests/lab/servers_apache.py): /usr/sbin/apache2 and its modules
  apache2
  # web proofs (tests/proof/test_proof_nginx_web.py): WebDAV module for nginx, PHP behind
  # nginx, stunnel as the TLS stand-in for the certificate fixes
  libnginx-mod-http-dav-ext
  php-fpm
  stunnel4
  # services proofs (tests/proof/test_proof_haproxy.py, test_proof_daemons.py)
  haproxy
  memcached
  mariadb-server
  mariadb-client
  tomcat10
  squid
  bind9
  bind9-utils
  # Exim lab (tests/lab/servers_exim.py): exim4-daemon-heavy conflicts with postfix as the
  # system MTA, so it is unpacked into /opt/exim4 below, not installed; these are the shared
  # libraries its binary needs.
  libdb5.3
  libgnutls30
  libgnutls-dane0
  libidn12
  libidn2-0
  libldap-2.5-0
  libmariadb3
  libnsl2
  libpam0g
  libpcre2-8-0
  libperl5.36
  libpq5
  libsasl2-2
  libspf2-2
  libsqlite3-0
)

# Without systemd (containers, CI), package scripts must not try to start services.
# policy-rc.d exit 101 = "action not allowed"; removed again at the end if we created it.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() {
  if [ "$created_policy" -eq 1 ]; then
    rm -f /usr/sbin/policy-rc.d
  fi
}
trap cleanup EXIT

apt-get update
# debconf-set-selections comes with debconf (essential): no debconf-utils needed.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string lab.example.test" | debconf-set-selections

apt-get install -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${PACKAGES[@]}"

# Exim without installing it (it would remove postfix): download the Debian packages and
# unpack them into /opt/exim4 (the lab runs /opt/exim4/usr/sbin/exim4 -C its own config).
# Exim's binary has its user compiled in: create Debian-exim as the package would. Idempotent.
EXIM_ROOT=/opt/exim4
if [ ! -x "$EXIM_ROOT/usr/sbin/exim4" ]; then
  exim_dl=$(mktemp -d)
  chmod 0755 "$exim_dl"
  chown _apt "$exim_dl" 2>/dev/null || true  # apt-get download as _apt (no warning)
  (cd "$exim_dl" && apt-get download exim4-daemon-heavy exim4-base exim4-config)
  mkdir -p "$EXIM_ROOT"
  for deb in "$exim_dl"/*.deb; do
    dpkg-deb -x "$deb" "$EXIM_ROOT"
  done
  rm -rf "$exim_dl"
fi
if ! getent passwd Debian-exim >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin Debian-exim
fi

# On a host where the packages started their services anyway, stop them: tests use their own
# instances and standard ports must stay free. Ignore failures (no systemd, not running).
for svc in postfix dovecot nginx ssh smbd nmbd snmpd vsftpd redis-server apache2 haproxy \
  php8.2-fpm stunnel4 memcached mariadb tomcat10 squid named; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl stop "$svc" >/dev/null 2>&1 || true
    systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done

# Report what the lab will use.
for bin in nmap postfix postconf dovecot doveconf nginx openssl xsltproc ss; do
  path=$(command -v "$bin" || PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" || true)
  if [ -z "$path" ]; then
    echo "system-packages.sh: $bin missing after install" >&2
    exit 1
  fi
done
nmap --version | head -n1
postconf -d mail_version 2>/dev/null || true
dovecot --version
nginx -v 2>&1
openssl version
"$EXIM_ROOT/usr/sbin/exim4" -C /dev/null -bV 2>/dev/null | head -n1
