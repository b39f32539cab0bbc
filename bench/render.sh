#!/usr/bin/env bash
# One `cozy-render template` process versus one `helm template` process on the same chart
# (examples/demo, 16 templates + a subchart, written once as minijinja and once as Go templates).
# Reports wall-time ratio (hyperfine, alternating rounds) and peak RSS of each (GNU time, or
# /proc VmHWM).
#   HELM=/path/to/helm COZY=target/release/cozy-render bench/render.sh
set -euo pipefail
cd "$(dirname "$0")/.."
COZY="${COZY:-target/release/cozy-render}"
HELM="${HELM:-helm}"
RUNS="${RUNS:-30}"
command -v "$HELM" >/dev/null || { echo "helm not found; set HELM=/path/to/helm" >&2; exit 2; }
[ -x "$COZY" ] || { echo "build first: cargo build --release -p cozy-render" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

ours="$COZY template demo examples/demo -n apps"
theirs="$HELM template demo examples/helm/demo -n apps"
$ours > /dev/null && $theirs > /dev/null

# This VM's speed drifts from minute to minute, so one long block of runs per command would
# compare them under different conditions. ROUNDS short blocks alternate instead (hyperfine
# runs both commands in each); the ratio is taken per round and the median round counts.
ROUNDS="${ROUNDS:-5}"
per_round=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
rm -f /tmp/bench-render-round-*.json
for round in $(seq 1 "$ROUNDS"); do
  hyperfine -N --warmup "${WARMUP:-10}" --runs "$per_round" --export-json "/tmp/bench-render-round-$round.json" \
    "$ours" "$theirs" > /dev/null 2>&1
done
python3 - "$ROUNDS" <<'PY'
import json, statistics, sys
rounds = [json.load(open(f"/tmp/bench-render-round-{i}.json"))["results"] for i in range(1, int(sys.argv[1]) + 1)]
ours = [r[0]["median"] for r in rounds]
helm = [r[1]["median"] for r in rounds]
ratios = [h / o for o, h in zip(ours, helm)]
for i, (o, h, q) in enumerate(zip(ours, helm, ratios), 1):
    print(f"round {i}: cozy-render {o*1000:.1f} ms, helm {h*1000:.1f} ms, {q:.1f}x")
print(f"wall time median: cozy-render {statistics.median(ours)*1000:.1f} ms, helm {statistics.median(helm)*1000:.1f} ms, "
      f"ratio helm/cozy-render = {statistics.median(ratios):.1f}x (median of {len(ratios)} rounds)")
PY

peak_kib() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
  else
    python3 - "$@" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
  fi
}
o=$(peak_kib $ours); h=$(peak_kib $theirs)
echo "peak RSS: cozy-render $((o / 1024)) MiB, helm $((h / 1024)) MiB"
