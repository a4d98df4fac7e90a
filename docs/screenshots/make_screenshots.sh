#!/usr/bin/env bash
# Renders every picture in docs/screenshots from one fresh workspace, made only with the
# studio's own commands: two mlp runs and a cnn run, pruned and int8 variants of them made with
# `compress`, a tag, an alias and a note, and benchmarks of the cnn family. Then each panel is
# drawn on the offscreen platform; the Serve panel while a client sends it requests, the
# Optimize panel after a small sweep (docs/screenshots/sweep.json), the Chat panel with a small
# gpt trained on fortunes.
#
# Usage: docs/screenshots/make_screenshots.sh [BUILD_DIR] [WORKSPACE]
# (a WORKSPACE made by an earlier call is reused as it is, so only the pictures are redrawn)
# Takes about ten minutes on two cores (the training runs are most of it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
ws="${2:-$(mktemp -d)}"
out="$here/docs/screenshots"
cli=("$build/bin/modelstudio-cli")
gui=("$build/bin/modelstudio" --workspace "$ws")
export QT_QPA_PLATFORM=offscreen
run() { "${cli[@]}" "$@" --workspace "$ws" >/dev/null; }

# An existing workspace from an earlier call is drawn again as it is.
if [ ! -f "$ws/registry.db" ]; then
run train --arch mlp --limit 6000 --epochs 4 --seed 1
run train --arch mlp --limit 6000 --epochs 4 --lr 0.0003 --seed 2
run train --arch cnn --limit 6000 --epochs 4
run compress cnn:1 --method prune-structured --sparsity 0.5 --finetune-epochs 1
run compress cnn:1 --method quantize-static
run compress mlp:1 --method prune-unstructured --sparsity 0.8 --finetune-epochs 1
run tag mlp:2 dataset=fmnist-6k
run alias set mlp production mlp:3
run note cnn:3 "int8 of cnn:1, calibrated on 10 batches"
run bench cnn:1 cnn:2 cnn:3 --batch-sizes 1,32 --threads 1
fi

"${gui[@]}" --panel data --dataset fashion-mnist --screenshot "$out/data.png"
"${gui[@]}" --panel data --dataset fortunes --screenshot "$out/data-text.png"
"${gui[@]}" --panel versions --screenshot "$out/versions.png"
"${gui[@]}" --panel compare --screenshot "$out/compare.png"
"${gui[@]}" --panel compare --compare-tab variants --screenshot "$out/compare-variants.png"
"${gui[@]}" --panel try --screenshot "$out/try.png"

# The Serve panel with live traffic: a client posts test images while the window waits.
port=8799
"${gui[@]}" --serve cnn:1 --port "$port" --screenshot "$out/serve.png" \
  --screenshot-delay 6000 &
window=$!
/usr/bin/python3 - "$port" <<'PY' &
import json, random, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/v2/models/cnn/infer"
body = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 1, 28, 28],
                               "data": [random.random() for _ in range(784)]}]}).encode()
end = time.time() + 7
while time.time() < end:
    try:
        urllib.request.urlopen(urllib.request.Request(
            url, body, {"Content-Type": "application/json"}), timeout=2).read()
    except OSError:
        time.sleep(0.2)   # not listening yet
PY
client=$!
wait "$window"
wait "$client" || true
# The Chat panel: a small gpt trained on fortunes answers one question (after the pictures above,
# which picture the image models).
if [ -z "$("${cli[@]}" models --workspace "$ws" 2>/dev/null | grep fortune-gpt || true)" ]; then
  run train --dataset fortunes --task lm --arch gpt --n-layer 2 --n-embd 96 --block-size 96 \
    --batch-size 32 --epochs 4 --steps-per-epoch 150 --optimizer adamw --lr 0.003 \
    --schedule cosine --warmup-steps 50 --clip-grad-norm 1 --name fortune-gpt
fi
"${gui[@]}" --panel chat --screenshot "$out/chat.png"

# The Optimize panel on a finished sweep (12 trials, ASHA early stopping); --no-register keeps
# the Train panel's picture free of its version.
if [ -z "$("${cli[@]}" sweeps --workspace "$ws" 2>/dev/null | grep mlp-search || true)" ]; then
  run sweep --config "$out/sweep.json" --no-register
fi
"${gui[@]}" --panel optimize --screenshot "$out/optimize.png"
# Then a sweep of two objectives (accuracy and latency, a constraint on accuracy): the newest
# sweep is the one the panel shows, on its Pareto front tab.
if [ -z "$("${cli[@]}" sweeps --workspace "$ws" 2>/dev/null | grep mlp-front || true)" ]; then
  run sweep --config "$out/sweep-front.json"
fi
"${gui[@]}" --panel optimize --screenshot "$out/optimize-front.png"

# Last, since the run it pictures adds a version to the workspace. Two data-parallel processes
# of one thread each: the Processes field and the status line's world size show.
"${gui[@]}" --config "$out/train.json" --processes 2 --start --screenshot "$out/train.png"
echo "workspace: $ws"
