#!/usr/bin/env bash
# Builds the .deb and .tar.gz with CPack into a temporary folder, unpacks them as
# `dpkg-deb -x` / tar would on another machine, and runs the studio from there: --version,
# archs, a 1-epoch training on 500 Fashion-MNIST samples and a window screenshot on the
# offscreen platform. Also checks the package's Depends: the key run-time packages, and the
# Debian package of every library the installed binaries link directly.
# Usage: tst_package.sh BUILD_DIR
set -euo pipefail
build="$1"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ms-package-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "-- $*"; }
# Whether Depends names package $1 (alone or as an alternative), whatever version it asks.
declared() { tr ',|' '\n\n' <<<"$depends" | sed 's/(.*//; s/ //g' | grep -qxF "$1"; }

step "cpack (DEB, TGZ) into $tmp/out"
(cd "$build" && cpack -G "DEB;TGZ" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) \
  || { cat "$tmp/cpack.log"; fail "cpack failed"; }
debs=("$tmp"/out/modelstudio_*.deb)
tgzs=("$tmp"/out/modelstudio-*.tar.gz)
[ -f "${debs[0]}" ] || fail "no modelstudio_*.deb in $tmp/out: $(ls "$tmp/out")"
[ -f "${tgzs[0]}" ] || fail "no modelstudio-*.tar.gz in $tmp/out: $(ls "$tmp/out")"
deb="${debs[0]}"
echo "   $(basename "$deb"), $(basename "${tgzs[0]}")"

step "control fields"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "   Depends: $depends"
[ "$(dpkg-deb -f "$deb" Package)" = modelstudio ] || fail "Package is not modelstudio"
for p in libtorch1.13 libopenblas0-openmp dataset-fashion-mnist libqt6core6 libqt6gui6 \
         libqt6widgets6 libqt6network6 libqt6sql6-sqlite libqcustomplot2.1-qt6 libzip4; do
  declared "$p" || fail "Depends does not list $p"
done

recommends="$(dpkg-deb -f "$deb" Recommends)"
echo "   Recommends: $recommends"
tr ',' '\n' <<<"$recommends" | sed 's/ //g' | grep -qxF fortunes \
  || fail "Recommends does not list fortunes (the built-in text dataset)"

step "unpack with dpkg-deb -x"
root="$tmp/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/modelstudio usr/bin/modelstudio-cli usr/share/applications/modelstudio.desktop \
         usr/share/icons/hicolor/scalable/apps/modelstudio.svg \
         usr/share/icons/hicolor/48x48/apps/modelstudio.png; do
  [ -e "$root/$f" ] || fail "the package lacks /$f"
done
ls "$root"/usr/lib/libmodelstudio-core.so.* >/dev/null || fail "no libmodelstudio-core in /usr/lib"
command -v desktop-file-validate >/dev/null \
  || fail "desktop-file-validate is missing: run scripts/setup.sh (desktop-file-utils)"
desktop-file-validate "$root/usr/share/applications/modelstudio.desktop" \
  || fail "the .desktop entry does not validate"
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_png "$root/usr/share/icons/hicolor/48x48/apps/modelstudio.png" \
  || fail "the 48x48 icon is not a PNG"

step "every directly linked library comes from the package or a declared dependency"
# The executables, our libraries and whatever plugins were installed.
for elf in "$root"/usr/bin/* $(find "$root/usr/lib" -type f -name '*.so*'); do
  [ -L "$elf" ] && continue
  ldd_out="$(ldd "$elf")"
  plugin=0
  case "$elf" in "$root"/usr/lib/modelstudio/*) plugin=1 ;; esac
  for needed in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    # A plugin may leave our own libraries to the executable that loads it; the executables
    # and our libraries must find them through their RPATH (checked below).
    [ "$plugin" = 1 ] && [ -e "$root/usr/lib/$needed" ] && continue
    # "libfoo.so.1 => /path (0x...)", or "/lib64/ld-linux-x86-64.so.2 (0x...)" for the loader.
    path="$(awk -v n="$needed" '$1 == n && $2 == "=>" {print $3; exit}
             substr($1, length($1) - length(n)) == "/" n {print $1; exit}' <<<"$ldd_out")"
    [ -n "$path" ] && [ "$path" != "not" ] || fail "$elf: cannot resolve $needed"
    case "$path" in
      "$root"/*) continue ;;   # ours, from the package
      "$build"/*) fail "$elf finds $needed in the build tree ($path): install RPATH not set" ;;
    esac
    owner="$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(realpath "$path")" 2>/dev/null \
             || dpkg -S "${path#/usr}" 2>/dev/null || true)"
    pkg="$(head -n1 <<<"$owner" | cut -d: -f1)"
    [ -n "$pkg" ] || fail "$needed ($path) belongs to no Debian package"
    declared "$pkg" \
      || fail "$(basename "$elf") links $needed from $pkg, which Depends does not list"
  done
done

step "run from the unpacked root"
cli="$root/usr/bin/modelstudio-cli"
export MODELSTUDIO_WORKSPACE="$tmp/workspace" HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/data" \
       XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -m 700 "$tmp/runtime"
unset LD_LIBRARY_PATH
version="$("$cli" --version)"
grep -q "$(dpkg-deb -f "$deb" Version)" <<<"$version" || fail "--version printed: $version"
archs="$("$cli" archs)"
grep -q mlp <<<"$archs" && grep -q cnn <<<"$archs" || fail "archs printed: $archs"
# The built-in dataset is where dataset-fashion-mnist puts it.
datasets="$("$cli" datasets --json)"
grep -q '"path":"/usr/share/datasets/fashion-mnist"' <<<"$datasets" \
  && grep -q '"debian_package":"dataset-fashion-mnist"' <<<"$datasets" \
  || fail "datasets printed: $datasets"
dpkg -L dataset-fashion-mnist | grep -q '^/usr/share/datasets/fashion-mnist/train-images' \
  || fail "dataset-fashion-mnist does not install /usr/share/datasets/fashion-mnist"
"$cli" train --dataset fashion-mnist --arch mlp --epochs 1 --limit 500 --json \
  >"$tmp/train.jsonl" || { cat "$tmp/train.jsonl"; fail "train exited $?"; }
grep -q '"event":"finished"' "$tmp/train.jsonl" \
  || fail "no finished line: $(cat "$tmp/train.jsonl")"
shown="$("$cli" show mlp:1 --json)" || fail "show mlp:1 exited $?"
grep -q '"ref":"mlp:1"' <<<"$shown" && grep -q '"kind":"trained"' <<<"$shown" \
  || fail "the trained model is not in the registry: $shown"

# SentencePiece comes from lib/libmodelstudio-spm.so beside the core library, opened at run time
# (core/spm/SpmApi.h): a tiny gpt with a spm-bpe tokenizer trains and generates from the package.
[ -f "$root/usr/lib/libmodelstudio-spm.so" ] || fail "no libmodelstudio-spm.so in /usr/lib"
"$cli" train --dataset fortunes --limit 1000 --task lm --tokenizer spm-bpe --vocab-size 800 \
  --arch gpt --n-layer 1 --arch-param n_head=2 --n-embd 16 --block-size 16 --epochs 1 \
  --steps-per-epoch 2 --batch-size 4 --threads 1 --name spm-lm --json >"$tmp/spm.jsonl" \
  || { cat "$tmp/spm.jsonl"; fail "train --tokenizer spm-bpe exited $?"; }
grep -q '"kind":"spm-bpe"' "$tmp/spm.jsonl" || fail "no spm-bpe tokenizer: $(cat "$tmp/spm.jsonl")"
"$cli" generate spm-lm:1 --prompt "Q: " --max-tokens 4 --seed 1 >/dev/null \
  || fail "generate with the spm-bpe tokenizer exited $?"

shot="$tmp/window.png"
QT_QPA_PLATFORM=offscreen "$root/usr/bin/modelstudio" --screenshot "$shot" \
  || fail "modelstudio --screenshot exited $?"
[ -s "$shot" ] || fail "no screenshot written"
is_png "$shot" || fail "the screenshot is not a PNG"
# Its IHDR: width and height, 4 bytes each from offset 16.
width=$((16#$(od -An -tx1 -j16 -N4 "$shot" | tr -d ' \n')))
height=$((16#$(od -An -tx1 -j20 -N4 "$shot" | tr -d ' \n')))
[ "$width" -ge 400 ] && [ "$height" -ge 300 ] || fail "the screenshot is ${width}x${height}"
echo "   screenshot ${width}x${height}"

step "the .tar.gz runs where it is unpacked too"
mkdir "$tmp/tgz"
tar -xzf "${tgzs[0]}" -C "$tmp/tgz"
tcli="$(find "$tmp/tgz" -path '*/bin/modelstudio-cli' | head -n1)"
[ -x "$tcli" ] || fail "no bin/modelstudio-cli in the .tar.gz"
# Read whole, not piped into grep -q: --version prints several lines, and grep -q leaving
# after the first would end the writer with SIGPIPE (a failure under pipefail).
tversion="$("$tcli" --version)"
grep -q "$(dpkg-deb -f "$deb" Version)" <<<"$tversion" || fail "tgz --version printed: $tversion"
echo "package: all checks passed"
