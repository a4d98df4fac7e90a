#!/usr/bin/env bash
# Renders every panel from a workspace made to stress the window's layout, at the default window
# size and at a small one, so a person can look for clipped or overlapping text: a torchvision
# resnet18 imported as `resnet18-finetuned-cifar` at 1x3x224x224 with ten long class names,
# int8 and fp16 variants of it, a lineage of several children from two parents, ten-class
# confusion matrices (Fashion-MNIST's and the long names of an image folder), tags, aliases,
# notes, and the Serve panel answering requests to the 224x224 model.
# These pictures are for looking at, not for the docs (make_screenshots.sh draws those).
#
# Usage: docs/screenshots/make_layout_check.sh [BUILD_DIR] [OUT_DIR] [WORKSPACE]
# (a WORKSPACE made by an earlier call is reused as it is, so only the pictures are redrawn)
# Needs python3-torchvision and python3-pil (scripts/setup.sh installs both).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
out="${2:-$(mktemp -d)}"
ws="${3:-$(mktemp -d)}"
mkdir -p "$out"
cli=("$build/bin/modelstudio-cli")
gui=("$build/bin/modelstudio" --workspace "$ws")
export QT_QPA_PLATFORM=offscreen
run() { "${cli[@]}" "$@" --workspace "$ws" >/dev/null; }
model=resnet18-finetuned-cifar
images="$ws/long-class-images"

if [ ! -f "$ws/registry.db" ]; then
# An image folder with train/ and test/, ten classes with long names, 224x224 RGB.
/usr/bin/python3 - "$images" <<'PY'
import json, os, random, sys
from PIL import Image
root = sys.argv[1]
classes = ["airplane-passenger-jet", "automobile-sedan", "bird-songbird", "cat-domestic",
           "deer-white-tailed", "dog-retriever", "frog-tree", "horse-thoroughbred",
           "ship-container", "truck-with-trailer"]
random.seed(0)
for split, count in (("train", 6), ("test", 3)):
    for c, name in enumerate(classes):
        os.makedirs(os.path.join(root, split, name), exist_ok=True)
        for i in range(count):
            base = (25 * c, 255 - 20 * c, random.randrange(256))
            img = Image.new("RGB", (224, 224), base)
            img.paste((random.randrange(256), 90, 200 - 15 * c), (40 + 10 * i, 60, 150, 170))
            img.save(os.path.join(root, split, name, f"{i:03d}.png"))
json.dump({"size": 224, "color": "rgb"}, open(os.path.join(root, "imagefolder.json"), "w"))
PY
# torchvision's resnet18 (random weights: the layout is the point), scripted with its class
# names, as a Python user would hand it over. (From a file: torch.jit.script reads the source.)
cat >"$ws/resnet18_export.py" <<'PY'
import sys
from typing import List
import torch, torchvision
class Net(torch.nn.Module):
    class_names: List[str]
    def __init__(self):
        super().__init__()
        self.net = torchvision.models.resnet18(num_classes=10)
        self.class_names = ["airplane-passenger-jet", "automobile-sedan", "bird-songbird",
                            "cat-domestic", "deer-white-tailed", "dog-retriever", "frog-tree",
                            "horse-thoroughbred", "ship-container", "truck-with-trailer"]
    def forward(self, x):
        return self.net(x)
torch.manual_seed(0)
torch.jit.script(Net().eval()).save(sys.argv[1])
PY
/usr/bin/python3 "$ws/resnet18_export.py" "$ws/resnet18.pt"
run import "$ws/resnet18.pt" --name "$model" --input-shape 1,3,224,224 \
  --notes "torchvision resnet18, fine-tuned on CIFAR-10 upscaled to 224x224"
run compress "$model:1" --method quantize-dynamic --dataset "$images"
run compress "$model:1" --method fp16 --dataset "$images"
run compress "$model:2" --method fp16 --dataset "$images"
run tag "$model:1" dataset=cifar10-224-upscaled
run tag "$model:1" owner=vision-team
run alias set "$model" production "$model:2"
run alias set "$model" staging "$model:3"
run bench "$model:1" "$model:2" "$model:3" --batch-sizes 1 --threads 2 --repetitions 5 \
  --dataset "$images"
# A cnn family with several children from two parents, so that edge labels meet.
run train --arch cnn --limit 3000 --epochs 1 --seed 1
run train --arch cnn --limit 3000 --epochs 1 --seed 2
run compress cnn:1 --method quantize-static
run compress cnn:1 --method quantize-dynamic
run compress cnn:1 --method fp16
run compress cnn:2 --method prune-unstructured --sparsity 0.5 --finetune-epochs 1
run compress cnn:2 --method quantize-dynamic
run bench cnn:1 cnn:3 cnn:6 cnn:7 --batch-sizes 1,32 --threads 1 --repetitions 5
run tag cnn:3 calibration=10-batches-of-64
run alias set cnn production cnn:3
fi

shoot() {   # NAME SIZE [ARGS...]
  local name="$1" size="$2"
  shift 2
  "${gui[@]}" --window-size "$size" --screenshot "$out/$name-$size.png" "$@"
}
for size in 1280x800 1024x640; do
  shoot data "$size" --panel data --dataset "$images"
  shoot versions "$size" --panel versions --select "$model:1"
  shoot versions-cnn "$size" --panel versions --select cnn:1
  shoot compare "$size" --panel compare
  shoot compare-variants "$size" --panel compare --compare-tab variants
  shoot train "$size" --panel train

  # The Serve panel while a client posts 224x224 images to the resnet.
  port=8798
  shoot serve "$size" --serve "$model:2" --port "$port" --screenshot-delay 8000 &
  window=$!
  /usr/bin/python3 - "$port" "$model" <<'PY' &
import json, random, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/v2/models/{sys.argv[2]}/infer"
body = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224],
                               "data": [random.random() for _ in range(3 * 224 * 224)]}]})
body = body.encode()
end = time.time() + 9
while time.time() < end:
    try:
        urllib.request.urlopen(urllib.request.Request(
            url, body, {"Content-Type": "application/json", "Expect": ""}), timeout=5).read()
    except OSError:
        time.sleep(0.2)   # not listening yet
PY
  client=$!
  wait "$window"
  wait "$client" || true
done
echo "pictures: $out"
echo "workspace: $ws"
