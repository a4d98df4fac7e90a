#!/usr/bin/env bash
# Compression on Fashion-MNIST through the CLI, as a user would run it:
#   bench/compress_bench.sh [--build build] [--workspace DIR] [--threads 2] [--rounds 5]
# Trains the `cnn` (3 epochs, studio defaults), then makes its variants (structured pruning of
# half the channels + 2 fine-tuning epochs; unstructured 90 % + 2 fine-tuning epochs, gradual;
# a distilled small-cnn student, 3 epochs) and trains the same student alone for the same
# epochs, and prints one table (build/bin/compress_bench): parameters, accuracy and batch-32
# single-thread latency against the cnn, measured in alternating rounds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
workspace=""
threads=2
rounds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --workspace) workspace="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$workspace" ] || workspace="$(mktemp -d /tmp/compress-bench-XXXXXX)"
cli=("$build/bin/modelstudio-cli")
ws=(--workspace "$workspace" --threads "$threads")
student="$here/bench/student-small-cnn.json"

ref() { sed -n 's/.*"version":"\([^"]*\)".*/\1/p' | tail -1; }
echo "workspace: $workspace" >&2
base=$("${cli[@]}" train --arch cnn --epochs 3 --name cnn "${ws[@]}" --json | ref)
structured=$("${cli[@]}" compress "$base" --method prune-structured --sparsity 0.5 \
             --finetune-epochs 2 --name cnn-structured "${ws[@]}" --json | ref)
unstructured=$("${cli[@]}" compress "$base" --method prune-unstructured --sparsity 0.9 \
               --schedule gradual --finetune-epochs 2 --name cnn-unstructured "${ws[@]}" --json | ref)
distilled=$("${cli[@]}" compress "$base" --method distill --student-arch "$student" --epochs 3 \
            --name cnn-distilled "${ws[@]}" --json | ref)
alone=$("${cli[@]}" train --arch "$student" --epochs 3 --name student-alone "${ws[@]}" --json | ref)
echo "versions: $base $structured $unstructured $distilled $alone" >&2
"$build/bin/compress_bench" "$workspace" "$base" "$structured" "$unstructured" "$distilled" \
  "$alone" --batch 32 --threads 1 --rounds "$rounds"
