#!/usr/bin/env bash
# Compression search (issue 12): the fastest variant of a trained cnn within half a point of
# its test accuracy, found by a sweep of at most 20 compression trials, through the CLI:
#   bench/compress_search_bench.sh [--build build] [--workspace DIR] [--limit 12000]
#       [--epochs 3] [--trials 20]
# 1. trains the source: `train --arch cnn --epochs EPOCHS --limit LIMIT --threads 2` (the
#    fine-tuning of pruned trials then runs on the same LIMIT training images; every variant
#    is scored on the full 10,000-image test split);
# 2. runs bench/compress-search.json with the source filled in: methods prune-structured,
#    quantize-static, prune-structured+quantize-static, quantize-dynamic; sparsity, observer
#    and fine-tuning epochs searched by dlib's model sampler; objective `speedup` (the source's
#    latency over the variant's, batch 8, one thread, thread CPU time), constraint
#    test_acc_drop <= 0.005; one trial at a time on one thread;
# 3. prints `sweep show` (every trial, its speed-up and drop) and the best trial's line.
# A finished step is not run again in the same workspace (the source is reused).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
workspace=""
limit=12000
epochs=3
trials=20
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --workspace) workspace="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --trials) trials="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$workspace" ] || workspace="$(mktemp -d /tmp/compress-search-XXXXXX)"
cli="$build/bin/modelstudio-cli"
echo "workspace: $workspace" >&2
mkdir -p "$workspace"
if ! "$cli" show cnn-source:1 --workspace "$workspace" > /dev/null 2>&1; then
  "$cli" train --arch cnn --epochs "$epochs" --limit "$limit" --threads 2 --name cnn-source \
    --workspace "$workspace" > "$workspace/train.txt"
fi
/usr/bin/python3 - "$here/bench/compress-search.json" "$workspace/search.json" "$trials" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec['compress']['source'] = 'cnn-source:1'
spec['trials'] = int(sys.argv[3])
json.dump(spec, open(sys.argv[2], 'w'), indent=1)
PY
"$cli" sweep --config "$workspace/search.json" --workspace "$workspace" --json \
  > "$workspace/sweep.jsonl"
id=$(sed -n 's/.*"event":"sweep".*"sweep":\([0-9]*\).*/\1/p' "$workspace/sweep.jsonl" | head -1)
[ -n "$id" ] || id=$(sed -n 's/.*"sweep":\([0-9]*\).*/\1/p' "$workspace/sweep.jsonl" | tail -1)
"$cli" sweep show "$id" --workspace "$workspace"
tail -1 "$workspace/sweep.jsonl"
