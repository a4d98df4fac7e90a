#!/usr/bin/env bash
# Data-parallel scaling on this machine (issue 14): one epoch of the mlp and the cnn as
#   A: 1 process x 1 thread, B: 1 process x 2 threads, C: 2 ranks x 1 thread (--nproc-per-node 2)
# in alternating rounds (A B C A B C ...), so that load from other programs hits all three alike.
# Prints each configuration's median epoch time, the ratios against A, and for C the share of
# an epoch rank 0 spent in the gradients' all-reduce (the `allreduce_s` metric of a distributed
# epoch: flatten, Gloo all-reduce, copy back).
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
  a=(); b=(); c=(); share=()
  for ((r = 0; r < rounds; ++r)); do
    read -r t _ < <(run --arch "$arch" --threads 1); a+=("$t")
    read -r t _ < <(run --arch "$arch" --threads 2); b+=("$t")
    read -r t ar < <(run --arch "$arch" --threads 1 --nproc-per-node 2); c+=("$t")
    share+=("$(/usr/bin/python3 -c "print($ar / $t)")")
  done
  ma=$(median "${a[@]}"); mb=$(median "${b[@]}"); mc=$(median "${c[@]}")
  ms=$(median "${share[@]}")
  /usr/bin/python3 - "$arch" "$ma" "$mb" "$mc" "$ms" <<'EOF'
import sys
arch, a, b, c, s = sys.argv[1], *map(float, sys.argv[2:])
print(f"{arch}: epoch 1p x 1t {a:.2f} s | 1p x 2t {b:.2f} s ({a / b:.2f}x) | "
      f"2 ranks x 1t {c:.2f} s ({a / c:.2f}x; vs 1p x 2t {b / c:.2f}x) | "
      f"all-reduce {100 * s:.1f} % of rank 0's epoch")
EOF
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "load after: $load_after"
