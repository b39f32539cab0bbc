#!/usr/bin/env bash
# Benchmark: `cozy-render lint --matrix` over every package value set (snapshots/values) in one
# process, versus one `helm template` process per value set.
#
# There is no Go-template version of the packages, so the Helm side renders the example chart
# (examples/helm/demo) with as many value sets as the packages have; for an equal-work
# comparison cozy-render also lints the minijinja twin (examples/demo) with those same value sets.
# Peak memory comes from /usr/bin/time -v.
#
# Usage: bench-lint.sh "COZY_RENDER lint" HELM   (run from the repository root; the first argument
# is the lint command, e.g. "target/release/cozy-render lint")
set -euo pipefail
LINT="${1:?lint command, e.g. \"target/release/cozy-render lint\"}"
HELM="${2:?path to helm}"
PACKAGES="packages/system/ouroboros packages/system/coredns packages/apps/kubernetes packages/core/platform"
command -v "$HELM" >/dev/null || { echo "helm not found: set HELM=/path/to/helm" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
lint_bin="${LINT%% *}"
[ -x "$lint_bin" ] || { echo "$lint_bin not built" >&2; exit 2; }

sets=0
for p in $PACKAGES; do
  d="snapshots/values/$(basename "$p")"
  n=$(find "$d" -maxdepth 1 -name '*.yaml' ! -name '*.state.yaml' ! -name matrix.yaml | wc -l)
  sets=$((sets + n))
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The same number of value sets for the example chart: replica counts, modes and the shipped
# overrides, varied so that no two sets are equal.
for i in $(seq 1 "$sets"); do
  mode=web; ingress=true
  [ $((i % 2)) = 0 ] && ingress=false
  # The chart's gate: a worker serves no traffic, so it has no ingress.
  [ $((i % 3)) = 0 ] && { mode=worker; ingress=false; }
  printf 'replicaCount: %d\nmode: %s\ningress:\n  enabled: %s\nglobal:\n  environment: env-%d\n' "$i" "$mode" "$ingress" "$i" > "$work/set-$i.yaml"
done

now() { date +%s.%N; }
peak() { grep 'Maximum resident' "$1" | awk '{print $NF}'; }

echo "value sets: $sets (packages: $PACKAGES)"

# One cozy-render run takes well under a second, so a single stray scheduling delay would
# swing it: hyperfine runs it REPEAT times (default 10) and the median wall time counts. Peak
# memory comes from one more run under /usr/bin/time. The Helm side is 50 processes in a row,
# which averages such noise out by itself.
REPEAT="${REPEAT:-10}"
median_wall() { # name, then the command
  local name="$1"; shift
  /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.json" || true
  hyperfine -N -i --warmup 2 --runs "$REPEAT" --export-json "$work/$name.hyperfine.json" \
    "$(printf '%q ' "$@")" > /dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$work/$name.hyperfine.json"
}
cozy_pkg=$(median_wall cozy-packages $LINT $PACKAGES --matrix snapshots/values -o json)
cozy_demo=$(median_wall cozy-demo $LINT examples/demo -n apps --matrix "$work" -o json)

max_helm=0
t0=$(now)
for i in $(seq 1 "$sets"); do
  /usr/bin/time -v -o "$work/helm-$i.time" "$HELM" template demo examples/helm/demo -n apps -f "$work/set-$i.yaml" > /dev/null
  m=$(peak "$work/helm-$i.time"); [ "$m" -gt "$max_helm" ] && max_helm=$m
done
t1=$(now)
helm_total=$(awk "BEGIN{print $t1 - $t0}")

cases=$(grep -o '"cases": [0-9][0-9]*' "$work/cozy-packages.json" | head -1 | awk '{print $2}')
printf '%-58s %10s %14s\n' "run" "wall (s)" "peak RSS (KiB)"
printf '%-58s %10.3f %14s\n' "cozy-render lint --matrix: 4 packages, $cases cases, 1 process (median of $REPEAT)" "$cozy_pkg" "$(peak "$work/cozy-packages.time")"
printf '%-58s %10.3f %14s\n' "cozy-render lint --matrix: examples/demo, $sets sets" "$cozy_demo" "$(peak "$work/cozy-demo.time")"
printf '%-58s %10.3f %14s\n' "helm template x $sets processes: examples/helm/demo" "$helm_total" "$max_helm (max of one)"
echo "speed-up (helm per-set processes / cozy-render packages matrix): $(awk "BEGIN{printf \"%.1f\", $helm_total / $cozy_pkg}")x"
echo "speed-up on equal work (helm / cozy-render, example chart):     $(awk "BEGIN{printf \"%.1f\", $helm_total / $cozy_demo}")x"
