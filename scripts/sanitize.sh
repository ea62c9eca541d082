#!/usr/bin/env bash
# Issue 18's CI stage (called by scripts/test.sh): the parsers and the
# low-level code built once more with clang-14, AddressSanitizer +
# UndefinedBehaviorSanitizer and libFuzzer coverage in FUZZ_BUILD (default
# build-fuzz; meson -Dfuzzing=true builds only that subset, tests/sanitize),
# then their unit tests, the fuzz corpora replayed and a short libFuzzer run
# of each parser (ADVAD_FUZZ_SECONDS, default 20), two tests at a time.
# Arguments go to `meson test` (e.g. --suite fuzz-corpus). The test log is
# FUZZ_BUILD/meson-logs/testlog.json; exit status non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
start=$(date +%s)
stage_end() { echo "advad sanitizer + fuzz stage: $(($(date +%s) - start)) s wall, exit $1" >&2; exit "$1"; }

if ! command -v clang++-14 >/dev/null; then
  echo "advad sanitize: clang++-14 not found (scripts/setup.sh installs clang-14 and libfuzzer-14-dev)" >&2
  stage_end 1
fi
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
  # -O1: fast enough fuzzing and ASan reports with usable stacks; plain: no -O3/-DNDEBUG.
  CXX=clang++-14 meson setup "$FUZZ_BUILD" -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=plain -Dcpp_args="-O1 -gline-tables-only -fno-omit-frame-pointer" --wrap-mode=nodownload \
    >/dev/null || stage_end 1
fi
ninja -C "$FUZZ_BUILD" -j "$(nproc)" >/dev/null || ninja -C "$FUZZ_BUILD" -j1 || stage_end 1
echo "advad sanitize: built in $(($(date +%s) - start)) s" >&2
meson test -C "$FUZZ_BUILD" --print-errorlogs --num-processes 2 "$@"
stage_end $?
