#!/usr/bin/env bash
# scripts/check-libtorch-headers.sh: syntax (bash -n), --help, usage errors, and a run on a
# made-up compile_commands.json of four tiny sources against a made-up LibTorch prefix (seconds,
# no download): the build's own LibTorch include folder and the .gch are swapped for the prefix
# and the pch's text; a missing header FAILs; a warning is shown (warn) but passes; a LibTorch header read from outside the prefix is
# a LEAK; exit 1 names them. The real check against LibTorch 2.x is not part of the tests
# (docs/gpu.md, "LibTorch 2.x").
set -uo pipefail
SRC=${1:?usage: test_check_libtorch_headers.sh SOURCE_ROOT}
S="$SRC/scripts/check-libtorch-headers.sh"
. "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

check "bash -n check-libtorch-headers.sh" "bash -n '$S'"
out=$(bash "$S" --help 2>&1); rc=$?
check "--help exits 0" "[ $rc -eq 0 ]"
check "--help explains the prefix and -fsyntax-only" "grep -q 'include-prefix' <<<\"\$out\" && grep -q -- '-fsyntax-only' <<<\"\$out\""

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$S" >/dev/null 2>&1; rc=$?
check "no arguments exits 2" "[ $rc -eq 2 ]"
out=$(bash "$S" "$tmp" "$tmp" 2>&1); rc=$?
check "a prefix without torch.h exits 2 naming it" "[ $rc -eq 2 ] && grep -q 'torch.h not found' <<<\"\$out\""
bash "$S" --frobnicate "$tmp" >/dev/null 2>&1; rc=$?
check "unknown option exits 2" "[ $rc -eq 2 ]"

# A made-up LibTorch 9.8.7 prefix: torch.h, version.h and a header the "build's" LibTorch lacks.
p=$tmp/prefix/include
mkdir -p "$p/torch/csrc/api/include/torch" "$p/ATen" "$tmp/old/torch/csrc/api/include/torch" "$tmp/sys/c10" \
  "$tmp/b/pch" "$tmp/b/t.p" "$tmp/src"
echo '#pragma once' > "$p/torch/csrc/api/include/torch/torch.h"
printf '#pragma once\n#define TORCH_VERSION_MAJOR 9\n#define TORCH_VERSION_MINOR 8\n#define TORCH_VERSION_PATCH 7\n' \
  > "$p/torch/csrc/api/include/torch/version.h"
printf '#pragma once\n#include <otherpkg/api.h>\n#define NEW_ONLY 1\n' > "$p/ATen/new_only.h"
# The "build's" own LibTorch (version 1), dropped by the check, and a system folder (kept, like
# /usr/include) with a c10 header the prefix lacks.
printf '#pragma once\n#define TORCH_VERSION_MAJOR 1\n' > "$tmp/old/torch/csrc/api/include/torch/version.h"
printf '#pragma once\n#define OLD_ONLY 1\n' > "$tmp/sys/c10/old_only.h"
mkdir -p "$tmp/sys/otherpkg" && echo '#pragma once' > "$tmp/sys/otherpkg/api.h"  # another package's header
# The pch's text (its .gch is not there: the check must -include the .h).
printf '#include <torch/version.h>\n' > "$tmp/b/pch/x_pch.h"
cat > "$tmp/src/ok.cpp" <<'EOF'
#include <ATen/new_only.h>
static_assert(TORCH_VERSION_MAJOR == 9 && NEW_ONLY == 1, "the prefix's headers, via the pch text");
EOF
printf '#include <torch/version.h>\n#include <torch/no_such_header.h>\n' > "$tmp/src/bad.cpp"
printf '#include <torch/version.h>\n#include <c10/old_only.h>\n' > "$tmp/src/leak.cpp"
printf '#include <torch/version.h>\nint f() { int unused_x; return 0; }\n' > "$tmp/src/warn.cpp"
printf 'int plain();\n' > "$tmp/src/plain.cpp"
cxx=$(command -v c++ || command -v g++)
entry() {  # file, extra args
  printf '{"directory": "%s", "file": "%s", "command": "%s -I%s -isystem%s -isystem %s -isystem%s -fdiagnostics-color=always -fpch-preprocess -include x_pch.h -Winvalid-pch -Wall -std=c++17 -MD -MQ o -MF o.d -o o -c %s"}' \
    "$tmp/b" "$1" "$cxx" "t.p" "$tmp/old" "$tmp/old/torch/csrc/api/include" "$tmp/sys" "$1"
}
{
  echo '['
  printf '{"directory": "%s", "file": "pch/x_pch.h", "command": "%s -isystem%s -x c++-header -o t.p/x_pch.h.gch -c pch/x_pch.h"},\n' \
    "$tmp/b" "$cxx" "$tmp/old/torch/csrc/api/include"
  entry "$tmp/src/ok.cpp"; echo ','
  entry "$tmp/src/bad.cpp"; echo ','
  entry "$tmp/src/leak.cpp"; echo ','
  entry "$tmp/src/warn.cpp"; echo ','
  printf '{"directory": "%s", "file": "%s", "command": "%s -std=c++17 -o o2 -c %s"}\n' "$tmp/b" "$tmp/src/plain.cpp" "$cxx" "$tmp/src/plain.cpp"
  echo ']'
} > "$tmp/b/compile_commands.json"

out=$(cd "$tmp" && bash "$S" --log-dir "$tmp/logs" "$tmp/prefix" "$tmp/b" 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
check "made-up run exits 1 (a failure)" "[ $rc -eq 1 ]"
check "reports the prefix's version 9.8.7" "grep -q 'TORCH_VERSION 9.8.7' <<<\"\$out\""
check "checks 4 LibTorch sources, skips the pch entry and the plain source" \
  "grep -q '^4 sources build against LibTorch; 1 precompiled-header' <<<\"\$out\""
check "ok.cpp compiles against the prefix (pch text included)" "grep -qE '\\] ok .*src/ok.cpp' <<<\"\$out\""
check "bad.cpp FAILs with its first error" "grep -qE 'FAIL .*src/bad.cpp .*no_such_header.h' <<<\"\$out\""
check "leak.cpp is a LEAK naming the old header" "grep -qE 'LEAK .*src/leak.cpp .*sys/c10/old_only.h' <<<\"\$out\""
check "warn.cpp compiles with its warning shown" "grep -qE '\\] warn .*src/warn.cpp .*1 warning.*unused_x' <<<\"\$out\""
check "lists the other package's header the prefix's headers include" \
  "grep -q '^headers of other packages' <<<\"\$out\" && grep -q '^  .*sys/otherpkg/api.h' <<<\"\$out\""
check "summary line counts 2 ok (1 with warnings), 2 failed" "grep -q 'summary: 4 checked, 2 ok, 2 failed, 1 compiled with warnings' <<<\"\$out\""
check "--log-dir keeps the failing sources' logs" "[ \$(ls '$tmp/logs' | wc -l) -eq 3 ]"
out=$(cd "$tmp" && bash "$S" --only 'ok\.cpp$' "$tmp/prefix" "$tmp/b" 2>&1); rc=$?
check "--only ok.cpp: exit 0, 1 checked" "[ $rc -eq 0 ] && grep -q 'summary: 1 checked, 1 ok, 0 failed, 0 compiled with warnings' <<<\"\$out\""
mkdir -p "$tmp/t"
out=$(cd "$tmp" && TMPDIR=$tmp/t bash "$S" --pch --only 'ok\.cpp$' "$tmp/prefix" "$tmp/b" 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
check "--pch: the pch text is precompiled against the prefix, ok.cpp uses it, exit 0" \
  "[ $rc -eq 0 ] && grep -qE '^\\[pch\\] +ok .*x_pch.h' <<<\"\$out\" && grep -q 'summary: 1 checked, 1 ok, 0 failed, 0 compiled' <<<\"\$out\""
check "--pch leaves no temporary folder" "[ -z \"\$(ls -A '$tmp/t')\" ]"
printf '#include <torch/version.h>\n#ifndef EXTRA_FLAG\n#error no extra flag\n#endif\n' > "$tmp/src/ok.cpp"
out=$(cd "$tmp" && bash "$S" --cxxflag -DEXTRA_FLAG=1 --only 'ok\.cpp$' "$tmp/prefix" "$tmp/b" 2>&1); rc=$?
check "--cxxflag reaches the compiler" "[ $rc -eq 0 ] && grep -q 'extra flags -DEXTRA_FLAG=1' <<<\"\$out\""

finish
