#!/usr/bin/env bash
# Install what is missing, build, and run every test suite (except the slow
# valgrind suite: `meson test -C build --suite gst-valgrind`), then the
# sanitizer + fuzz stage (scripts/sanitize.sh, its own clang build dir;
# ADVAD_SANITIZE=0 skips it). Ends with the line "N passed, N failed, N
# skipped" counting the tests of both build dirs.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
scripts/setup.sh "$BUILD" || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

meson test -C "$BUILD" --print-errorlogs --num-processes 2 --no-suite gst-valgrind --no-suite bench "$@"
rc=$?
logs=("$BUILD/meson-logs/testlog.json")
if [ "${ADVAD_SANITIZE:-1}" != 0 ]; then
  rm -f "$FUZZ_BUILD/meson-logs/testlog.json"  # a failed build must not count an old log
  FUZZ_BUILD="$FUZZ_BUILD" scripts/sanitize.sh
  src=$?
  logs+=("$FUZZ_BUILD/meson-logs/testlog.json")
  [ "$rc" -eq 0 ] && rc=$src
  # A stage that failed before its tests (no clang, build error) still counts as a failure.
  [ "$src" -ne 0 ] && [ ! -f "$FUZZ_BUILD/meson-logs/testlog.json" ] && stage_failed=1
fi
count() { cat "${logs[@]}" 2>/dev/null | grep -cE "\"result\": \"($1)\"" || true; }
passed=$(count 'OK|EXPECTEDFAIL')
failed=$(( $(count 'FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS') + ${stage_failed:-0} ))
skipped=$(count 'SKIP')
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
