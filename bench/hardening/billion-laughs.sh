#!/usr/bin/env bash
# Feed a ~1 KiB "billion laughs" values file (aliases nested ten levels deep, nine wide: about
# 3.5e9 nodes, tens of GiB once expanded) to `cozy-render template -f` and report how long the
# refusal took and the peak memory of the process.
#
# Usage: bench/hardening/billion-laughs.sh [path/to/cozy-render]
# Pass: exit code 2, the alias limit named in the error, under 1 s, peak RSS under 50 MiB.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-}
if [[ -z "$bin" ]]; then
    target=${CARGO_TARGET_DIR:-$root/target}
    cargo build --quiet --release -p cozy-render --manifest-path "$root/Cargo.toml"
    bin=$target/release/cozy-render
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/chart/templates"
printf 'apiVersion: v2\nname: laughs\nversion: 0.1.0\n' >"$work/chart/Chart.yaml"
printf 'a: {{ Values.lol0 | length }}\n' >"$work/chart/templates/cm.yaml"
{
    printf 'lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in $(seq 1 10); do
        p="*a$((i - 1))"
        printf 'lol%d: &a%d [%s,%s,%s,%s,%s,%s,%s,%s,%s]\n' "$i" "$i" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p"
    done
} >"$work/laughs.yaml"
size=$(wc -c <"$work/laughs.yaml")

start=$(date +%s%N)
if [[ -x /usr/bin/time ]]; then
    set +e
    /usr/bin/time -v "$bin" template "$work/chart" -f "$work/laughs.yaml" ${BENCH_ARGS:-} >"$work/out" 2>"$work/err"
    code=$?
    set -e
    end=$(date +%s%N)
    peak_kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/err")
else
    # No GNU time: sample VmHWM from /proc while the process runs (the last sample before exit).
    "$bin" template "$work/chart" -f "$work/laughs.yaml" ${BENCH_ARGS:-} >"$work/out" 2>"$work/err" &
    pid=$!
    peak_kib=0
    while kill -0 "$pid" 2>/dev/null; do
        hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n "$hwm" && "$hwm" -gt "$peak_kib" ]] && peak_kib=$hwm
    done
    set +e
    wait "$pid"
    code=$?
    set -e
    end=$(date +%s%N)
fi
ms=$(((end - start) / 1000000))
peak_mib=$((peak_kib / 1024))

echo "values file: $size bytes"
echo "exit code:   $code"
echo "error:       $(grep -v '^\s' "$work/err" | grep -m1 -i 'error' || true)"
echo "wall time:   ${ms} ms"
echo "peak RSS:    ${peak_mib} MiB (${peak_kib} KiB)"

ok=1
[[ "$code" == 2 ]] || { echo "FAIL: expected exit code 2"; ok=0; }
grep -q 'aliases expand' "$work/err" || { echo "FAIL: the alias limit is not named"; ok=0; }
((ms < 1000)) || { echo "FAIL: took ${ms} ms (limit 1000 ms)"; ok=0; }
((peak_kib < 50 * 1024)) || { echo "FAIL: peak RSS ${peak_mib} MiB (limit 50 MiB)"; ok=0; }
((ok)) && echo "PASS"
((ok))
