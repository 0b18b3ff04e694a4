#!/usr/bin/env bash
# Image test: build docker/Dockerfile with buildah, run the image with podman and check it from the
# outside: /health, a /train request, the unprivileged user, the listening address, the libraries,
# the image's HEALTHCHECK, and that `podman stop` ends it cleanly (exit 0) within the grace period.
#
#   tests/container/image-test.sh SOURCE_DIR
#
# Follows /work/shared/notes/containers.md: the base image comes from Debian's archive
# (debootstrap, cached in $GDLAB_CONTAINER_CACHE, default /var/tmp/gdlab-container), storage is
# vfs, containers run with runc and cgroupfs on the host network. Exits 77 (CTest's skip) with a
# SKIP line where podman cannot run here; everything it made is removed on every exit path, except
# the cached base image.
set -euo pipefail

src=$(cd "${1:?usage: image-test.sh SOURCE_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

for tool in podman buildah runc curl flock; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/setup installs it)"
done
[ "$(id -u)" -eq 0 ] || skip "needs root: rootless podman needs subordinate ids this machine lacks"

container_env
container_lock 1800
podman_usable || skip "podman cannot run here: $(podman info 2>&1 | tail -n 1)"

tag=localhost/gdlab:image-test-$$
name=gdlab-image-test-$$
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
workdir=$(mktemp -d /tmp/gdlab-image-test.XXXXXX)
run_flags=(--runtime runc --cgroup-manager=cgroupfs --network host
           --ulimit "nofile=$(ulimit -n):$(ulimit -Hn)" --ulimit nproc=4096:4096)

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_long_run
    podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
    podman rmi -f "$tag" >/dev/null 2>&1 || true
    # Working containers of an interrupted build, and the layers only this build made.
    buildah rm --all >/dev/null 2>&1 || true
    podman image prune -f >/dev/null 2>&1 || true
    rm -rf "$workdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs a command of the image in place of its entrypoint.
in_image() {
    local entrypoint=$1
    shift
    podman run --rm "${run_flags[@]}" --no-healthcheck --entrypoint "$entrypoint" "$tag" "$@"
}

ensure_base_image
# Can a container run here at all? If not, that is this machine, not the image: skip.
if ! podman run --rm "${run_flags[@]}" "$BASE_IMAGE" /bin/true >"$workdir/probe.log" 2>&1; then
    skip "podman cannot start a container here: $(grep -v 'level=' "$workdir/probe.log" | tail -n 1)"
fi

log "building $tag from docker/Dockerfile (base $BASE_IMAGE)"
start=$(date +%s)
if ! long_run buildah bud --isolation chroot --network host --format docker --layers=false \
    --ulimit "nofile=$(ulimit -n):$(ulimit -Hn)" \
    --build-arg "BASE=$BASE_IMAGE" -t "$tag" -f "$src/docker/Dockerfile" "$src" \
    >"$workdir/build.log" 2>&1; then
    tail -n 40 "$workdir/build.log" >&2
    die "buildah could not build docker/Dockerfile"
fi
build_seconds=$(($(date +%s) - start))
size=$(podman image inspect --format '{{.Size}}' "$tag")
base_size=$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
log "built in ${build_seconds} s; image $(mb "$size") ($size bytes): the base $(mb "$base_size")" \
    "and gdlab's layer $(mb $((size - base_size)))"

# --- What the image declares ------------------------------------------------------------------
user=$(podman image inspect --format '{{.Config.User}}' "$tag")
case ${user%%:*} in
"" | 0 | root) die "the image runs as '${user:-root}', not as an unprivileged user" ;;
esac
entrypoint=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$tag")
[ "$entrypoint" = '["/usr/bin/gdlab"]' ] ||
    die "ENTRYPOINT is $entrypoint: exec form with gdlab as PID 1 is needed for SIGTERM"
exposed=$(podman image inspect --format '{{json .Config.ExposedPorts}}' "$tag")
case $exposed in *'"8080/tcp"'*) ;; *) die "the image does not EXPOSE 8080: $exposed" ;; esac
health=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$tag")
case $health in *gdlab-healthcheck*) ;; *) die "the image has no HEALTHCHECK: $health" ;; esac
log "image config: user $user, entrypoint $entrypoint, exposes $exposed, healthcheck set"

# Every shared library the binary needs is in the image, and nothing of the build came along.
# (One container for all of it: each podman run copies the whole image under vfs.)
# shellcheck disable=SC2016 # expanded by the container's shell
in_image /bin/sh -c 'ldd /usr/bin/gdlab; for t in cc gcc cmake make; do
        command -v $t >/dev/null && echo "build tool in runtime image: $t"; done
    /usr/bin/gdlab --version' >"$workdir/inspect" 2>&1 || true
if grep -qE 'not found|build tool' "$workdir/inspect"; then
    cat "$workdir/inspect" >&2
    die "the runtime image lacks a library gdlab links, or carries a build tool"
fi
version=$(grep '^gdlab ' "$workdir/inspect") || { cat "$workdir/inspect" >&2; die "gdlab --version failed"; }
log "libraries all present, no compiler in the runtime image; $version"

# --- Running it -------------------------------------------------------------------------------
# No systemd here to run the health check on a timer; it is run by hand below instead.
# (podman still complains on stderr that it cannot reach systemd; that goes to a file.)
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
/usr/bin/python3 - "$workdir/train.json" <<'EOF' || die "/train answered wrongly"
import json, sys
r = json.load(open(sys.argv[1]))
status = [run["status"] for run in r["runs"]]
critical = r["analysis"]["lr_critical"]
print(f"image-test.sh: GET /train lr=0.2,0.8,1.1: run statuses {status}, lr_critical {critical:.4f}",
      file=sys.stderr)
assert len(status) == 3 and status[2] != status[0], status
assert abs(critical - 0.8055) < 5e-4, critical
EOF
curl -fsS -o "$workdir/train-post.json" -H 'Content-Type: application/json' \
    -d '{"lr": [0.2, 0.8, 1.1]}' "$base/train" || die "POST /train did not answer 200"
cmp -s "$workdir/train.json" "$workdir/train-post.json" ||
    die "POST /train answered differently from GET /train"

# The web front-end was installed where the binary looks for it.
curl -fsS -o "$workdir/index.html" "$base/static/index.html" || die "/static/index.html: no web root"
grep -qi '<html' "$workdir/index.html" || die "/static/index.html is not the front-end page"
log "GET /static/index.html: the front-end page ($(wc -c <"$workdir/index.html") bytes)"

# Readiness, metrics and the API explorer (swagger-ui-dist, installed by the image's build).
ready=$(curl -fsS "$base/ready") || die "/ready did not answer 200"
curl -fsS -o "$workdir/metrics" "$base/metrics" || die "/metrics did not answer 200"
grep -q '^gdlab_http_requests_total{route="/train",status="200"} 2$' "$workdir/metrics" || {
    grep '^gdlab_http_requests_total' "$workdir/metrics" >&2
    die "/metrics does not count the two /train requests"
}
curl -fsS -o /dev/null "$base/docs" || die "/docs did not answer 200"
curl -fsS -o "$workdir/bundle.js" "$base/docs/swagger-ui-bundle.js" ||
    die "/docs/swagger-ui-bundle.js is missing: the image has no API explorer"
log "GET /ready: $ready; /metrics counts the /train requests; /docs with its" \
    "$(wc -c <"$workdir/bundle.js")-byte bundle"

# Unprivileged inside: the server process itself, not only the image's metadata.
pid=$(podman inspect --format '{{.State.Pid}}' "$name")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" != 0 ] || die "gdlab runs as root inside the container"
comm=$(cat "/proc/$pid/comm")
[ "$comm" = gdlab ] || die "PID 1 of the container is '$comm', not gdlab: signals would not reach it"
ident=$(podman exec "$name" id)
[ "$ident" = "uid=10001(gdlab) gid=10001(gdlab) groups=10001(gdlab)" ] ||
    die "the server's identity is '$ident', not the image's gdlab user and group"
log "the container's PID 1 is gdlab, running as $ident"

# Listening on every address of the network namespace, as a container must (the host network
# here means 127.0.0.1 would also answer, so look at the socket itself).
hexport=$(printf '%04X' "$port")
grep -qE "^ *[0-9]+: 00000000:$hexport 00000000:0000 0A" /proc/net/tcp ||
    grep -qE "^ *[0-9]+: 0{32}:$hexport 0{32}:0000 0A" /proc/net/tcp6 ||
    die "gdlab does not listen on 0.0.0.0:$port inside the container"
log "listening on 0.0.0.0:$port"

# The image's own HEALTHCHECK, run the way Docker and podman run it.
podman healthcheck run "$name" >/dev/null || die "the image's HEALTHCHECK reports unhealthy"
# ... and it can fail: pointed at a port where nothing listens it must report unhealthy.
if podman exec -e GDLAB_PORT=1 "$name" /usr/local/bin/gdlab-healthcheck >/dev/null 2>&1; then
    die "the health check reports healthy with no server on its port"
fi
podman exec "$name" /usr/local/bin/gdlab-healthcheck /ready || die "gdlab-healthcheck /ready failed"
log "podman healthcheck run: healthy; unhealthy with nothing on the port; /ready checks too"

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

echo "image-test.sh: PASS: image $(mb "$size"), built in ${build_seconds} s"
