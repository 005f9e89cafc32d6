#!/bin/bash
cd /tmp/advlab
SCRIPTS=ssl-enum-ciphers,ssl-dh-params,ssl-poodle,ssl-heartbleed,ssl-ccs-injection,sslv2,sslv2-drown,tls-ticketbleed,rsa-vuln-roca,ssl-cert,ssl-known-key,ssl-cert-intaddr
run() {
  local name=$1 port=$2; shift 2
  echo "openssl s_server -accept 127.0.0.1:$port -www $*" > cmd-$name.txt
  openssl s_server -accept 127.0.0.1:$port -www "$@" > srv-$name.log 2>&1 &
  local pid=$!
  sleep 1
  echo "nmap -Pn -n -sV --script $SCRIPTS --script-args vulns.showall -p $port 127.0.0.1 -oX $name-showall.xml" >> cmd-$name.txt
  nmap -Pn -n -sV --script $SCRIPTS --script-args vulns.showall -p $port 127.0.0.1 -oX $name-showall.xml > /dev/null 2>&1
  kill $pid
}
run lowkex 47011 -cert good.crt -key good.key -cert_chain ca.crt -no_tls1_3 -no_tls1 -no_tls1_1 -cipher 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0' -dhparam dh1024.pem &
run dsaparam2 47012 -cert good.crt -key good.key -cert_chain ca.crt -no_tls1_3 -no_tls1 -no_tls1_1 -cipher 'DHE-RSA-AES128-GCM-SHA256' -dhparam dsa2048-pkcs3.pem &
run tls10 47013 -cert good.crt -key good.key -cert_chain ca.crt -cipher 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' -no_tls1_3 &
wait
echo ALLDONE
