# Source this file (sh/bash) to point buildah and podman at container storage inside a build
# folder instead of /var/lib/containers:
#
#   OVL_BUILD_DIR=build . deploy/image/env.sh
#
# It writes (once, idempotent) OVL_BUILD_DIR/containers/{storage.conf,containers.conf} and exports
#   CONTAINERS_STORAGE_CONF  overlay driver; graphroot and runroot under OVL_BUILD_DIR/containers
#   CONTAINERS_CONF          podman's own state (tmp dir, events log, volumes) there too
#   OVL_CONTAINERS           the folder itself
# so `make clean` (rm -rf build) removes every image, container and volume made for the tests.
# The Debian base image is the one exception: its root filesystem tarball is cached per machine
# (see base-image.sh) and re-imported into a fresh storage in a few seconds.

# OVL_BUILD_DIR is required: a default relative to the current directory would scatter storage.
if [ -z "${OVL_BUILD_DIR:-}" ]; then
    echo "env.sh: set OVL_BUILD_DIR to the build folder first: OVL_BUILD_DIR=build . deploy/image/env.sh" >&2
    return 1 2>/dev/null || exit 1
fi
mkdir -p "$OVL_BUILD_DIR"
OVL_CONTAINERS=$(cd "$OVL_BUILD_DIR" && pwd)/containers
mkdir -p "$OVL_CONTAINERS/storage" "$OVL_CONTAINERS/run" "$OVL_CONTAINERS/tmp"
chmod 0700 "$OVL_CONTAINERS"

if [ ! -f "$OVL_CONTAINERS/storage.conf" ]; then
    cat >"$OVL_CONTAINERS/storage.conf.new" <<CONF
# Written by deploy/image/env.sh: container storage for Overleg's image tests.
[storage]
driver = "overlay"
graphroot = "$OVL_CONTAINERS/storage"
runroot = "$OVL_CONTAINERS/run"
CONF
    mv "$OVL_CONTAINERS/storage.conf.new" "$OVL_CONTAINERS/storage.conf"
fi
if [ ! -f "$OVL_CONTAINERS/containers.conf" ]; then
    cat >"$OVL_CONTAINERS/containers.conf.new" <<CONF
# Written by deploy/image/env.sh: podman state for Overleg's image tests, kept beside the storage.
[engine]
tmp_dir = "$OVL_CONTAINERS/tmp"
volume_path = "$OVL_CONTAINERS/storage/volumes"
events_logger = "file"
events_logfile_path = "$OVL_CONTAINERS/tmp/events.log"
runtime = "runc"
CONF
    mv "$OVL_CONTAINERS/containers.conf.new" "$OVL_CONTAINERS/containers.conf"
fi

CONTAINERS_STORAGE_CONF=$OVL_CONTAINERS/storage.conf
CONTAINERS_CONF=$OVL_CONTAINERS/containers.conf
export CONTAINERS_STORAGE_CONF CONTAINERS_CONF OVL_CONTAINERS
