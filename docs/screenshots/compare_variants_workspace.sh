#!/usr/bin/env bash
# Builds the workspace docs/screenshots/compare-variants.png shows: a cnn trained with
# modelstudio-cli (1 epoch on 3,000 images), its static int8, dynamic int8 and fp16 variants made
# by bench/quantize_bench (the core's compression methods; --keep writes them out) and imported
# back with their parent, all four benchmarked on the whole Fashion-MNIST test split with one
# thread. Then renders the Compare panel's Variants tab on the offscreen platform.
#
# Usage: docs/screenshots/compare_variants_workspace.sh [BUILD_DIR] [WORKSPACE]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
ws="${2:-$(mktemp -d)}"
cli="$build/bin/modelstudio-cli"
files="$(mktemp -d)"

"$cli" train --workspace "$ws" --arch cnn --epochs 1 --limit 3000 --threads 2 \
  --out "$files/cnn.pt" >/dev/null
"$build/bin/quantize_bench" "$files/cnn.pt" --threads 1 --rounds 1 --reps 5 \
  --keep "$files" >/dev/null
for variant in quantize-static quantize-dynamic fp16; do
  "$cli" import "$files/$variant.pt" --workspace "$ws" --name cnn --parent cnn:1 \
    --kind quantized --notes "$variant of cnn:1 (bench/quantize_bench --keep)" >/dev/null
done
# One --dataset for all: the imports record none, and the same 10,000 test images for every row.
"$cli" bench cnn:1 cnn:2 cnn:3 cnn:4 --workspace "$ws" --dataset fashion-mnist \
  --batch-sizes 1,8,32,128 --threads 1 >/dev/null
QT_QPA_PLATFORM=offscreen "$build/bin/modelstudio" --workspace "$ws" --panel compare \
  --compare-tab variants --screenshot "$here/docs/screenshots/compare-variants.png"
echo "workspace: $ws"
