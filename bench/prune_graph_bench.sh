#!/usr/bin/env bash
# Structured pruning of imported torchvision CNNs (issue 11, item 4) through the CLI:
#   bench/prune_graph_bench.sh [--build build] [--workspace DIR] [--threads 2] [--rounds 5]
#       [--train 12000] [--test 2000] [--base-epochs 3] [--finetune-epochs 2] [--sparsity 0.5]
#       [--flags "--schedule cosine"]
# 1. writes Fashion-MNIST as 3x32x32 RGB PNGs (bench/prune_graph_models.py data: zero-padded
#    by 2, grey copied to three channels) into WORKSPACE/fmnist32/{train,test}/<label>/;
# 2. trains torchvision resnet18 and mobilenet_v2 (10 classes) in Python on those pixels for
#    BASE_EPOCHS and scripts them: the models a researcher brings;
# 3. imports each (`import --input-shape 1,3,32,32`) and prunes it (`compress --method
#    prune-structured --sparsity S --finetune-epochs F --dataset FOLDER`); the job measures the
#    source's and the variant's accuracy on the folder's test split;
# 4. times source and variant at batch 8 on one thread (build/bin/compress_bench, alternating
#    rounds, speed-up = median of per-round ratios).
# A step whose output is there already is not run again, so a second call prints the tables.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
workspace=""
threads=2
rounds=5
train=12000
test=2000
base_epochs=3
finetune_epochs=2
sparsity=0.5
flags=""   # more flags for every compress run (its fine-tune's schedule, learning rate, ...)
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --workspace) workspace="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --train) train="$2"; shift 2 ;;
    --test) test="$2"; shift 2 ;;
    --base-epochs) base_epochs="$2"; shift 2 ;;
    --finetune-epochs) finetune_epochs="$2"; shift 2 ;;
    --sparsity) sparsity="$2"; shift 2 ;;
    --flags) flags="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$workspace" ] || workspace="$(mktemp -d /tmp/prune-graph-bench-XXXXXX)"
cli="$build/bin/modelstudio-cli"
models="/usr/bin/python3 $here/bench/prune_graph_models.py"
folder="$workspace/fmnist32"
mkdir -p "$workspace/logs"
echo "workspace: $workspace" >&2

[ -d "$folder/test" ] || $models data "$folder" --train "$train" --test "$test"
[ -f "$workspace/mobilenet_v2.pt" ] ||
  $models train "$folder" "$workspace" --epochs "$base_epochs" --threads "$threads" \
    | tee "$workspace/logs/python-train.txt" >&2

for name in resnet18 mobilenet_v2; do
  log="$workspace/logs/$name-prune.jsonl"
  if ! grep -q '"status":"finished"' "$log" 2>/dev/null; then
    "$cli" import "$workspace/$name.pt" --name "$name" --input-shape 1,3,32,32 \
      --workspace "$workspace" >&2
    "$cli" compress "$name:1" --method prune-structured --sparsity "$sparsity" \
      --finetune-epochs "$finetune_epochs" --dataset "$folder" --threads "$threads" \
      --workspace "$workspace" --json $flags > "$log"
  fi
done

echo "Python-trained sources: $(tr '\n' ';' < "$workspace/logs/python-train.txt")"
for name in resnet18 mobilenet_v2; do
  /usr/bin/python3 - "$workspace/logs/$name-prune.jsonl" <<'PY'
import json, sys
end = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')][-1]
m, d = end['metrics'], end['details']
print('%s: parameters %d -> %d (%.1f %%); test acc %.4f -> %.4f (%+.2f pt) after %s' % (
    end['version'], m['source_parameters'], m['parameters'],
    100.0 * m['parameters'] / m['source_parameters'], m['source_test_acc'], m['test_acc'],
    100.0 * m['test_acc_delta'], 'pruning and fine-tuning'))
PY
  "$build/bin/compress_bench" "$workspace" "$name:1" "$name:2" --batch 8 --threads 1 \
    --rounds "$rounds"
done
