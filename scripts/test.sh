#!/usr/bin/env bash
# Quick start 2: set up, build, and run every test (Qt Test through CTest, offscreen platform).
# Extra arguments go to ctest (for example -R model).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
bash "$here/scripts/build.sh"
echo "test: running the test suite"
export QT_QPA_PLATFORM=offscreen
ctest --test-dir "$build" --output-on-failure --timeout 600 "$@"
