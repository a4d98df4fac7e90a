#!/usr/bin/env bash
# Quick start 1: set up, build, and start the studio window on the default workspace.
# Extra arguments go to the studio (for example --workspace DIR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/build.sh"
echo "studio: starting $here/build/bin/modelstudio"
exec "${BUILD_DIR:-$here/build}/bin/modelstudio" "$@"
