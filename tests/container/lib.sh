# shellcheck shell=bash
# Shared by the container scripts: where podman keeps its state, how it is run on these machines
# (see /work/shared/notes/containers.md), and how the Debian base image is made from the archive.
# Sourced, not executed. Callers set -euo pipefail themselves.

# CTest's "skipped" code; tests/container/CMakeLists.txt sets SKIP_RETURN_CODE to the same number.
readonly SKIP_CODE=77

# Everything lives under one cache folder so that reruns reuse the base image, and so that our
# storage never touches the machine's default podman storage (other users may have one).
GDLAB_CONTAINER_CACHE=${GDLAB_CONTAINER_CACHE:-/var/tmp/gdlab-container}
readonly BASE_IMAGE=localhost/debian:bookworm

# The long command running now, if any: see long_run.
long_run_pid=

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
skip() { log "SKIP: $*"; exit "$SKIP_CODE"; }

# Writes the storage and engine configuration once and exports the variables that point podman
# and buildah at it: vfs (no overlay here), runc (crun fails on hybrid cgroups), cgroupfs (no
# systemd), a file event log (no journald), and rlimits that the sandbox lets a container have
# (podman-compose and `podman kube play` pass no --ulimit of their own).
container_env() {
    mkdir -p "$GDLAB_CONTAINER_CACHE"
    local storage=$GDLAB_CONTAINER_CACHE/storage.conf engine=$GDLAB_CONTAINER_CACHE/containers.conf
    cat >"$storage.new" <<CONF
[storage]
driver = "vfs"
graphroot = "$GDLAB_CONTAINER_CACHE/graph"
runroot = "/tmp/gdlab-container-run"
CONF
    cat >"$engine.new" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -n):$(ulimit -Hn)", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$GDLAB_CONTAINER_CACHE/events.log"
CONF
    mv "$storage.new" "$storage"
    mv "$engine.new" "$engine"
    export CONTAINERS_STORAGE_CONF=$storage CONTAINERS_CONF=$engine
}

# Runs a long command (debootstrap, a build) in the background and waits for it: bash runs a trap
# only after a foreground child ends, but interrupts `wait` at once. stop_long_run ends it.
long_run() {
    "$@" &
    long_run_pid=$!
    local rc=0
    wait "$long_run_pid" || rc=$?
    long_run_pid=
    return "$rc"
}

stop_long_run() {
    if [ -n "$long_run_pid" ]; then
        kill -TERM "$long_run_pid" 2>/dev/null || true
        wait "$long_run_pid" 2>/dev/null || true
        long_run_pid=
    fi
}

# Holds an exclusive lock on the cache for the rest of the calling process, so that two test runs
# (two engineers' build trees, say) never build into the same storage at once.
container_lock() {
    exec 9>"$GDLAB_CONTAINER_CACHE/lock"
    if ! flock -w "${1:-1800}" 9; then
        die "another container test has held $GDLAB_CONTAINER_CACHE/lock for too long"
    fi
}

# Makes localhost/debian:bookworm unless it is already in the storage: debootstrap's minbase from
# Debian's archive, slimmed the way the official debian:bookworm-slim is (no docs, man pages or
# locales, dpkg told to keep it so, no apt lists), then imported. The slimmed tarball is kept in
# the cache too, so that a wiped storage is refilled in seconds.
ensure_base_image() {
    if podman image exists "$BASE_IMAGE"; then
        return 0
    fi
    local tarball=$GDLAB_CONTAINER_CACHE/debian-bookworm-slim.tar
    if [ ! -s "$tarball" ]; then
        command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/setup)"
        local rootfs=$GDLAB_CONTAINER_CACHE/rootfs.tmp
        rm -rf "$rootfs"
        log "making $BASE_IMAGE with debootstrap (about a minute)"
        if ! long_run debootstrap --variant=minbase bookworm "$rootfs" \
            http://deb.debian.org/debian >"$GDLAB_CONTAINER_CACHE/debootstrap.log" 2>&1; then
            tail -n 20 "$GDLAB_CONTAINER_CACHE/debootstrap.log" >&2
            rm -rf "$rootfs"
            skip "debootstrap could not fetch Debian bookworm from the archive"
        fi
        slim_rootfs "$rootfs"
        tar --numeric-owner -C "$rootfs" -cf "$tarball.new" .
        mv "$tarball.new" "$tarball"
        rm -rf "$rootfs"
    fi
    podman import --quiet "$tarball" "$BASE_IMAGE" >/dev/null
}

# The same trimming debuerreotype applies to the official slim images.
slim_rootfs() {
    local root=$1
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CONF
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
    cat >"$root/etc/apt/sources.list" <<'CONF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
CONF
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/{info,linda,locale,man}/* "$root"/usr/share/lintian/overrides/*
    rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
        "$root"/var/log/apt/* "$root"/var/cache/debconf/*-old
}

# Returns true when podman can start a container here at all; callers skip otherwise.
podman_usable() {
    podman info >/dev/null 2>&1
}

# Skips unless the tools are installed and this is root.
container_preflight() {
    local tool
    for tool in podman buildah runc curl flock "$@"; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/setup test installs it)"
    done
    [ "$(id -u)" -eq 0 ] || skip "needs root: rootless podman needs subordinate ids this machine lacks"
}

# The flags every `podman run` here needs (runc, cgroupfs, host network, rlimits).
run_flags=(--runtime runc --cgroup-manager=cgroupfs --network host
           --ulimit "nofile=$(ulimit -n):$(ulimit -Hn)" --ulimit nproc=4096:4096)

# Skips if no container can start here at all: that is this machine, not the image.
container_can_run() {
    local out
    if ! out=$(podman run --rm "${run_flags[@]}" "$BASE_IMAGE" /bin/true 2>&1); then
        skip "podman cannot start a container here: $(grep -v 'level=' <<<"$out" | tail -n 1)"
    fi
}

# Skips unless the fixture (build-images.sh, CTest's container.build) made the image.
need_image() {
    podman image exists "$1" ||
        skip "image $1 is missing: container.build (tests/container/build-images.sh) makes it"
}

# An image's size in MB, as podman reports it (uncompressed).
image_mb() {
    awk -v b="$(podman image inspect --format '{{.Size}}' "$1")" 'BEGIN { printf "%.1f MB", b / 1e6 }'
}
