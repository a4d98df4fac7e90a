#!/usr/bin/env bash
# Accuracy on the full Fashion-MNIST test set (10,000 images) after the issue's epoch budgets:
# cnn 3 epochs (reference "2 Conv <100K parameters": 0.925), mlp 10 epochs (reference MLP
# 256-128-100: 0.883). Usage: bench/accuracy_bench.sh [BUILD_DIR] [THREADS]
set -euo pipefail
build="${1:-$(dirname "$0")/../build}"
threads="${2:-2}"
ws="$(mktemp -d)"
trap 'rm -rf "$ws"' EXIT
for spec in "cnn 3" "mlp 10"; do
  set -- $spec
  "$build/bin/modelstudio-cli" train --arch "$1" --epochs "$2" --threads "$threads" \
      --seed 0 --json --workspace "$ws" \
    | /usr/bin/python3 -c '
import json, sys
arch, epochs = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "epoch":
        print(f"{arch} epoch {e[\"epoch\"]}/{epochs}: val_acc {e[\"val_acc\"]:.4f} "
              f"test_acc {e[\"test_acc\"]:.4f} ({e[\"samples_per_s\"]:.0f} samples/s)", flush=True)
    elif e["event"] == "finished":
        print(f"{arch}: {e[\"status\"]}, final test_acc {e[\"final\"][\"test_acc\"]:.4f}")
' "$1" "$2"
done
