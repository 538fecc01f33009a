#!/bin/sh
# Builds the Overleg image from deploy/Dockerfile with buildah, on a machine with no Docker engine
# and no registry (Debian: OVERLEG_DEPS=image deploy/install-deps.sh). As root, from anywhere:
#
#   deploy/image/build-image.sh [TAG]          (default overleg:latest)
#
# Storage lives in OVL_BUILD_DIR/containers (default build/; see env.sh); the base image is made
# once per machine by base-image.sh. Layers are cached (--layers): after the first build, which
# downloads the build packages from the Debian mirror, a rebuild compiles only what changed.
# Prints the image id on the last line. Then, for example:
#   OVL_BUILD_DIR=build . deploy/image/env.sh; podman save overleg:latest | gzip >overleg.tar.gz
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tag=${1:-overleg:latest}
: "${OVL_BUILD_DIR:=$root/build}"
. "$root/deploy/image/env.sh"
"$root/deploy/image/base-image.sh"

# --isolation chroot: no container runtime needed inside the build. --network host: the build
# stage's apt-get reaches the Debian mirror (the default would create a host bridge).
# --pull=never: the base is the local debian:bookworm-slim. --format docker: keeps HEALTHCHECK,
# which the OCI image format has no field for.
bud() {
    buildah bud --isolation chroot --network host --pull=never --layers --format docker \
        --ignorefile "$root/deploy/Dockerfile.dockerignore" --build-arg "JOBS=${OVL_JOBS:-2}" \
        -f "$root/deploy/Dockerfile" "$@" "$root"
}
bud -t "$tag" >&2
# Keep the layer cache, drop what older builds left: tag the build stage (every step is cached,
# so this takes a second) and remove untagged images, which are then only superseded layers.
bud --target build -t localhost/overleg-build:cache >/dev/null 2>&1
podman image prune -f >/dev/null
podman image inspect --format '{{.Id}}' "$tag"
