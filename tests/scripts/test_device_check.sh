#!/usr/bin/env bash
# scripts/device-check.sh: syntax (bash -n), --help, and --dry-run (exit 0, every step listed,
# the missing inputs named, nothing built or written outside the temp folder).
set -uo pipefail
SRC=${1:?usage: test_device_check.sh SOURCE_ROOT}
S="$SRC/scripts/device-check.sh"
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

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

# An unknown option is a usage error (exit 2).
bash "$S" --frobnicate >/dev/null 2>&1; rc=$?
check "unknown option exits 2" "[ $rc -eq 2 ]"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
