#!/usr/bin/env bash
# Facts about a LibTorch install, for meson.build (run_command) and scripts/device-check.sh.
# Usage: scripts/torch-info.sh QUERY TORCH_DIR
#   abi      prints 1 (C++11 ABI: libc10.so exports std::__cxx11 symbols) or 0 (old ABI)
#   version  prints MAJOR.MINOR.PATCH from include/torch/csrc/api/include/torch/version.h
#   rpath    prints the library folders the binaries need at run time, ':'-separated:
#            TORCH_DIR/lib, then for a pip wheel (TORCH_DIR = <site-packages>/torch) every
#            <site-packages>/nvidia/*/lib (the CUDA libraries libtorch_cuda.so links)
#   cuda     prints 1 when TORCH_DIR/lib has libtorch_cuda.so, else 0
# TORCH_DIR is a LibTorch root (the libtorch zip) or a pip install's site-packages/torch.
# Exit 1 with a message on stderr when TORCH_DIR is not a LibTorch.
set -euo pipefail
query=${1:-}
dir=${2:-}
die() { echo "torch-info: $*" >&2; exit 1; }
[ -n "$query" ] && [ -n "$dir" ] || die "usage: $0 abi|version|rpath|cuda TORCH_DIR"
[ -d "$dir" ] || die "torch_dir '$dir' is not a folder"
lib="$dir/lib"
c10=""
for f in "$lib/libc10.so" "$lib"/libc10.so.*; do
  [ -e "$f" ] && { c10=$f; break; }
done
[ -n "$c10" ] || die "torch_dir '$dir' has no lib/libc10.so: not a LibTorch (expected <dir>/include and <dir>/lib, e.g. <site-packages>/torch of a pip PyTorch, or the unpacked libtorch zip)"

case "$query" in
  abi)
    # The dynamic symbol table names std::__cxx11::basic_string in the new ABI.
    if command -v nm >/dev/null 2>&1; then
      n=$(nm -D --defined-only "$c10" 2>/dev/null | grep -c '__cxx11' || true)
    else
      n=$(grep -c -a '__cxx11' "$c10" || true)
    fi
    if [ "${n:-0}" -gt 0 ]; then echo 1; else echo 0; fi
    ;;
  version)
    h="$dir/include/torch/csrc/api/include/torch/version.h"
    [ -f "$h" ] || die "no $h"
    v() { sed -n "s/^#define TORCH_VERSION_$1 \\([0-9][0-9]*\\).*/\\1/p" "$h" | head -1; }
    echo "$(v MAJOR).$(v MINOR).$(v PATCH)"
    ;;
  rpath)
    dirs=("$(cd "$lib" && pwd -P)")
    site=$(cd "$dir/.." && pwd -P)
    if [ -d "$site/nvidia" ]; then
      for d in "$site"/nvidia/*/lib; do
        [ -d "$d" ] && dirs+=("$d")
      done
    fi
    (IFS=:; echo "${dirs[*]}")
    ;;
  cuda)
    if [ -e "$lib/libtorch_cuda.so" ]; then echo 1; else echo 0; fi
    ;;
  *) die "unknown query '$query' (abi, version, rpath, cuda)" ;;
esac
