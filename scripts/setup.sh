#!/usr/bin/env bash
# Installs the Debian packages ModelStudio needs to build, run and test.
# Idempotent: packages already present are not touched, and apt is only called when
# something is missing. Needs root (or sudo) only when it has something to install.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # Qt 6: core, widgets, SQL (+ SQLite driver), network, offscreen/xcb platform plugins
  qt6-base-dev qt6-base-dev-tools libqt6sql6-sqlite
  qt6-qpa-plugins libgl-dev
  # a font, so the window and its offscreen screenshots render text on a bare machine
  fonts-dejavu-core
  # plots, and their SVG export (QSvgGenerator)
  libqcustomplot-dev qt6-svg-dev
  # LibTorch (CPU) and the BLAS it must run on: without OpenBLAS it falls back to the
  # reference BLAS, about 30x slower (docs/architecture.md, "Measured here")
  libtorch-dev libopenblas0-openmp
  # Gloo's headers, which LibTorch's c10d ProcessGroupGloo.hpp includes (data-parallel training)
  libgloo-dev
  zlib1g-dev
  # zip archives: TorchServe's .mar export
  libzip-dev
  # the sweep's model-based sampler (dlib's global_function_search)
  libdlib-dev
  # the built-in datasets: images, and text for language models (fortune cookies)
  dataset-fashion-mnist fortunes
  # bpe and unigram tokenizers for language models (and the Python peer's, bench/lm_bench.py)
  libsentencepiece-dev python3-sentencepiece
  # interop checks and the Python peer for benchmarks
  python3-torch
  # a 224x224 model (resnet18) for the window's layout check (docs/screenshots)
  python3-torchvision
  # decoding images in the generated TorchServe handler's test
  python3-pil
  # the package test validates the installed .desktop entry
  desktop-file-utils
  # serving benchmark: load generator and the Flask peer (bench/serve_bench.py)
  wrk python3-flask
  # the sweep benchmark's peer (bench/peers/optuna_peer_sweep.py)
  python3-optuna
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} Debian packages are present"
  exit 0
fi

echo "setup: installing ${#missing[@]} missing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install packages" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or empty on a fresh machine.
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
