#!/usr/bin/env bash
# Builds the workspace docs/screenshots/versions.png shows: two mlp runs and a cnn run trained
# with modelstudio-cli, each mlp pruned in Python (half of every weight matrix's smallest
# weights zeroed, a real TorchScript model) and imported back with its parent, a tag, an alias
# and a note. Then renders the Versions panel on the offscreen platform.
#
# Usage: docs/screenshots/versions_workspace.sh [BUILD_DIR] [WORKSPACE]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
ws="${2:-$(mktemp -d)}"
cli="$build/bin/modelstudio-cli"

"$cli" train --workspace "$ws" --arch mlp --limit 3000 --epochs 2 --seed 1 >/dev/null
"$cli" train --workspace "$ws" --arch mlp --limit 3000 --epochs 2 --lr 0.0003 --seed 2 >/dev/null
"$cli" train --workspace "$ws" --arch cnn --limit 2000 --epochs 2 >/dev/null

prune() {   # REF OUT: magnitude-prune REF's artifact to OUT with Python's PyTorch
  local artifact
  artifact="$("$cli" show "$1" --workspace "$ws" --json |
              /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["artifact_path"])')"
  /usr/bin/python3 - "$artifact" "$2" <<'PY'
import sys, torch
m = torch.jit.load(sys.argv[1])
with torch.no_grad():
    for name, p in m.named_parameters():
        if p.dim() == 2:
            threshold = p.abs().flatten().kthvalue(p.numel() // 2).values
            p.mul_((p.abs() > threshold).float())
m.save(sys.argv[2])
PY
}
prune mlp:1 "$ws/mlp1-pruned.pt"
"$cli" import "$ws/mlp1-pruned.pt" --workspace "$ws" --name mlp --input-shape 1,1,28,28 \
  --kind pruned --parent mlp:1 --notes "50 % magnitude pruning of mlp:1, in Python" >/dev/null
prune mlp:2 "$ws/mlp2-pruned.pt"
"$cli" import "$ws/mlp2-pruned.pt" --workspace "$ws" --name mlp --input-shape 1,1,28,28 \
  --kind pruned --parent mlp:2 >/dev/null
"$cli" tag mlp:2 --workspace "$ws" dataset=fmnist-3k >/dev/null
"$cli" alias set --workspace "$ws" mlp production mlp:4 >/dev/null

QT_QPA_PLATFORM=offscreen "$build/bin/modelstudio" --workspace "$ws" --panel versions \
  --screenshot "$here/docs/screenshots/versions.png"
echo "workspace: $ws"
