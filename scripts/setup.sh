#!/usr/bin/env bash
# Install what is missing (Debian 12 / Ubuntu), configure and build advad.
# Idempotent: a second run only rebuilds what changed.
# Usage: scripts/setup.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}

PKGS=(
  g++ meson ninja-build pkg-config git
  libtorch-dev            # LibTorch 1.13 (CPU): the models
  libopenblas0-pthread    # fast BLAS behind LibTorch (the reference BLAS is ~25x slower)
  libopencv-dev           # images, resize, morphology, TIFF via libtiff
  libtiff-dev             # float16 TIFF maps (MVTec AD 2 submission format)
  libarchive-dev          # .tar.gz submission packing
  nlohmann-json3-dev      # JSON output (CLI, JSON-lines metadata)
  libglib2.0-dev          # GKeyFile profiles
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev   # the plugin
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav  # encoders/muxers for recipes
  libgstrtspserver-1.0-dev gstreamer1.0-rtsp  # advad serve (RTSP server of the annotated stream)
  mosquitto mosquitto-clients libmosquitto-dev  # advadpublish method=mqtt (libmosquitto); the broker its tests and the demo start on 127.0.0.1, mosquitto_sub for the demo
  libgtest-dev libbenchmark-dev  # tests and benchmarks
  valgrind                # leak-check test suite
  clang-14 libfuzzer-14-dev libclang-rt-14-dev  # issue 18: the ASan/UBSan + libFuzzer stage of scripts/test.sh (scripts/sanitize.sh); gcc has no libFuzzer
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "advad setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# nodownload: the system packages above are used; subprojects/*.wrap are fallbacks
# for other distributions and never fetched here.
if [ ! -f "$BUILD/build.ninja" ]; then
  # Unity build (groups of 8 sources per TU: LibTorch's headers parsed once per
  # group) -- the clean build is most of the test command's time. A developer who
  # edits one file often may prefer `meson configure <build> -Dunity=off`.
  meson setup "$BUILD" --buildtype=release --wrap-mode=nodownload -Dunity=on -Dunity_size=8 >/dev/null
fi
# Building LibTorch code needs ~1.5 GB per job; 2 jobs per 4 GB of RAM at most.
jobs=$(nproc)
ninja -C "$BUILD" -j "$jobs" >/dev/null || ninja -C "$BUILD" -j1
