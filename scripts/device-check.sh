#!/usr/bin/env bash
# One prepared check for a GPU machine (offline, no apt): finds a pip PyTorch, prints the
# versions, unpacks the .debs made by scripts/fetch-debs.sh (optional), configures and builds
# advad against the wheel's LibTorch, runs the CUDA test suite and the GPU benchmarks, and
# writes ONE results file: $OUT/device-check.json (else ./device-check-results/device-check.json)
# with every step's status, seconds, command, log tail and the benchmarks' JSON; each step's full
# log is next to it in logs/. Every step has a timeout; a failing step does not stop the others
# (the steps that need its result are marked skipped). The whole run keeps within --budget.
#
# Usage: scripts/device-check.sh [options]
#   --python PY      python with torch (env PYTHON; default: the first python3/python3.X on PATH
#                    that can `import torch`)
#   --torch-dir DIR  LibTorch root instead of asking python (env TORCH_DIR)
#   --debs DIR       .deb folder from scripts/fetch-debs.sh (env ADVAD_DEBS); unpacked with
#                    scripts/debs-env.sh into --prefix (default: DIR/../advad-prefix)
#   --prefix DIR     where the .debs are unpacked
#   --build DIR      build folder (env BUILD; default: build-gpu)
#   --out DIR        results folder (env OUT; default: ./device-check-results)
#   --steps LIST     comma-separated steps to run (default: all; see --dry-run for the names)
#   --budget S       seconds for the whole run (default 570: under a 10-minute limit)
#   --full-build     build every target (default: advad, the plugin and the CUDA test only)
#   --dry-run        print every step and check the inputs; builds and writes nothing; exit 0
#                    when the script itself is sound (missing inputs are listed, not fatal)
#   --help
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)

PY=${PYTHON:-}
TORCH_DIR=${TORCH_DIR:-}
DEBS=${ADVAD_DEBS:-}
PREFIX=""
BUILD=${BUILD:-build-gpu}
OUTDIR=${OUT:-}
STEPS=""
BUDGET=570
FULL=0
DRY=0

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --python) PY=${2:?}; shift 2 ;;
    --torch-dir) TORCH_DIR=${2:?}; shift 2 ;;
    --debs) DEBS=${2:?}; shift 2 ;;
    --prefix) PREFIX=${2:?}; shift 2 ;;
    --build) BUILD=${2:?}; shift 2 ;;
    --out) OUTDIR=${2:?}; shift 2 ;;
    --steps) STEPS=${2:?}; shift 2 ;;
    --budget) BUDGET=${2:?}; shift 2 ;;
    --full-build) FULL=1; shift ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "device-check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] || { echo "device-check: --budget must be seconds" >&2; exit 2; }
[ -n "$OUTDIR" ] || OUTDIR=$PWD/device-check-results
case "$BUILD" in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
if [ -n "$DEBS" ] && [ -z "$PREFIX" ]; then PREFIX=$(dirname "$DEBS")/advad-prefix; fi
JOBS=$(nproc 2>/dev/null || echo 4)
T0=$(date +%s)

# What the issue asks for that this script does not measure.
TODO_LINE="TODO (not measured here): the live GStreamer rate of a real INP-Former/CPR package (bench-live times the demo scorer on cuda; no trained package on the machine)"

# ---- the steps: name|timeout s|needs|description|function (run with bash -c, in $SRC) ----
STEP_LIST=(
  "find-torch|60||locate torch with python (or --torch-dir), print torch/CUDA versions|find_torch"
  "debs-env|240||unpack the .debs into the prefix, export PKG_CONFIG_LIBDIR etc. (scripts/debs-env.sh)|debs_env"
  "versions|60||nvidia-smi, nvcc, compiler, meson, ninja, cmake, LibTorch ABI/rpath|versions"
  "meson-setup|180|find-torch|meson setup \$BUILD -Dtorch_dir=\$TORCH_DIR -Dbuildtype=release --wrap-mode=nodownload|meson_setup"
  "build|480|meson-setup|ninja -C \$BUILD -j\$JOBS (advad, plugin, test_cuda_parity; --full-build: all)|build"
  "test-cuda|300|build|meson test -C \$BUILD --suite cuda --no-rebuild (GPU vs CPU parity)|test_cuda"
  "bench-cpr|240|build|advad bench cpr --device cuda --precision fp32,bf16 --images 100,400 --size 320 --json|bench_cpr"
  "bench-live|180|build|advad bench live --device cuda (demo scorer) --json|bench_live"
  "bench-inpformer|240|build|advad bench inpformer --device cuda --encoders vit_base,vit_large --sizes 392,448 --precision fp32,bf16 --batch 1,8 --json|bench_inpformer"
  "bench-frame|240|build|advad bench frame --device cuda --frame 2448x2048 --encoder vit_large --precision fp32,bf16 --profile models/mvtec_ad2/{can,fabric}.ini --path both (the seed's tilings; the OpenCV and the device-tensor frame path, transfers as rows) --json|bench_frame"
)

# ---- step bodies (run in a subshell with the environment of the steps before) ----
find_torch() {
  if [ -z "$TORCH_DIR" ]; then
    [ -n "$PY" ] || { echo "no python with torch found (tried: ${PY_TRIED:-none}); use --python or --torch-dir"; return 1; }
    TORCH_DIR=$("$PY" -c 'import torch,os; print(os.path.dirname(torch.__file__))') || return 1
  fi
  echo "torch_dir=$TORCH_DIR"
  # The LibTorch the build compiles against (its headers' version.h), whatever python says.
  echo "libtorch version (builds against): $("$SRC/scripts/torch-info.sh" version "$TORCH_DIR" 2>&1)"
  [ -n "$PY" ] && "$PY" - <<'EOF'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
      "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI)
print("cuda available", torch.cuda.is_available(), "devices", torch.cuda.device_count())
if torch.cuda.is_available():
    print("device 0", torch.cuda.get_device_name(0), "capability", torch.cuda.get_device_capability(0))
EOF
  echo "$TORCH_DIR" > "$RES/torch_dir"
}
versions() {
  local td; td=$(cat "$RES/torch_dir" 2>/dev/null || echo "$TORCH_DIR")
  for c in "nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv" "nvcc --version" \
           "c++ --version" "meson --version" "ninja --version" "cmake --version" "pkg-config --version"; do
    echo "\$ $c"; timeout 20 $c 2>&1 | head -6 || echo "(not available)"
  done
  if [ -n "$td" ]; then
    for q in version abi cuda rpath; do echo "libtorch $q: $("$SRC/scripts/torch-info.sh" "$q" "$td" 2>&1)"; done
  fi
  echo "glibc: $(ldd --version 2>&1 | head -1)"; echo "cores: $JOBS"
}
debs_env() {
  [ -n "$DEBS" ] || { echo "no --debs given: using the system's packages"; return 0; }
  "$SRC/scripts/debs-env.sh" "$DEBS" "$PREFIX" > "$RES/debs-env.sh" || return 1
  cat "$RES/debs-env.sh"
}
# The CUDA runtime headers (cuda_runtime_api.h) on the compiler's path, so that src/core/runtime.cpp
# reaches LibTorch's CUDA caching allocator (advadinfer's cuda-memory-limit): a pip wheel's
# site-packages/nvidia/cuda_runtime/include, else the toolkit's /usr/local/cuda/include.
cuda_headers_env() {
  local td d; td=$(cat "$RES/torch_dir" 2>/dev/null || echo "$TORCH_DIR")
  for d in "${td:+$td/../nvidia/cuda_runtime/include}" /usr/local/cuda/include; do
    if [ -n "$d" ] && [ -f "$d/cuda_runtime_api.h" ]; then
      case ":${CPATH:-}:" in *":$d:"*) ;; *) export CPATH="$d${CPATH:+:$CPATH}";; esac
      echo "CUDA runtime headers: $d"; return 0
    fi
  done
  echo "CUDA runtime headers: not found (cuda-memory-limit then needs LibTorch 1.x's exported allocator call)"
}
meson_setup() {
  cuda_headers_env
  local td; td=$(cat "$RES/torch_dir" 2>/dev/null || echo "$TORCH_DIR")
  [ -n "$td" ] || { [ -n "$PY" ] && td=$("$PY" -c 'import torch,os; print(os.path.dirname(torch.__file__))'); }
  [ -n "$td" ] || { echo "no torch_dir (run the find-torch step, or give --torch-dir)"; return 1; }
  local args=(-Dtorch_dir="$td" -Dbuildtype=release --wrap-mode=nodownload)
  if [ -f "$BUILD/build.ninja" ]; then meson setup --reconfigure "$BUILD" "${args[@]}"
  else meson setup "$BUILD" "${args[@]}"; fi
}
build() {
  cuda_headers_env
  if ((FULL)); then ninja -C "$BUILD" -j"$JOBS"; return; fi
  local t targets=()
  for t in src/tools/advad tests/cuda/test_cuda_parity gst/libgstadvad.so gst/libgstadvad-elements.so.0; do
    ninja -C "$BUILD" -t query "$t" >/dev/null 2>&1 && targets+=("$t")
  done
  echo "targets: ${targets[*]}"
  ninja -C "$BUILD" -j"$JOBS" "${targets[@]}"
}
test_cuda() {
  meson test -C "$BUILD" --suite cuda --no-rebuild --print-errorlogs --verbose --logbase device-check-cuda; local rc=$?
  cp "$BUILD/meson-logs/device-check-cuda.json" "$RES/testlog-cuda.json" 2>/dev/null
  return $rc
}
advad() { "$BUILD/src/tools/advad" "$@"; }
bench_cpr() {
  advad bench cpr --device cuda --precision fp32,bf16 --images 100,400 --size 320 --queries 5 --json "$RES/bench-cpr.json"
}
bench_inpformer() {
  advad bench inpformer --device cuda --encoders vit_base,vit_large --sizes 392,448 --precision fp32,bf16 \
    --batch 1,8 --iters 5 --json "$RES/bench-inpformer.json"
}
bench_frame() {
  # The seed's tilings (can: 4x2 tiles of 558x512, fabric: 2x2 of 1224x1024; input 448) with their
  # post-processing; the model is a random ViT-L INP-Former. Both must run: a failed one fails the step.
  local category rc=0
  for category in can fabric; do
    advad bench frame --device cuda --frame 2448x2048 --profile "$SRC/models/mvtec_ad2/$category.ini" --encoder vit_large \
      --precision fp32,bf16 --iters 3 --path both --json "$RES/bench-frame-$category.json" || rc=1
  done
  return $rc
}
bench_live() {
  GST_PLUGIN_PATH="$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}" advad bench live --device cuda --seconds 5 --fps 30 \
    --json "$RES/bench-live.json"
}

# ---- python with torch ----
PY_TRIED=""
find_python() {
  local c
  if [ -n "$PY" ]; then
    PY_TRIED=$PY
    "$PY" -c 'import torch' >/dev/null 2>&1 || PY=""
    return
  fi
  for c in python3 $(compgen -c python3. 2>/dev/null | grep -E '^python3\.[0-9]+$' | sort -u) python; do
    command -v "$c" >/dev/null 2>&1 || continue
    PY_TRIED="$PY_TRIED $c"
    if "$c" -c 'import torch' >/dev/null 2>&1; then PY=$(command -v "$c"); return; fi
  done
}
[ -n "$TORCH_DIR" ] || find_python

want() { [ -z "$STEPS" ] || [[ ",$STEPS," == *",$1,"* ]]; }

# ---- dry run ----
if ((DRY)); then
  missing=()
  echo "device-check --dry-run (source $SRC)"
  if [ -n "$TORCH_DIR" ]; then
    "$SRC/scripts/torch-info.sh" version "$TORCH_DIR" >/dev/null 2>&1 &&
      echo "  torch: --torch-dir $TORCH_DIR (LibTorch $("$SRC/scripts/torch-info.sh" version "$TORCH_DIR"))" ||
      missing+=("torch: --torch-dir $TORCH_DIR is not a LibTorch")
  elif [ -n "$PY" ]; then
    echo "  torch: $PY ($("$PY" -c 'import torch,os; print(torch.__version__, os.path.dirname(torch.__file__))' 2>&1))"
  else
    missing+=("torch: no python that can import torch (tried:${PY_TRIED:- none}); give --python or --torch-dir")
  fi
  if [ -n "$DEBS" ]; then
    if compgen -G "$DEBS/*.deb" >/dev/null; then echo "  debs: $DEBS ($(ls "$DEBS"/*.deb | wc -l) files) -> prefix $PREFIX"
    else missing+=("debs: $DEBS has no .deb files (scripts/fetch-debs.sh DIR makes them)"); fi
  else
    echo "  debs: none given (the system's packages are used)"
  fi
  for t in nvidia-smi nvcc meson ninja c++ pkg-config timeout; do
    if command -v "$t" >/dev/null 2>&1; then echo "  $t: $(command -v "$t")"
    elif [ "$t" = pkg-config ] && [ -n "$DEBS" ]; then echo "  pkg-config: from the debs (pkgconf)"
    else missing+=("$t: not on PATH"); fi
  done
  echo "  build: $BUILD; results: $OUTDIR/device-check.json; budget ${BUDGET}s; $JOBS jobs"
  echo "steps:"
  for s in "${STEP_LIST[@]}"; do
    IFS='|' read -r name tmo needs desc fn <<<"$s"
    want "$name" || continue
    # bash -n cannot see a missing function: check each step body exists.
    declare -F "$fn" >/dev/null || { echo "device-check: step $name has no body $fn" >&2; exit 1; }
    echo "  step $name (timeout ${tmo}s${needs:+, needs $needs}): $desc"
  done
  echo "$TODO_LINE"
  if ((${#missing[@]})); then
    echo "missing (a real run would fail or skip these steps):"
    printf '  missing %s\n' "${missing[@]}"
  else
    echo "missing: nothing"
  fi
  exit 0
fi

# ---- real run ----
RES=$OUTDIR
mkdir -p "$RES/logs"
export RES BUILD SRC
declare -A STATUS SECS
json_str() {  # stdin -> JSON string body
  tr -d '\000-\010\013\014\016-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r//g' |
    awk 'BEGIN{ORS=""} {if (NR>1) print "\\n"; print}'
}
ENTRIES=()
cd "$SRC" || exit 1
echo "$TODO_LINE"
for s in "${STEP_LIST[@]}"; do
  IFS='|' read -r name tmo needs desc fn <<<"$s"
  want "$name" || continue
  log="$RES/logs/$name.log"
  status="" ; rc=""; secs=0
  left=$((BUDGET - ($(date +%s) - T0)))
  if [ -n "$needs" ] && [ -n "${STATUS[$needs]:-}" ] && [ "${STATUS[$needs]}" != ok ]; then
    status="skipped"; echo "skipped: step $needs is ${STATUS[$needs]}" > "$log"
  elif ((left < 30)); then
    status="skipped"; echo "skipped: time budget spent (${BUDGET}s)" > "$log"
  else
    ((tmo > left - 15)) && tmo=$((left - 15))
    echo "== step $name (timeout ${tmo}s): $desc"
    t1=$(date +%s)
    export PY PY_TRIED TORCH_DIR DEBS PREFIX JOBS FULL
    # The step's function (and the ones it calls) travel in the command, not in the environment.
    body=$(declare -f find_torch versions debs_env meson_setup build test_cuda advad bench_cpr bench_inpformer \
           bench_frame bench_live)
    timeout --kill-after=10 "$tmo" bash -c "$body
$fn" > "$log" 2>&1; rc=$?
    secs=$(($(date +%s) - t1))
    if ((rc == 0)); then status=ok; elif ((rc == 124 || rc == 137)); then status=timeout; else status=failed; fi
    # meson test: a suite that only skipped is not a pass.
    if [ "$name" = test-cuda ] && ((rc == 0)) && grep -q '"result": "SKIP"' "$RES/testlog-cuda.json" 2>/dev/null; then
      status=skipped-by-test
    fi
    tail -n 5 "$log" | sed 's/^/   | /'
    echo "   -> $status (rc $rc, ${secs}s)"
  fi
  STATUS[$name]=$status
  SECS[$name]=$secs
  # The exports of debs-env.sh hold for every later step.
  if [ "$name" = debs-env ] && [ "$status" = ok ] && [ -s "$RES/debs-env.sh" ]; then . "$RES/debs-env.sh"; fi
  # A bench step's JSON output(s), embedded as they are.
  data="null"
  files=$(ls "$RES"/"$name"*.json 2>/dev/null)
  if [ "$name" = test-cuda ]; then files="$RES/testlog-cuda.json"; fi
  if [ -n "$files" ] && { [ "$status" = ok ] || [ "$status" = skipped-by-test ]; }; then
    data="{"; sep=""
    for f in $files; do
      [ -s "$f" ] || continue
      if [ "$name" = test-cuda ]; then
        # testlog.json is JSON lines; each test's "env" (the whole environment) is left out.
        data+="$sep\"$(basename "$f")\": [$(sed -E 's/"env": \{[^{}]*\}, //' "$f" | grep -v '"env": {' | paste -sd,)]"
      else
        data+="$sep\"$(basename "$f")\": $(cat "$f")"
      fi
      sep=", "
    done
    data+="}"
  fi
  ENTRIES+=("{\"step\": \"$name\", \"status\": \"$status\", \"rc\": ${rc:-null}, \"seconds\": $secs, \"description\": \"$(json_str <<<"$desc")\", \"log\": \"logs/$name.log\", \"log_tail\": \"$(tail -n 60 "$log" 2>/dev/null | json_str)\", \"data\": $data}")
done

{
  echo "{"
  echo "  \"tool\": \"advad scripts/device-check.sh\","
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"host\": \"$(hostname | json_str)\","
  echo "  \"git\": \"$(git -C "$SRC" describe --always --dirty 2>/dev/null | json_str)\","
  echo "  \"gpu\": \"$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | json_str)\","
  echo "  \"torch_dir\": \"$(cat "$RES/torch_dir" 2>/dev/null | json_str)\","
  echo "  \"total_seconds\": $(($(date +%s) - T0)),"
  echo "  \"todo\": \"$(json_str <<<"$TODO_LINE")\","
  echo "  \"steps\": ["
  for i in "${!ENTRIES[@]}"; do
    ((i)) && echo ","
    printf '    %s' "${ENTRIES[$i]}"
  done
  echo ""
  echo "  ]"
  echo "}"
} > "$RES/device-check.json"

echo
echo "| step | status | seconds |"
echo "|---|---|---:|"
for s in "${STEP_LIST[@]}"; do
  IFS='|' read -r name _ <<<"$s"
  want "$name" && echo "| $name | ${STATUS[$name]:-} | ${SECS[$name]:-} |"
done
echo "results: $RES/device-check.json (logs in $RES/logs)"
echo "$TODO_LINE"
fail=0
for k in "${!STATUS[@]}"; do [ "${STATUS[$k]}" = ok ] || fail=1; done
exit $fail
