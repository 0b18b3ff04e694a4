#!/bin/bash
# Container health check: GET /health (or the path given, e.g. /ready) on the server's own port;
# healthy only on HTTP 200, and for /health only with {"status":"ok"}. Bash's /dev/tcp makes the
# request, so the slim image needs no curl or wget. The image's HEALTHCHECK and
# docker/compose.yaml run it.
set -u
port=${GDLAB_PORT:-8080}
path=${1:-/health}

exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3 || exit 1
IFS= read -r -t 2 status_line <&3 || exit 1
case $status_line in
"HTTP/1."[01]" 200"*) ;;
*) exit 1 ;;
esac
[ "$path" = /health ] || exit 0
body=$(timeout 2 cat <&3) || exit 1
case $body in
*'"status":"ok"'* | *'"status": "ok"'*) exit 0 ;;
*) exit 1 ;;
esac
