#!/usr/bin/env bash
# Benchmark: every package suite in one `cozy-render test` process versus the helm-unittest
# plugin's cost model, one `helm template` process per test job.
#
# The packages are minijinja charts that helm cannot render, so the helm side renders the
# equivalent Go-template example chart (cozy-unittest/tests/examples/go-chart) once per test job
# found under the package suites: the same number of processes, chart loads and renders the
# plugin pays for.
#
# Both sides are timed with hyperfine (mean of several runs after a warm-up) when it is installed,
# with one timed run each otherwise.
#
# Usage: bench-test.sh [PACKAGES_DIR]    (env: COZY=path/to/cozy-render, HELM=helm, RUNS=5)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
packages="${1:-$root/packages}"
cozy="${COZY:-$root/target/release/cozy-render}"
helm="${HELM:-helm}"
runs="${RUNS:-5}"
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

# The suites must pass: a benchmark of a failing run measures nothing useful.
"$cozy" test "$packages" --ci -q >/dev/null || { echo "cozy-render test $packages fails" >&2; exit 1; }

cozy_cmd="$(printf '%q test %q --ci -q' "$cozy" "$packages")"
helm_cmd="$(printf 'for _ in $(seq %d); do %q template bench %q >/dev/null; done' "$jobs" "$helm" "$go_chart")"

if command -v hyperfine >/dev/null 2>&1; then
  json="$(mktemp)"
  trap 'rm -f "$json"' EXIT
  # The helm side takes seconds per run: fewer runs there keep the benchmark short.
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$json" \
    -n "cozy-render test (one process)" "$cozy_cmd" >&2
  cozy_mean=$(grep -o '"mean": *[0-9.eE+-]*' "$json" | head -1 | sed 's/.*: *//')
  hyperfine --style basic --runs 2 --export-json "$json" \
    -n "helm template x $jobs processes" "bash -c $(printf '%q' "$helm_cmd")" >&2
  helm_mean=$(grep -o '"mean": *[0-9.eE+-]*' "$json" | head -1 | sed 's/.*: *//')
else
  now() { date +%s.%N; }
  t0=$(now); bash -c "$cozy_cmd" >/dev/null; t1=$(now)
  bash -c "$helm_cmd"; t2=$(now)
  cozy_mean=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  helm_mean=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
fi

awk -v s="${#suites[@]}" -v j="$jobs" -v cozy="$cozy_mean" -v helm="$helm_mean" 'BEGIN {
  printf "suites: %d, test jobs: %d\n", s, j;
  printf "cozy-render test (one process): %.3fs\n", cozy;
  printf "helm template x %d processes:   %.3fs\n", j, helm;
  printf "ratio: %.1fx\n", (cozy > 0 ? helm / cozy : 0);
}'
