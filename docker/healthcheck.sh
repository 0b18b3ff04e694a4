#!/bin/bash
# Container health check: GET /health on the server's own port and succeed only on HTTP 200 with
# {"status":"ok"}. Bash's /dev/tcp does the request, so the slim image needs no curl or wget.
# Used by the image's HEALTHCHECK and by docker/compose.yaml.
set -u
port=${GDLAB_PORT:-8080}

exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 || exit 1
IFS= read -r -t 2 status_line <&3 || exit 1
case $status_line in
"HTTP/1."[01]" 200"*) ;;
*) exit 1 ;;
esac
body=$(timeout 2 cat <&3) || exit 1
case $body in
*'"status":"ok"'* | *'"status": "ok"'*) exit 0 ;;
*) exit 1 ;;
esac
