#!/usr/bin/env bash
# Data-parallel scaling on this machine (issue 14): one epoch of the mlp and the cnn as
#   A: 1 process x 1 thread, B: 1 process x 2 threads,
#   C: 2 ranks x 1 thread (--nproc-per-node 2), the all-reduce overlapped with backward,
#   D: the same with MODELSTUDIO_DIST_OVERLAP=0 (every bucket's all-reduce after backward),
# in alternating rounds (A B C D A B C D ...), so that load from other programs hits all alike.
# Prints each configuration's median epoch time, the ratios against A, and for C and D the
# share of an epoch rank 0 spent on the gradients' all-reduce outside backward (the
# `allreduce_s` metric of a distributed epoch: bucket copies, the wait for the sums, copy back).
#
# usage: bench/dist_bench.sh [BUILD_DIR] [ROUNDS] [LIMIT]
#   defaults: build 5 20000
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
rounds="${2:-5}"
limit="${3:-20000}"
cli="$build/bin/modelstudio-cli"
ws="$(mktemp -d)"
trap 'rm -rf "$ws"' EXIT

# epoch_s and allreduce_s of the run's (first) epoch event, from rank 0's JSON lines.
run() {
  "$cli" train --workspace "$ws" --no-register --json --dataset fashion-mnist --epochs 1 \
    --limit "$limit" --batch-size 128 --seed 1 "$@" |
    /usr/bin/python3 -c '
import json, sys
# Reads to the end: closing the pipe early would kill the writer with SIGPIPE.
epochs = [e for e in map(json.loads, sys.stdin) if e.get("event") == "epoch"]
print(epochs[0]["epoch_s"], epochs[0].get("allreduce_s", 0.0))'
}

median() {
  /usr/bin/python3 -c 'import statistics, sys
print(statistics.median(map(float, sys.argv[1:])))' "$@"
}

echo "dist_bench: $rounds rounds, --limit $limit (90 % trains), batch 128, $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
for arch in mlp cnn; do
  a=(); b=(); c=(); d=(); share_c=(); share_d=()
  for ((r = 0; r < rounds; ++r)); do
    read -r t _ < <(run --arch "$arch" --threads 1); a+=("$t")
    read -r t _ < <(run --arch "$arch" --threads 2); b+=("$t")
    read -r t ar < <(run --arch "$arch" --threads 1 --nproc-per-node 2); c+=("$t")
    share_c+=("$(/usr/bin/python3 -c "print($ar / $t)")")
    read -r t ar < <(MODELSTUDIO_DIST_OVERLAP=0 run --arch "$arch" --threads 1 \
                       --nproc-per-node 2); d+=("$t")
    share_d+=("$(/usr/bin/python3 -c "print($ar / $t)")")
  done
  /usr/bin/python3 - "$arch" "$(median "${a[@]}")" "$(median "${b[@]}")" \
    "$(median "${c[@]}")" "$(median "${d[@]}")" "$(median "${share_c[@]}")" \
    "$(median "${share_d[@]}")" <<'EOF'
import sys
arch, a, b, c, d, sc, sd = sys.argv[1], *map(float, sys.argv[2:])
print(f"{arch}: epoch 1p x 1t {a:.2f} s | 1p x 2t {b:.2f} s ({a / b:.2f}x) | "
      f"2 ranks x 1t {c:.2f} s ({a / c:.2f}x; vs 1p x 2t {b / c:.2f}x), "
      f"all-reduce {100 * sc:.1f} % of rank 0's epoch | "
      f"without overlap {d:.2f} s ({a / d:.2f}x), all-reduce {100 * sd:.1f} %")
EOF
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "load after: $load_after"
