#!/bin/sh
# Installs every Debian package that building, running and testing Overleg need.
# Idempotent: silent when everything is present; runs `apt-get update` only when
# something is missing. Run as root (or with sudo) on Debian 12.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
 libssl-dev libsrtp2-dev libopus-dev libvpx-dev libwebsockets-dev libcmocka-dev
 libjansson-dev libsqlite3-dev openssl curl ca-certificates python3
 iproute2 nftables iptables"

# Optional groups, selected by the caller through OVERLEG_DEPS (space-separated):
#   browser -> Chromium + Node.js for the headless browser tests
#   image   -> buildah/podman/debootstrap for the container image test
for extra in ${OVERLEG_DEPS:-}; do
    case "$extra" in
    browser) PKGS="$PKGS chromium nodejs npm fonts-dejavu-core" ;;
    image) PKGS="$PKGS buildah podman runc debootstrap uidmap fuse-overlayfs" ;;
    *) echo "install-deps: unknown group '$extra' (known: browser image)" >&2; exit 2 ;;
    esac
done

# npm packages of the browser tests (playwright-core drives Debian's Chromium), pinned by
# tests/browser/package-lock.json, installed into tests/browser/node_modules.
install_npm() {
    case " ${OVERLEG_DEPS:-} " in *" browser "*) ;; *) return 0 ;; esac
    dir=$(dirname "$0")/../tests/browser
    [ -f "$dir/package-lock.json" ] || return 0
    [ -d "$dir/node_modules/playwright-core" ] && return 0
    echo "install-deps: installing npm packages for the browser tests"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

missing=""
for p in $PKGS; do
    # Node.js may come from elsewhere than Debian; a working `node`/`npm` is enough.
    case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
    install_npm
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run 'sudo $0' (or as root) to install them" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
install_npm
