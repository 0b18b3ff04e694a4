#!/usr/bin/env bash
# Image test: the image docker/Dockerfile makes (built once by build-images.sh, CTest's
# container.build), checked from the outside: distroless (no shell, nothing but gdlab, the shared
# objects it loads and its data files; at most 15 MB), its declared user, entrypoint, port and
# HEALTHCHECK (`gdlab --probe /health`), then run read-only with no capabilities: /health, /train,
# the page, /ready, /metrics, /docs, the unprivileged PID 1, the listening address, the health check
# healthy and able to fail, and `podman stop` ending it cleanly (exit 0) within the grace period.
# The Debian variant (RUNTIME_BASE) is run too: it answers, and has the shell it exists for.
#
#   tests/container/image-test.sh TAG
#
# Exits 77 (CTest's skip) with a SKIP line where podman cannot run here; removes what it started.
set -euo pipefail

tag=${1:?usage: image-test.sh TAG}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

readonly MAX_IMAGE_BYTES=15000000

container_preflight
container_env
container_lock 1800
podman_usable || skip "podman cannot run here: $(podman info 2>&1 | tail -n 1)"
need_image "$tag"
need_image "$tag-debian"

name=gdlab-image-test-$$
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
workdir=$(mktemp -d /tmp/gdlab-image-test.XXXXXX)
mounted=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    podman rm -f -t 0 "$name" "$name-debian" >/dev/null 2>&1 || true
    [ -z "$mounted" ] || podman image unmount "$tag" >/dev/null 2>&1 || true
    rm -rf "$workdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- What the image declares ------------------------------------------------------------------
size=$(podman image inspect --format '{{.Size}}' "$tag")
[ "$size" -le "$MAX_IMAGE_BYTES" ] ||
    die "the image is $(image_mb "$tag") ($size bytes), more than the 15 MB budget"
user=$(podman image inspect --format '{{.Config.User}}' "$tag")
case ${user%%:*} in
"" | 0 | root) die "the image runs as '${user:-root}', not as an unprivileged user" ;;
esac
entrypoint=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$tag")
[ "$entrypoint" = '["/usr/bin/gdlab"]' ] ||
    die "ENTRYPOINT is $entrypoint: exec form with gdlab as PID 1 is needed for SIGTERM"
exposed=$(podman image inspect --format '{{json .Config.ExposedPorts}}' "$tag")
case $exposed in *'"8080/tcp"'*) ;; *) die "the image does not EXPOSE 8080: $exposed" ;; esac
health=$(podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$tag")
[ "$health" = '["CMD","/usr/bin/gdlab","--probe","/health"]' ] ||
    die "the image's HEALTHCHECK is $health, not gdlab --probe /health in exec form"
log "image $(image_mb "$tag") ($size bytes); user $user, entrypoint $entrypoint," \
    "exposes $exposed, healthcheck $health"

# --- What the image holds: nothing but gdlab, what it loads, and its data ---------------------
root=$(podman image mount "$tag") || die "podman image mount failed"
mounted=1
(cd "$root" && find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\./|/|' | sort) >"$workdir/files"
for f in /bin/sh /bin/bash /usr/bin/dash /usr/bin/busybox /usr/bin/apt-get /usr/bin/dpkg \
    /usr/bin/curl /usr/bin/wget /etc/ssl/certs/ca-certificates.crt; do
    [ ! -e "$root$f" ] || die "the distroless image carries $f"
done
if grep -qE '^/(etc/ssl|usr/share/ca-certificates)/' "$workdir/files"; then
    die "the image carries CA certificates: $(grep -E '^/(etc/ssl|usr/share/ca-certificates)/' "$workdir/files" | head -n 3)"
fi
# The image's own dynamic loader lists what the binary loads (what ldd does); every shared
# object in the image must be on that list, and every entry of the list in the image.
loader=$(cd "$root" && { ls lib64/ld-linux-*.so.* lib/ld-linux-*.so.* 2>/dev/null || true; } | head -n 1)
[ -n "$loader" ] || die "the image has no dynamic loader"
podman run --rm "${run_flags[@]}" --no-healthcheck --entrypoint "/$loader" "$tag" \
    --list /usr/bin/gdlab >"$workdir/ldd" 2>&1 || { cat "$workdir/ldd" >&2; die "the loader cannot resolve gdlab's libraries"; }
! grep -q 'not found' "$workdir/ldd" || { cat "$workdir/ldd" >&2; die "a library gdlab links is missing"; }
loaded=$(awk '$2 == "=>" { print $1 }' "$workdir/ldd" | sort -u)
present=$(grep -E '\.so(\.[0-9]+)*$' "$workdir/files" | grep -v '/ld-linux' | xargs -rn1 basename | sort -u)
[ "$loaded" = "$present" ] || {
    diff <(echo "$loaded") <(echo "$present") >&2 || true
    die "the image's shared objects are not exactly those gdlab loads (< loaded, > present)"
}
others=$(grep -vE '\.so(\.[0-9]+)*$|^/usr/bin/gdlab$|^/usr/share/gdlab/|^/etc/(passwd|group)$|^/lib(64)?$' \
    "$workdir/files" || true)
[ -z "$others" ] || die "the image carries files that are not gdlab's: $(head -n 5 <<<"$others")"
log "distroless: $(wc -l <"$workdir/files") files: /usr/bin/gdlab, $(wc -l <<<"$present") shared" \
    "objects (exactly those it loads) and the loader, $(grep -c '^/usr/share/gdlab/' "$workdir/files")" \
    "data files, passwd and group; no shell, package manager or CA certificates"
podman image unmount "$tag" >/dev/null
mounted=

# --- Running it -------------------------------------------------------------------------------
# No systemd here to run the health check on a timer; it is run by hand below instead.
# Hardened as compose.yaml and the k8s Deployment run it: read-only root, no capabilities.
podman run -d --name "$name" "${run_flags[@]}" --health-interval=disable -e "GDLAB_PORT=$port" \
    --read-only --cap-drop=ALL --security-opt=no-new-privileges \
    -e GDLAB_SHUTDOWN_GRACE=10 "$tag" >/dev/null 2>"$workdir/podman-run.err" || {
    cat "$workdir/podman-run.err" >&2
    die "podman run failed"
}
base=http://127.0.0.1:$port
for _ in $(seq 1 100); do
    curl -fsS "$base/health" >/dev/null 2>&1 && break
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || {
        podman logs "$name" >&2
        die "the container exited before answering /health"
    }
    sleep 0.1
done

body=$(curl -fsS "$base/health") || die "/health did not answer 200"
[ "$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' <<<"$body")" = ok ] ||
    die "/health answered $body"
log "GET /health: $body"

curl -fsS -o "$workdir/train.json" "$base/train?lr=0.2,0.8,1.1" || die "/train did not answer 200"
/usr/bin/python3 - "$workdir/train.json" <<'PY' || die "/train answered wrongly"
import json, sys
r = json.load(open(sys.argv[1]))
status = [run["status"] for run in r["runs"]]
critical = r["analysis"]["lr_critical"]
print(f"image-test.sh: GET /train lr=0.2,0.8,1.1: run statuses {status}, lr_critical {critical:.4f}",
      file=sys.stderr)
assert len(status) == 3 and status[2] != status[0], status
assert abs(critical - 0.8055) < 5e-4, critical
PY
curl -fsS -o "$workdir/train-post.json" -H 'Content-Type: application/json' \
    -d '{"lr": [0.2, 0.8, 1.1]}' "$base/train" || die "POST /train did not answer 200"
cmp -s "$workdir/train.json" "$workdir/train-post.json" ||
    die "POST /train answered differently from GET /train"

curl -fsS -o "$workdir/index.html" "$base/static/index.html" || die "/static/index.html: no web root"
grep -qi '<html' "$workdir/index.html" || die "/static/index.html is not the front-end page"
log "GET /static/index.html: the front-end page ($(wc -c <"$workdir/index.html") bytes)"

ready=$(curl -fsS "$base/ready") || die "/ready did not answer 200"
curl -fsS -o "$workdir/metrics" "$base/metrics" || die "/metrics did not answer 200"
grep -q '^gdlab_http_requests_total{route="/train",status="200"} 2$' "$workdir/metrics" || {
    grep '^gdlab_http_requests_total' "$workdir/metrics" >&2
    die "/metrics does not count the two /train requests"
}
curl -fsS -o /dev/null "$base/docs" || die "/docs did not answer 200"
curl -fsS -o "$workdir/bundle.js" "$base/docs/swagger-ui-bundle.js" ||
    die "/docs/swagger-ui-bundle.js is missing: the image has no API explorer"
curl -fsS -o "$workdir/openapi.json" "$base/openapi.json" || die "/openapi.json did not answer 200"
log "GET /ready: $ready; /metrics counts the /train requests; /docs with its" \
    "$(wc -c <"$workdir/bundle.js")-byte bundle; /openapi.json"

# Unprivileged inside: the server process itself, not only the image's metadata.
pid=$(podman inspect --format '{{.State.Pid}}' "$name")
ids=$(awk '/^(Uid|Gid):/ {print $2}' "/proc/$pid/status" | tr '\n' ' ')
[ "$ids" = "10001 10001 " ] || die "gdlab runs as uid/gid $ids, not the image's 10001:10001"
comm=$(cat "/proc/$pid/comm")
[ "$comm" = gdlab ] || die "PID 1 of the container is '$comm', not gdlab: signals would not reach it"
log "the container's PID 1 is gdlab, running as uid/gid $ids"

hexport=$(printf '%04X' "$port")
grep -qE "^ *[0-9]+: 00000000:$hexport 00000000:0000 0A" /proc/net/tcp ||
    grep -qE "^ *[0-9]+: 0{32}:$hexport 0{32}:0000 0A" /proc/net/tcp6 ||
    die "gdlab does not listen on 0.0.0.0:$port inside the container"
log "listening on 0.0.0.0:$port"

# The image's own HEALTHCHECK, run the way Docker and podman run it (exec form: no shell needed).
podman healthcheck run "$name" >/dev/null || die "the image's HEALTHCHECK reports unhealthy"
# ... and it can fail: pointed at a port where nothing listens it must report unhealthy.
if podman exec -e GDLAB_PORT=1 "$name" /usr/bin/gdlab --probe /health >/dev/null 2>&1; then
    die "the health check reports healthy with no server on its port"
fi
podman exec "$name" /usr/bin/gdlab --probe /ready || die "gdlab --probe /ready failed"
if podman exec "$name" /bin/sh -c true >/dev/null 2>&1; then
    die "a shell ran inside the distroless container"
fi
log "podman healthcheck run: healthy; unhealthy with nothing on the port; /ready checks too;" \
    "no shell to exec"

# podman stop sends SIGTERM; gdlab must exit 0 well before the grace period ends in SIGKILL.
grace=10
start_ns=$(date +%s%N)
podman stop -t "$grace" "$name" >/dev/null 2>"$workdir/podman-stop.err" || {
    cat "$workdir/podman-stop.err" >&2
    die "podman stop failed"
}
stop_ms=$((($(date +%s%N) - start_ns) / 1000000))
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
podman logs "$name" >"$workdir/server.log" 2>&1 || true
[ "$code" = 0 ] || { tail -n 20 "$workdir/server.log" >&2; die "gdlab exited $code on SIGTERM"; }
[ "$stop_ms" -lt $((grace * 1000)) ] || die "podman stop took ${stop_ms} ms: gdlab ignored SIGTERM"
grep -q 'stopped' "$workdir/server.log" || die "gdlab did not log a clean stop"
grep -q '^GET /train 200 ' "$workdir/server.log" || die "the access log shows no /train request"
log "podman stop: exit code 0 after ${stop_ms} ms (grace ${grace} s)"

# --- The Debian variant (RUNTIME_BASE=debian): the same server, plus a shell to debug with ----
podman run -d --name "$name-debian" "${run_flags[@]}" --health-interval=disable \
    -e "GDLAB_PORT=$port" --read-only --cap-drop=ALL "$tag-debian" >/dev/null 2>&1 ||
    die "podman run of the Debian variant failed"
for _ in $(seq 1 100); do
    curl -fsS "$base/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS -o "$workdir/train-debian.json" "$base/train?lr=0.2,0.8,1.1" ||
    die "the Debian variant did not answer /train"
cmp -s "$workdir/train.json" "$workdir/train-debian.json" ||
    die "the Debian variant answered /train differently"
podman healthcheck run "$name-debian" >/dev/null || die "the Debian variant's HEALTHCHECK failed"
ident=$(podman exec "$name-debian" /bin/sh -c id) || die "no shell in the Debian variant"
[ "$ident" = "uid=10001(gdlab) gid=10001(gdlab) groups=10001(gdlab)" ] ||
    die "the Debian variant runs as '$ident'"
podman stop -t 10 "$name-debian" >/dev/null 2>&1
log "Debian variant ($(image_mb "$tag-debian")): same /train answer, healthy, a shell: $ident"

echo "image-test.sh: PASS: image $(image_mb "$tag") (Debian variant $(image_mb "$tag-debian"))"
