#!/usr/bin/env bash
# scripts/device-check.sh: syntax (bash -n), --help, and --dry-run (exit 0, every step listed,
# the missing inputs named, nothing built or written outside the temp folder).
set -uo pipefail
SRC=${1:?usage: test_device_check.sh SOURCE_ROOT}
S="$SRC/scripts/device-check.sh"
. "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

check "bash -n device-check.sh" "bash -n '$S'"
check "bash -n debs-env.sh" "bash -n '$SRC/scripts/debs-env.sh'"
check "bash -n fetch-debs.sh" "bash -n '$SRC/scripts/fetch-debs.sh'"
check "bash -n torch-info.sh" "bash -n '$SRC/scripts/torch-info.sh'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --help
out=$(bash "$S" --help 2>&1); rc=$?
check "--help exits 0" "[ $rc -eq 0 ]"
check "--help names --dry-run" "grep -q -- '--dry-run' <<<\"\$out\""

# --dry-run with a python that has no torch and a debs folder that does not exist:
# still exit 0 (the script is sound), the steps listed, the missing inputs named.
out=$(cd "$tmp" && OUT= bash "$S" --dry-run --python /bin/false --debs "$tmp/no-debs" --build "$tmp/b" 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
check "--dry-run exits 0" "[ $rc -eq 0 ]"
for step in find-torch versions debs-env meson-setup build test-cuda bench-cpr bench-inpformer bench-frame bench-live; do
  check "--dry-run lists step $step" "grep -q -- 'step $step' <<<\"\$out\""
done
check "--dry-run says torch is missing" "grep -qi 'missing.*torch' <<<\"\$out\""
check "--dry-run says the debs folder is missing" "grep -qi 'missing.*no-debs' <<<\"\$out\""
check "--dry-run prints the TODO line" "grep -q '^TODO' <<<\"\$out\""
check "--dry-run builds nothing" "[ ! -e '$tmp/b' ]"
check "--dry-run writes no results" "[ ! -e '$tmp/device-check-results' ]"

# torch-info.sh: not a LibTorch -> exit 1 naming the folder; the system LibTorch (as a torch_dir
# of links) is C++11 ABI with a version.
out=$(bash "$SRC/scripts/torch-info.sh" abi "$tmp" 2>&1); rc=$?
check "torch-info.sh rejects a folder without lib/libc10.so" "[ $rc -eq 1 ] && grep -q 'not a LibTorch' <<<\"\$out\""
for libdir in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu; do
  if [ -e "$libdir/libc10.so" ] && [ -f /usr/include/torch/csrc/api/include/torch/version.h ]; then
    mkdir -p "$tmp/torch" && ln -s "$libdir" "$tmp/torch/lib" && ln -s /usr/include "$tmp/torch/include"
    check "torch-info.sh abi of the system LibTorch is 1" "[ \"\$(bash '$SRC/scripts/torch-info.sh' abi '$tmp/torch')\" = 1 ]"
    check "torch-info.sh version is N.N.N" "bash '$SRC/scripts/torch-info.sh' version '$tmp/torch' | grep -qE '^[0-9]+\\.[0-9]+\\.[0-9]+\$'"
    out=$(cd "$tmp" && OUT= bash "$S" --dry-run --torch-dir "$tmp/torch" --build "$tmp/b" 2>&1)
    check "--dry-run --torch-dir names the LibTorch version it builds against" \
      "grep -qE 'torch: --torch-dir .*\\(LibTorch [0-9]+\\.[0-9]+\\.[0-9]+\\)' <<<\"\$out\""
    break
  fi
done

# debs-env.sh: a folder without .debs is an error naming fetch-debs.sh.
out=$(bash "$SRC/scripts/debs-env.sh" "$tmp" "$tmp/prefix" 2>&1); rc=$?
check "debs-env.sh without .debs exits 1" "[ $rc -eq 1 ] && grep -q 'fetch-debs.sh' <<<\"\$out\""

# An unknown option is a usage error (exit 2).
bash "$S" --frobnicate >/dev/null 2>&1; rc=$?
check "unknown option exits 2" "[ $rc -eq 2 ]"

finish
