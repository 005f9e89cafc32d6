#!/usr/bin/env bash
# Re-create the -oN/-oX pairs in this folder (see README.md). Scans 127.0.0.1 and ::1 only.
# Usage: capture.sh [PAIR...]   (default: every pair; e.g. `capture.sh http-multi`)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../../lab/fixtures"
pairs=("$@")
[ ${#pairs[@]} -eq 0 ] && pairs=(dh-enum vuln showall http-multi ipv6)
work="$(mktemp -d)"
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 \
  -subj "/CN=localhost" 2>/dev/null
mkdir www
# The title has UTF-8 in it: nmap prints it as \xNN in both the text and the XML.
printf '<html><head><title>advisor test page \xe2\x80\x93 caf\xc3\xa9</title></head><body>hi</body></html>\n' \
  > www/index.html
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
# TLS server offering everything, anonymous DH included, with a 1024-bit DH group.
openssl s_server -quiet -accept 127.0.0.1:24465 -cert cert.pem -key key.pem \
  -cipher 'ALL:@SECLEVEL=0' -dhparam "$fixtures/dh1024.pem" -www >/dev/null 2>&1 </dev/null &
pids+=($!)
openssl s_server -quiet -6 -accept '[::1]:24465' -cert cert.pem -key key.pem \
  -cipher 'ALL:@SECLEVEL=0' -dhparam "$fixtures/dh1024.pem" -www >/dev/null 2>&1 </dev/null &
pids+=($!)
(cd www && exec python3 -m http.server --bind 127.0.0.1 28000) >/dev/null 2>&1 &
pids+=($!)
(cd www && exec python3 -m http.server --bind ::1 28000) >/dev/null 2>&1 &
pids+=($!)
sleep 2
out="$here"
for pair in "${pairs[@]}"; do
  # What nmap prints on the terminal is kept too, as $pair.stdout.
  case "$pair" in
    dh-enum)
      nmap -Pn -sV -p 24465 --script ssl-dh-params,ssl-enum-ciphers -oA "$out/dh-enum" 127.0.0.1 > "$out/dh-enum.stdout" ;;
    vuln)
      nmap -Pn -sV -p 24465,28000 --script vuln -oA "$out/vuln" 127.0.0.1 > "$out/vuln.stdout" ;;
    showall)
      nmap -Pn -sV -p 24465 --script ssl-dh-params,ssl-poodle,ssl-ccs-injection,ssl-heartbleed \
        --script-args vulns.showall -oA "$out/showall" 127.0.0.1 > "$out/showall.stdout" ;;
    http-multi)
      nmap -Pn -sV --reason -p 24465,28000,28001 \
        --script http-title,http-headers,http-methods,http-server-header,ssl-cert,reverse-index,targets-asn \
        -oA "$out/http-multi" localhost 127.0.0.1 > "$out/http-multi.stdout" ;;
    ipv6)
      nmap -6 -Pn -sV -p 24465,28000 --script ssl-dh-params,ssl-enum-ciphers,http-title \
        -oA "$out/ipv6" ::1 > "$out/ipv6.stdout" ;;
    *) echo "unknown pair: $pair" >&2; exit 2 ;;
  esac
  rm -f "$out/$pair.gnmap"
done
