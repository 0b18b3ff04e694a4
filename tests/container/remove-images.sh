#!/usr/bin/env bash
# Removes the images build-images.sh made (CTest's container.cleanup), and any container, pod or
# network that an interrupted test left with the same name; keeps the cached Debian base image.
#
#   tests/container/remove-images.sh TAG
set -euo pipefail
tag=${1:?usage: remove-images.sh TAG}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

command -v podman >/dev/null || skip "podman is not installed"
[ "$(id -u)" -eq 0 ] || skip "needs root"
container_env
container_lock 1800
for image in "$tag" "$tag-debian" "$tag-nginx"; do
    podman rmi -f "$image" >/dev/null 2>&1 || true
done
buildah rm --all >/dev/null 2>&1 || true
podman image prune -f >/dev/null 2>&1 || true
echo "remove-images.sh: removed $tag, $tag-debian and $tag-nginx"
