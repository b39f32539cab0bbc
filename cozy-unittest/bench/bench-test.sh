#!/usr/bin/env bash
# Benchmark: every package suite in one `cozy-render test` process versus the helm-unittest
# plugin's cost model, one `helm template` process per test job.
#
# The packages are minijinja charts that helm cannot render, so the helm side renders the
# equivalent Go-template example chart (cozy-unittest/tests/examples/go-chart) once per test job
# found under the package suites: the same number of processes, chart loads and renders the
# plugin pays for.
#
# Usage: bench-test.sh [PACKAGES_DIR]    (env: COZY=path/to/cozy-render, HELM=helm)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
packages="${1:-$root/packages}"
cozy="${COZY:-$root/target/release/cozy-render}"
helm="${HELM:-helm}"
go_chart="$root/cozy-unittest/tests/examples/go-chart"

command -v "$helm" >/dev/null 2>&1 || { echo "helm not found (set HELM=/path/to/helm)" >&2; exit 2; }
[ -x "$cozy" ] || { echo "$cozy not built (run: cargo build --release -p cozy-render)" >&2; exit 2; }

mapfile -t suites < <(find "$packages" -path '*/tests/*_test.yaml' -not -path '*/__snapshot__/*' | sort)
[ "${#suites[@]}" -gt 0 ] || { echo "no suites under $packages" >&2; exit 2; }
jobs=0
for s in "${suites[@]}"; do
  n=$(grep -cE '^[[:space:]]*-[[:space:]]+it:' "$s" || true)
  jobs=$((jobs + n))
done

now() { date +%s.%N; }

t0=$(now)
"$cozy" test "$packages" --ci -q >/dev/null || true
t1=$(now)
for _ in $(seq "$jobs"); do
  "$helm" template bench "$go_chart" >/dev/null
done
t2=$(now)

awk -v s="${#suites[@]}" -v j="$jobs" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  cozy = b - a; helm = c - b;
  printf "suites: %d, test jobs: %d\n", s, j;
  printf "cozy-render test (one process): %.3fs\n", cozy;
  printf "helm template x %d processes:   %.3fs\n", j, helm;
  printf "ratio: %.1fx\n", (cozy > 0 ? helm / cozy : 0);
}'
