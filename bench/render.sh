#!/usr/bin/env bash
# One `cozy-render template` process versus one `helm template` process on the same chart
# (examples/demo, 16 templates + a subchart, written once as minijinja and once as Go templates).
# Reports wall-time ratio (hyperfine) and peak RSS of each (GNU time, or /proc VmHWM).
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

hyperfine -N --warmup 3 --runs "$RUNS" --export-json /tmp/bench-render.json "$ours" "$theirs" >&2
python3 - "$RUNS" <<'PY'
import json, sys
r = json.load(open("/tmp/bench-render.json"))["results"]
ours, helm = r[0]["median"], r[1]["median"]
print(f"wall time median: cozy-render {ours*1000:.1f} ms, helm {helm*1000:.1f} ms, ratio helm/cozy-render = {helm/ours:.1f}x")
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
