#!/usr/bin/env bash
# Install what is missing, build, and run every test suite (except the slow
# valgrind suite: `meson test -C build --suite gst-valgrind`). Ends with
# the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
scripts/setup.sh "$BUILD" || { echo "0 passed, 1 failed"; exit 1; }

meson test -C "$BUILD" --print-errorlogs --num-processes 2 --no-suite gst-valgrind --no-suite bench "$@"
rc=$?
log="$BUILD/meson-logs/testlog.json"
passed=$(grep -cE '"result": "(OK|EXPECTEDFAIL)"' "$log" 2>/dev/null || true)
failed=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" 2>/dev/null || true)
skipped=$(grep -c '"result": "SKIP"' "$log" 2>/dev/null || true)
[ "$rc" -ne 0 ] && [ "${failed:-0}" -eq 0 ] && failed=1
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit $rc
