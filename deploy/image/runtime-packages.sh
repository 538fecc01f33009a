#!/bin/sh
# Prints, one per line, the Debian packages that own the shared libraries an executable loads
# (as `ldd` resolves them), so that the runtime stage of deploy/Dockerfile installs exactly those
# and nothing drifts when the program starts to link a new library.
#
#   deploy/image/runtime-packages.sh build/overleg
set -eu
bin=${1:?usage: runtime-packages.sh EXECUTABLE}

libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || { echo "runtime-packages: ldd found no libraries in $bin" >&2; exit 1; }
for lib in $libs; do
    real=$(readlink -f "$lib")
    # usrmerge: dpkg may know a library as /lib/... or /usr/lib/..., under its link name or its
    # real name; try each spelling until one is owned.
    pkg=""
    for p in "$lib" "$real" "/usr$lib" "/usr$real" "${lib#/usr}" "${real#/usr}"; do
        pkg=$(dpkg-query -S "$p" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$pkg" ] && break
    done
    [ -n "$pkg" ] || { echo "runtime-packages: no Debian package owns $lib" >&2; exit 1; }
    echo "$pkg"
done | sort -u
