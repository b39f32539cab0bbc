#!/usr/bin/env bash
# Peak RSS of a plain render (`cozy-render template demo examples/demo -n apps`), the best of
# RUNS runs, to show that the live lookup provider costs nothing unless `--live-lookup` is given.
#
# Usage: bench/hardening/template-rss.sh [path/to/cozy-render ...]
# With several binaries (e.g. built with and without `--no-default-features`), each is measured.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-7}
if [[ $# -eq 0 ]]; then
    target=${CARGO_TARGET_DIR:-$root/target}
    cargo build --quiet --release -p cozy-render --manifest-path "$root/Cargo.toml"
    set -- "$target/release/cozy-render"
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package: time)"; exit 2; }

cd "$root"
for bin in "$@"; do
    best=
    for _ in $(seq "$runs"); do
        kib=$( { /usr/bin/time -f %M "$bin" template demo examples/demo -n apps >/dev/null; } 2>&1 | tail -n 1)
        if [[ -z "$best" || "$kib" -lt "$best" ]]; then best=$kib; fi
    done
    printf '%s: peak RSS %s KiB (best of %s), binary %s bytes\n' "$bin" "$best" "$runs" "$(stat -c %s "$bin")"
done
