#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS on a scratch copy of its seed corpus (the
# checked-in seeds never change), JOBS targets at a time. Prints one line per target as it ends;
# on a crash, the tail of that target's log and a non-zero exit.
#   tests/fuzz/smoke.sh BUILD SECONDS JOBS
set -uo pipefail
build=$1 seconds=$2 jobs=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build/artifacts"

one() {
    local f=$1 name=${1##*/fuzz_}
    local seeds=$root/tests/fuzz/corpus/$name work=$build/work/$name log=$build/$name.log
    mkdir -p "$work"
    if "$f" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" \
        "$work" "$seeds" 2>"$log"; then
        echo "fuzz $name: $(ls "$seeds" 2>/dev/null | wc -l) seeds, $(grep -oP '^stat::number_of_executed_units:\s*\K\d+' "$log") runs in $seconds s"
    else
        echo "fuzz $name: FAILED (log $log)"
        tail -40 "$log"
        return 1
    fi
}
export -f one
export build seconds root

targets=("$build"/fuzz/fuzz_*)
[ -x "${targets[0]}" ] || { echo "no fuzz targets in $build/fuzz" >&2; exit 1; }
if printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -n 1 bash -c 'one "$0"'; then
    echo "fuzz-smoke: all ${#targets[@]} targets ran clean"
else
    echo "fuzz-smoke: a target failed" >&2
    exit 1
fi
