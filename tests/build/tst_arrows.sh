#!/usr/bin/env bash
# The allowed arrows between targets are checked when the build is configured: a project that
# declares a core-layer library depending on a ui-layer one must fail to configure, naming the
# arrow; the allowed direction must configure. Uses the project's own helpers on stub targets.
# Usage: tst_arrows.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src="$1"
work="$2"
rm -rf "$work"
mkdir -p "$work/ok" "$work/bad"
echo 'void f() {}' > "$work/stub.cpp"

header="cmake_minimum_required(VERSION 3.22)
project(Arrows LANGUAGES CXX)
list(APPEND CMAKE_MODULE_PATH \"$src/cmake\")
include(ModelStudioHelpers)"

cat > "$work/ok/CMakeLists.txt" <<CMAKE
$header
ms_add_library(stub-core ALIAS Stub::Core LAYER core TYPE STATIC SOURCES "$work/stub.cpp")
ms_add_library(stub-ui ALIAS Stub::Ui LAYER ui TYPE STATIC SOURCES "$work/stub.cpp"
               DEPENDS Stub::Core)
CMAKE
cat > "$work/bad/CMakeLists.txt" <<CMAKE
$header
ms_add_library(stub-ui ALIAS Stub::Ui LAYER ui TYPE STATIC SOURCES "$work/stub.cpp")
ms_add_library(stub-core ALIAS Stub::Core LAYER core TYPE STATIC SOURCES "$work/stub.cpp"
               DEPENDS Stub::Ui)
CMAKE

if ! cmake -S "$work/ok" -B "$work/ok/build" > "$work/ok.log" 2>&1; then
  echo "FAIL: ui -> core should configure"; cat "$work/ok.log"; exit 1
fi
if cmake -S "$work/bad" -B "$work/bad/build" > "$work/bad.log" 2>&1; then
  echo "FAIL: core -> ui configured; the arrows are not checked"; exit 1
fi
if ! grep -q "stub-core (core) may not depend on Stub::Ui (ui)" "$work/bad.log"; then
  echo "FAIL: the refusal does not name the arrow:"; cat "$work/bad.log"; exit 1
fi
echo "PASS: core -> ui refused at configure time, ui -> core accepted"
