#!/bin/sh
# Makes the Dockerfile's base image, debian:bookworm-slim, without a container registry:
# `debootstrap --variant=minbase bookworm` from the Debian mirror, trimmed the way the official
# slim image is (no docs, man pages or locales), then `podman import` into the current storage.
#
#   OVL_BUILD_DIR=build . deploy/image/env.sh && deploy/image/base-image.sh
#
# The root filesystem is made ONCE PER MACHINE (about 90 s) and kept as a tarball in
# OVERLEG_IMAGE_CACHE (default /var/cache/overleg-image), outside every build folder, so that
# `make clean` does not throw it away; importing it into a new build folder's storage takes a few
# seconds. Delete the cache folder to make a fresh one (for Debian security updates, say).
# On a machine with a registry this script is not needed: `podman pull debian:bookworm-slim`.
#
# Environment: OVERLEG_IMAGE_CACHE, OVERLEG_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu

cache=${OVERLEG_IMAGE_CACHE:-/var/cache/overleg-image}
mirror=${OVERLEG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
tag=debian:bookworm-slim
tarball=$cache/debian-$suite-minbase.tar

if [ "$(id -u)" -ne 0 ]; then
    echo "base-image: debootstrap and podman import need root" >&2
    exit 1
fi
for tool in debootstrap podman flock tar; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "base-image: $tool is missing: run 'OVERLEG_DEPS=image deploy/install-deps.sh'" >&2
        exit 1
    }
done

mkdir -p "$cache"
# One maker at a time per machine; a second caller waits and then finds the tarball.
exec 9>"$cache/lock"
flock 9

if [ ! -s "$tarball" ]; then
    work=$(mktemp -d "$cache/rootfs.XXXXXX")
    trap 'rm -rf "$work"' EXIT INT TERM
    echo "base-image: debootstrap --variant=minbase $suite from $mirror (once per machine, about 90 s)"
    start=$(date +%s)
    if ! debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$cache/debootstrap.log" 2>&1; then
        tail -20 "$cache/debootstrap.log" >&2
        echo "base-image: debootstrap failed (full log: $cache/debootstrap.log)" >&2
        exit 1
    fi
    root=$work/root
    # As the official debian:*-slim images do: dpkg leaves out documentation, man pages and
    # locales from now on (copyright files stay), and apt keeps no package cache.
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
CFG
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
    find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
    rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/locale/"* \
        "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb \
        "$root/var/log/"*.log "$root/var/log/apt/"* "$root/dev/"* "$root/proc/"* "$root/sys/"* \
        "$root/tmp/"* "$root/var/tmp/"*
    tar --numeric-owner -C "$root" -cf "$tarball.new" .
    mv "$tarball.new" "$tarball"
    rm -rf "$work"
    trap - EXIT INT TERM
    echo "base-image: $tarball ($(du -m "$tarball" | cut -f1) MB) made in $(($(date +%s) - start)) s"
fi

if podman image exists "$tag"; then
    exit 0
fi
podman import --quiet --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$tag" >/dev/null
echo "base-image: imported $tag from $tarball"
