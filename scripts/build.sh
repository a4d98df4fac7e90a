#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then configures and builds ModelStudio in Release
# into build/ (override with BUILD_DIR). Idempotent: a second run only rebuilds what changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"

bash "$here/scripts/setup.sh"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "build: configuring $build (Release)"
  cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
fi
jobs="$(nproc 2>/dev/null || echo 2)"
echo "build: compiling with $jobs jobs (the first build takes a few minutes: LibTorch is large)"
cmake --build "$build" -j "$jobs"
echo "build: done, binaries in $build/bin"
