#!/usr/bin/env bash
# Makes a cnn (one epoch on 2,000 Fashion-MNIST images: speed does not depend on accuracy) and
# its static int8 variant in a fresh workspace, then runs build/bin/explain_bench on both files
# (studio against bench/peers/explain_peer.py, alternating rounds).
# Usage: bench/explain_bench.sh [BUILD_DIR] [explain_bench options...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
shift || true
ws="$(mktemp -d)"
trap 'rm -rf "$ws"' EXIT
cli="$build/bin/modelstudio-cli"
"$cli" train --arch cnn --limit 2000 --epochs 1 --threads 2 --workspace "$ws" > /dev/null
"$cli" compress cnn:1 --method quantize-static --name cnn-int8 --threads 2 \
  --workspace "$ws" > /dev/null
path() { "$cli" show "$1" --json --workspace "$ws" | /usr/bin/python3 -c \
  'import json, sys; print(json.load(sys.stdin)["artifact_path"])'; }
"$build/bin/explain_bench" "$(path cnn:1)" "$(path cnn-int8:1)" "$@"
