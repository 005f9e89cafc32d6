#!/bin/bash
# Captures real nmap 7.93 output against openssl s_server instances on 127.0.0.1 only.
cd /tmp/advlab
SCRIPTS=ssl-enum-ciphers,ssl-dh-params,ssl-poodle,ssl-heartbleed,ssl-ccs-injection,sslv2,sslv2-drown,tls-ticketbleed,rsa-vuln-roca,ssl-cert,ssl-known-key,ssl-cert-intaddr
run() { # name port args...
  local name=$1 port=$2; shift 2
  echo "openssl s_server -accept 127.0.0.1:$port -www $*" > cmd-$name.txt
  openssl s_server -accept 127.0.0.1:$port -www "$@" > srv-$name.log 2>&1 &
  local pid=$!
  echo $pid > pid-$name
  sleep 1
  nmap -Pn -n -sV --script $SCRIPTS --script-args vulns.showall -p $port 127.0.0.1 -oX $name-showall.xml > /dev/null 2>&1
  echo "nmap -Pn -n -sV --script $SCRIPTS --script-args vulns.showall -p $port 127.0.0.1 -oX $name-showall.xml" >> cmd-$name.txt
  nmap -Pn -n -sV --script $SCRIPTS -p $port 127.0.0.1 -oX $name.xml > /dev/null 2>&1
  echo "nmap -Pn -n -sV --script $SCRIPTS -p $port 127.0.0.1 -oX $name.xml" >> cmd-$name.txt
  kill $pid
}
run modern 47001 -cert good.crt -key good.key -cert_chain ca.crt -no_tls1 -no_tls1_1 -cipher 'ECDHE+AESGCM:ECDHE+CHACHA20' &
run legacy 47002 -provider legacy -provider default -cert sha1ss.crt -key sha1ss.key -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' -dhparam dh1024.pem &
run nopfs 47003 -cert good.crt -key good.key -cert_chain ca.crt -no_tls1_3 -no_tls1 -no_tls1_1 -cipher 'AES128-GCM-SHA256:AES256-GCM-SHA384' &
run dsaparam 47004 -cert good.crt -key good.key -cert_chain ca.crt -no_tls1_3 -no_tls1 -no_tls1_1 -cipher 'DHE-RSA-AES128-GCM-SHA256' -dhparam dsa2048.pem &
run weakcert 47005 -cert weak.crt -key weak.key -cipher 'ALL:@SECLEVEL=0' &
run intaddr 47006 -cert intaddr.crt -key intaddr.key -cert_chain ca.crt &
run dhe2048 47007 -cert good.crt -key good.key -cert_chain ca.crt -no_tls1_3 -no_tls1 -no_tls1_1 -cipher 'DHE-RSA-AES128-GCM-SHA256' &
wait
echo ALLDONE
