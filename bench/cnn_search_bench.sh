#!/usr/bin/env bash
# The cnn search target (issue 12): a sweep over the cnn's space (bench/cnn-search.json: lr,
# batch size, AdamW's weight decay, arch.width 24-35 so the net stays under 100K parameters,
# arch.dropout; 15 epochs with a cosine schedule on the full 54,000/6,000 split, dlib's model
# sampler, ASHA from epoch 3, 12 trials, 2 in parallel at one thread each) that should reach
# >= 0.925 test accuracy on Fashion-MNIST within 60 minutes on a 2-core machine.
#   bench/cnn_search_bench.sh [--build build] [--workspace DIR] [--trials N]
#       [--config bench/cnn-search.json]
# bench/cnn-search-augment.json is the same search with the training batches augmented
# (train --augment: hflip, or hflip and shifts of up to 2 pixels, chosen by the search).
# Every event of `sweep --json` is stamped with the seconds since the sweep started
# (WS/sweep.jsonl); the summary gives, for every finished trial, when it ended and its test
# accuracy, the first moment the best trial so far by validation accuracy (the objective; the
# test split chooses nothing) had >= 0.925 test accuracy, and the sweep's wall time, then
# `sweep show`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
workspace=""
trials=""
config="$here/bench/cnn-search.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --workspace) workspace="$2"; shift 2 ;;
    --trials) trials="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$workspace" ] || workspace="$(mktemp -d /tmp/cnn-search-XXXXXX)"
cli="$build/bin/modelstudio-cli"
echo "workspace: $workspace" >&2
mkdir -p "$workspace"
extra=()
[ -z "$trials" ] || extra=(--trials "$trials")
"$cli" sweep --config "$config" --workspace "$workspace" --json "${extra[@]}" |
  /usr/bin/python3 -u -c '
import sys, time
start = time.monotonic()
for line in sys.stdin:
    if line.strip():
        print("{\"t\":%.1f,\"e\":%s}" % (time.monotonic() - start, line.strip()), flush=True)
' > "$workspace/sweep.jsonl"
/usr/bin/python3 - "$workspace/sweep.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
first = None
best = None   # the best finished trial by validation accuracy (the objective), as time goes
print("trial  status    ends_at_min  epochs  val_acc  test_acc  params")
for r in rows:
    e = r["e"]
    if e.get("event") != "trial":
        continue
    m = e.get("metrics", {})
    test = m.get("test_acc")
    print(f"{e['trial']:5d}  {e['status']:8s}  {r['t'] / 60:11.1f}  {e.get('epochs', 0):6d}  "
          f"{e.get('value') or float('nan'):7.4f}  {test if test is not None else float('nan'):8.4f}  "
          f"{json.dumps(e.get('params', {}), sort_keys=True)}")
    if e["status"] == "finished" and (best is None or e["value"] > best[1]):
        best = (e["trial"], e["value"], test)
        if test is not None and test >= 0.925 and first is None:
            first = (r["t"], e["trial"], test)
# The test split chooses nothing: the target counts the best trial by validation accuracy.
if first:
    print(f"the best trial by validation accuracy reached >= 0.925 test accuracy after "
          f"{first[0] / 60:.1f} min: trial {first[1]} ({first[2]:.4f})")
else:
    print("the best trial by validation accuracy never had >= 0.925 test accuracy"
          + (f" (last best: trial {best[0]}, val {best[1]:.4f}, test {best[2]:.4f})" if best else ""))
timed = [r["e"]["metrics"] for r in rows
         if r["e"].get("event") == "trial" and "wall_s" in r["e"].get("metrics", {})]
if timed:
    wall = sum(m["wall_s"] for m in timed)
    rest = wall - sum(m["train_s"] + m["score_s"] for m in timed)
    print(f"per trial: {wall / len(timed):.0f} s, of which scoring "
          f"{sum(m['score_s'] for m in timed) / len(timed):.1f} s and overhead (process start, "
          f"data, writes) {rest / len(timed):.1f} s = {100 * rest / wall:.2f} %")
end = [r for r in rows if r["e"].get("event") == "finished"]
if end:
    print(f"sweep wall time: {end[-1]['t'] / 60:.1f} min; best: {json.dumps(end[-1]['e'].get('best'))}")
PY
id=$(sed -n 's/.*"sweep":\([0-9]*\).*/\1/p' "$workspace/sweep.jsonl" | tail -1)
[ -z "$id" ] || "$cli" sweep show "$id" --workspace "$workspace"
