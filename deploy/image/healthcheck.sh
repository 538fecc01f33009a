#!/bin/sh
# Container health check: GET /healthz over TLS on the port of OVERLEG_LISTEN (first address;
# default 8443) and succeed on "200". Uses the openssl tool, the only extra the image carries for
# it. The certificate is not verified: this asks the local process whether it is alive.
set -eu
listen=${OVERLEG_LISTEN:-[::]:8443}
first=${listen%%,*}
port=${first##*:}
host=${first%:*}
case "$host" in
"" | "[::]" | "0.0.0.0" | "*") host=127.0.0.1 ;;
esac
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' |
    timeout 4 openssl s_client -quiet -connect "$host:$port" -servername localhost 2>/dev/null |
    head -n 1 | grep -q '^HTTP/1\.[01] 200'
