#!/usr/bin/env bash
# One short libFuzzer run (meson suite 'fuzz-run'): fuzzes EXE for
# ADVAD_FUZZ_SECONDS (default 20) from the seed corpus. New inputs go to
# WORK/corpus (the source tree is never written); a crash is saved as
# WORK/crash-<sha1> (timeouts, OOMs: timeout-/oom-) and fails the test. Keep
# a crash as a regression input: fix it, then copy the file into the corpus.
# libFuzzer's default failure exit code, 77, means SKIP to meson: 1 instead.
set -euo pipefail
exe=$1 seeds=$2 work=$3
mkdir -p "$work/corpus"
rm -f "$work"/crash-* "$work"/leak-* "$work"/oom-* "$work"/timeout-*  # only this run's findings
exec "$exe" -max_total_time="${ADVAD_FUZZ_SECONDS:-20}" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
