#!/usr/bin/env bash
# Passive OpenMP waits by default, read back from libgomp itself: `advad`
# (re-exec with OMP_WAIT_POLICY=PASSIVE) and gst-launch-1.0 with the build
# tree's plugin (its stub sets it before the element library loads libgomp),
# unless the user set OMP_WAIT_POLICY / GOMP_SPINCOUNT.
# Usage: test_omp_policy.sh <advad> <build gst folder>
#
# libgomp prints its settings at load with OMP_DISPLAY_ENV. With `true` it shows
# OMP_WAIT_POLICY = 'PASSIVE' for the default too (only ACTIVE is told apart),
# so this reads OMP_DISPLAY_ENV=verbose's GOMP_SPINCOUNT: '0' for PASSIVE,
# '300000' for libgomp's default (spin), '30000000000' for ACTIVE.
set -euo pipefail
ADVAD=$1 GSTDIR=$2
WORK=$(mktemp -d /tmp/advad_omp_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/err" ] && sed 's/^/  | /' "$WORK/err" >&2; exit 1; }

# Children start without the wait-policy variables (meson's test env sets OMP_WAIT_POLICY).
clean=(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u ADVAD_OMP_REEXEC OMP_NUM_THREADS=2)
spincounts() { sed -n "s/^ *GOMP_SPINCOUNT = '\([0-9]*\)'.*/\1/p" "$1" | tr '\n' ' ' | sed 's/ $//'; }
policies() { sed -n "s/^ *OMP_WAIT_POLICY = '\([A-Z]*\)'.*/\1/p" "$1" | tr '\n' ' ' | sed 's/ $//'; }
expect() {  # what, got, want
  [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# --- advad -------------------------------------------------------------------
# Default: the first start (libgomp's default, spinning) re-executes itself once
# with PASSIVE; the second block is the one that runs the command.
"${clean[@]}" OMP_DISPLAY_ENV=verbose "$ADVAD" --version >"$WORK/out" 2>"$WORK/err" || fail "advad --version exited $?"
expect "advad default: GOMP_SPINCOUNT per libgomp start" "$(spincounts "$WORK/err")" "300000 0"
expect "advad default: OMP_WAIT_POLICY" "$(policies "$WORK/err" | awk '{print $NF}')" "PASSIVE"
grep -qx "advad [0-9.]*" "$WORK/out" || fail "advad --version printed '$(cat "$WORK/out")'"
echo "ok advad default: PASSIVE (GOMP_SPINCOUNT 0) after one re-exec"

# The user's choice stays, and there is no re-exec.
"${clean[@]}" OMP_DISPLAY_ENV=verbose OMP_WAIT_POLICY=ACTIVE "$ADVAD" --version >"$WORK/out" 2>"$WORK/err" ||
  fail "advad --version (ACTIVE) exited $?"
expect "advad OMP_WAIT_POLICY=ACTIVE: policy" "$(policies "$WORK/err")" "ACTIVE"
expect "advad OMP_WAIT_POLICY=ACTIVE: GOMP_SPINCOUNT" "$(spincounts "$WORK/err")" "30000000000"
"${clean[@]}" OMP_DISPLAY_ENV=verbose GOMP_SPINCOUNT=12345 "$ADVAD" --version >"$WORK/out" 2>"$WORK/err" ||
  fail "advad --version (GOMP_SPINCOUNT) exited $?"
expect "advad GOMP_SPINCOUNT=12345" "$(spincounts "$WORK/err")" "12345"
echo "ok advad: the user's OMP_WAIT_POLICY=ACTIVE / GOMP_SPINCOUNT stay, no re-exec"

# argv (with a space) and the exit code survive the re-exec.
set +e
"${clean[@]}" "$ADVAD" "no such" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
expect "advad 'no such': exit code" "$rc" "2"
grep -q "unknown command 'no such'" "$WORK/err" || fail "advad 'no such': argv not kept"
"${clean[@]}" "$ADVAD" --help >"$WORK/out" 2>"$WORK/err" || fail "advad --help exited $?"
grep -q "^usage: advad" "$WORK/out" || fail "advad --help: no usage on stdout"
echo "ok advad: argv and exit codes kept across the re-exec"

# A command that loads a model gets PASSIVE too (the demo package for the pipelines below).
"${clean[@]}" OMP_DISPLAY_ENV=verbose "$ADVAD" make-demo "$WORK/kit" --frames 0 --input-size 64 --tiling 1x1 \
  >"$WORK/out" 2>"$WORK/err" || fail "advad make-demo exited $?"
expect "advad make-demo: GOMP_SPINCOUNT per libgomp start" "$(spincounts "$WORK/err")" "300000 0"
[ -f "$WORK/kit/model/profile.ini" ] || fail "advad make-demo wrote no model/profile.ini"

# --- gst-launch-1.0 with the build tree's plugin --------------------------------
# The stub must not pull in LibTorch / libgomp itself.
[ -f "$GSTDIR/libgstadvad.so" ] || fail "no $GSTDIR/libgstadvad.so"
if ldd "$GSTDIR/libgstadvad.so" | grep -E "libgomp|libtorch|libadvad" >"$WORK/err"; then
  fail "the plugin stub links LibTorch/libgomp"
fi
echo "ok libgstadvad.so (the stub) links neither LibTorch nor libgomp"

# A private registry, filled first by a run without OMP_DISPLAY_ENV (the
# scanner's own libgomp loads, e.g. gst-libav's, stay out of the output below);
# then gst-launch-1.0 as a user runs it (default registry fork).
export GST_REGISTRY_1_0="$WORK/registry.bin" GST_PLUGIN_PATH_1_0="$GSTDIR"
unset GST_REGISTRY_FORK
"${clean[@]}" gst-inspect-1.0 advadinfer >"$WORK/out" 2>"$WORK/err" || fail "gst-inspect-1.0 advadinfer exited $?"
grep -q "$GSTDIR/libgstadvad.so" "$WORK/out" || fail "advadinfer is not the build tree's ($GSTDIR)"

pipeline=(gst-launch-1.0 -q videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 !
          advadinfer profile="$WORK/kit/model" threads=2 ! fakesink async=false)
# async=false: no preroll, so gst-launch-1.0 cannot hit GStreamer 1.22's lost-EOS
# race (see src/tools/cmd_launch.cpp); what is checked here is the OpenMP policy.
"${clean[@]}" OMP_DISPLAY_ENV=verbose "${pipeline[@]}" >"$WORK/out" 2>"$WORK/err" || fail "gst-launch-1.0 exited $?"
expect "gst-launch default: GOMP_SPINCOUNT" "$(spincounts "$WORK/err")" "0"
expect "gst-launch default: OMP_WAIT_POLICY" "$(policies "$WORK/err")" "PASSIVE"
echo "ok gst-launch-1.0 ... advadinfer ...: PASSIVE (GOMP_SPINCOUNT 0)"

"${clean[@]}" OMP_DISPLAY_ENV=verbose OMP_WAIT_POLICY=ACTIVE "${pipeline[@]}" >"$WORK/out" 2>"$WORK/err" ||
  fail "gst-launch-1.0 (ACTIVE) exited $?"
expect "gst-launch OMP_WAIT_POLICY=ACTIVE: policy" "$(policies "$WORK/err")" "ACTIVE"
expect "gst-launch OMP_WAIT_POLICY=ACTIVE: GOMP_SPINCOUNT" "$(spincounts "$WORK/err")" "30000000000"
"${clean[@]}" OMP_DISPLAY_ENV=verbose GOMP_SPINCOUNT=12345 "${pipeline[@]}" >"$WORK/out" 2>"$WORK/err" ||
  fail "gst-launch-1.0 (GOMP_SPINCOUNT) exited $?"
expect "gst-launch GOMP_SPINCOUNT=12345" "$(spincounts "$WORK/err")" "12345"
echo "ok gst-launch-1.0: the user's OMP_WAIT_POLICY=ACTIVE / GOMP_SPINCOUNT stay"

# libgomp loaded before the plugin (here preloaded): the default stays, and the plugin says why.
"${clean[@]}" OMP_DISPLAY_ENV=verbose LD_PRELOAD=libgomp.so.1 GST_DEBUG=advad:2 "${pipeline[@]}" >"$WORK/out" 2>"$WORK/err" ||
  fail "gst-launch-1.0 (libgomp preloaded) exited $?"
expect "gst-launch, libgomp preloaded: GOMP_SPINCOUNT" "$(spincounts "$WORK/err")" "300000"
grep -q "WARN.*libgomp (OpenMP) was loaded by this process before the advad plugin" "$WORK/err" ||
  fail "gst-launch, libgomp preloaded: no warning from the plugin"
echo "ok gst-launch-1.0 with libgomp loaded first: default kept, warning logged"

# A broken element library: a clear error naming the file; the plugin registers nothing.
mkdir -p "$WORK/broken/plugin" "$WORK/broken/system"
cp "$GSTDIR/libgstadvad.so" "$WORK/broken/plugin/"
echo "not a library" >"$WORK/broken/plugin/libgstadvad-elements.so.0"
set +e
"${clean[@]}" GST_REGISTRY_1_0="$WORK/broken/registry.bin" GST_REGISTRY_FORK=no GST_PLUGIN_PATH_1_0="$WORK/broken/plugin" \
  GST_PLUGIN_SYSTEM_PATH_1_0="$WORK/broken/system" gst-inspect-1.0 advadinfer >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "gst-inspect-1.0 found advadinfer with a broken element library"
grep -q "cannot load the element library $WORK/broken/plugin/libgstadvad-elements.so.0" "$WORK/err" ||
  fail "broken element library: the error does not name the file"
echo "ok a broken element library: plugin_init fails, the error names $WORK/broken/plugin/libgstadvad-elements.so.0"
