#!/usr/bin/env bash
# Builds, once, the images that container.image, container.compose and container.kube then use
# (CTest fixture container_images; container.cleanup removes them):
#
#   TAG          docker/Dockerfile as users build it: the distroless runtime
#   TAG-debian   the same file with RUNTIME_BASE=localhost/debian:bookworm (the shell variant)
#   TAG-nginx    tests/container/nginx-test.Dockerfile: nginx from the same Debian base
#
#   tests/container/build-images.sh SOURCE_DIR TAG
#
# Follows /work/shared/notes/containers.md (see lib.sh). Exits 77 (CTest's skip) with a SKIP line
# where podman cannot run here.
set -euo pipefail

src=$(cd "${1:?usage: build-images.sh SOURCE_DIR TAG}" && pwd)
tag=${2:?usage: build-images.sh SOURCE_DIR TAG}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

container_preflight
container_env
container_lock 1800
podman_usable || skip "podman cannot run here: $(podman info 2>&1 | tail -n 1)"
ensure_base_image
container_can_run

workdir=$(mktemp -d /tmp/gdlab-build-images.XXXXXX)
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_long_run
    buildah rm --all >/dev/null 2>&1 || true
    rm -rf "$workdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# build NAME DOCKERFILE CONTEXT [BUILD-ARG]...
build() {
    local name=$1 file=$2 context=$3
    shift 3
    local args=() start
    for a in "$@"; do args+=(--build-arg "$a"); done
    log "building $name from ${file#"$src"/}"
    start=$(date +%s)
    if ! long_run buildah bud --isolation chroot --network host --format docker --layers=false \
        --ulimit "nofile=$(ulimit -n):$(ulimit -Hn)" --build-arg "BASE=$BASE_IMAGE" "${args[@]}" \
        -t "$name" -f "$file" "$context" >"$workdir/build.log" 2>&1; then
        tail -n 40 "$workdir/build.log" >&2
        die "buildah could not build $name"
    fi
    log "built $name in $(($(date +%s) - start)) s: $(image_mb "$name")"
}

build "$tag" "$src/docker/Dockerfile" "$src"
build "$tag-debian" "$src/docker/Dockerfile" "$src" "RUNTIME_BASE=$BASE_IMAGE"
build "$tag-nginx" "$here/nginx-test.Dockerfile" "$here"
# Whatever an interrupted earlier run left: dangling layers only (tagged images stay).
podman image prune -f >/dev/null 2>&1 || true
echo "build-images.sh: PASS: $tag $(image_mb "$tag"), $tag-debian $(image_mb "$tag-debian"), $tag-nginx"
