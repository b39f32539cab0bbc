#!/usr/bin/env bash
# Regenerate the stored `helm template` outputs of the Go-template example chart.
# Needs a helm binary (HELM=/path/to/helm or helm on PATH); tests only read the stored files.
set -euo pipefail
cd "$(dirname "$0")"
HELM="${HELM:-helm}"
command -v "$HELM" >/dev/null || { echo "helm not found; set HELM=/path/to/helm" >&2; exit 2; }
grep -v '^#' cases.txt | while IFS='|' read -r name args; do
  name="$(echo "$name" | xargs)"
  # shellcheck disable=SC2086
  "$HELM" template demo helm/demo $args > "expected/$name.yaml"
  echo "expected/$name.yaml"
done
