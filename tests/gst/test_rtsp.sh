#!/usr/bin/env bash
# RTSP in and out on 127.0.0.1: `advad serve` serves annotated frames, survives
# a camera that goes away and comes back, refuses bad flags; the recipe
# rtsp_camera_to_recording.sh records from it. Usage: test_rtsp.sh <advad> <pipelines dir>
set -euo pipefail
ADVAD=$(realpath "$1") RECIPES=$2
export ADVAD
WORK=$(mktemp -d /tmp/advad_rtsp_XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}
count() { grep -c "$1" "$2" 2>/dev/null || true; }

"$ADVAD" make-demo "$WORK/kit" --frames 4 --width 160 --height 120 >/dev/null 2>&1
PROFILE="$WORK/kit/model"
TINY=(--width 160 --height 120 --fps 25 --threads 1)

# serve LOG ARGS...: starts `advad serve` in the background (pid in $SERVE_PID),
# waits for the URL it prints (model load included) and sets $URL.
serve() {
  local log=$1; shift
  "$ADVAD" serve --profile "$PROFILE" --address 127.0.0.1 "$@" 2>"$log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  URL=
  for _ in $(seq 1 300); do
    URL=$(grep -o 'rtsp://127\.0\.0\.1:[0-9]*/[^ ]*' "$log" | tail -n 1 || true)
    [ -n "$URL" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || fail "advad serve $* exited before serving"
    sleep 0.1
  done
  fail "advad serve $* printed no URL within 30 s"
}
# stop PID: SIGINT, then the exit code must be 0 within 15 s.
stop() {
  kill -INT "$1"
  for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && fail "advad serve (pid $1) still running 15 s after SIGINT"
  local rc=0
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || fail "advad serve (pid $1) exited $rc after SIGINT, expected 0"
}
# receive URL N: a client decodes N frames within 30 s.
receive() {
  timeout 30 gst-launch-1.0 -q rtspsrc location="$1" protocols=tcp ! rtph264depay ! h264parse ! avdec_h264 \
    ! identity eos-after="$2" ! fakesink >"$WORK/client.log" 2>&1 ||
    fail "client on $1 did not decode $2 frames within 30 s"
}
port_of() { local p=${1#rtsp://127.0.0.1:}; echo "${p%%/*}"; }

# a. test frames -> annotated RTSP stream; a client decodes 50 frames.
serve "$WORK/a.log" --input test --source line-1 --port 0 "${TINY[@]}" --json "$WORK/a.jsonl"
[ "$URL" = "rtsp://127.0.0.1:$(port_of "$URL")/line-1" ] || fail "served URL '$URL'"
receive "$URL" 50
n=$(count '"verdict":' "$WORK/a.jsonl")
[ "$n" -ge 25 ] || fail "serve: $n JSON lines with a verdict while a client took 50 frames, expected >= 25"
stop "$SERVE_PID"
[ "$(grep -vc '"source":"line-1"' "$WORK/a.jsonl")" -eq 0 ] || fail "serve: JSON lines without the source field"
echo "ok advad serve --input test: a client decoded 50 frames, $n annotated frames in JSON, exit 0 on SIGINT"

# b. A camera (itself an `advad serve`) that goes away and comes back on the same port.
serve "$WORK/cam.log" --input test --source cam --port 0 "${TINY[@]}"
CAM=$SERVE_PID CAM_URL=$URL
serve "$WORK/b.log" --input "$CAM_URL" --port 0 --threads 1 --json "$WORK/b.jsonl"
B=$SERVE_PID B_URL=$URL
for _ in $(seq 1 100); do [ "$(count verdict "$WORK/b.jsonl")" -ge 10 ] && break; sleep 0.1; done
[ "$(count verdict "$WORK/b.jsonl")" -ge 10 ] || fail "serve --input rtsp://: no frames scored from the camera"
stop "$CAM"
sleep 3
kill -0 "$B" 2>/dev/null || fail "advad serve ended when its camera went away"
grep -q "camera $CAM_URL lost; retrying in" "$WORK/b.log" || fail "no 'camera ... lost; retrying' message"
serve "$WORK/cam2.log" --input test --source cam --port "$(port_of "$CAM_URL")" "${TINY[@]}"
CAM=$SERVE_PID
for _ in $(seq 1 300); do grep -q "camera $CAM_URL back" "$WORK/b.log" && break; sleep 0.1; done
grep -q "camera $CAM_URL back" "$WORK/b.log" || fail "no 'camera ... back' within 30 s of the camera's return"
before=$(count verdict "$WORK/b.jsonl")
receive "$B_URL" 50
after=$(count verdict "$WORK/b.jsonl")
[ $((after - before)) -ge 10 ] || fail "after the camera came back: $((after - before)) frames scored while a client took 50"
echo "ok advad serve --input rtsp://: camera lost and back, server up, a new client decoded 50 frames"

# d. The recipe records 40 frames from the camera: playable MP4 + JSON lines.
PROFILE="$PROFILE" CAMERA="$CAM_URL" OUTPUT="$WORK/rec.mp4" JSON="$WORK/rec.jsonl" SOURCE=line-3 NUM_BUFFERS=40 \
  THREADS=1 timeout 60 "$RECIPES/rtsp_camera_to_recording.sh" >"$WORK/rec.log" 2>&1 || fail "rtsp_camera_to_recording.sh"
n=$(count '"source":"line-3"' "$WORK/rec.jsonl")
[ "$n" -ge 30 ] || fail "rtsp_camera_to_recording: $n JSON lines, expected >= 30"
frames=$(gst-launch-1.0 -v filesrc location="$WORK/rec.mp4" ! qtdemux ! h264parse ! avdec_h264 \
  ! identity silent=false ! fakesink 2>&1 | grep -c 'identity0: last-message = chain' || true)
[ "$frames" -ge 30 ] || fail "rtsp_camera_to_recording: rec.mp4 decodes to $frames frames, expected >= 30"
echo "ok rtsp_camera_to_recording.sh: $frames frames in a playable MP4, $n JSON lines"
stop "$B"
stop "$CAM"

# c. Bad input: exit 2, naming the cause.
set +e
"$ADVAD" serve --input test --profile "$WORK/no such.ini" --port 0 >/dev/null 2>"$WORK/bad.log"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "serve with a missing profile: exit $rc, expected 2"
grep -q "no such.ini" "$WORK/bad.log" || fail "serve with a missing profile: the file is not named"
for flags in "--port 70000" "--port -1" "--fps abc" "--transport quic" "--source a/b"; do
  set +e
  # shellcheck disable=SC2086  # the flags are split on purpose
  "$ADVAD" serve --input test --profile "$PROFILE" $flags >/dev/null 2>"$WORK/bad.log"; rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "serve $flags: exit $rc, expected 2"
  grep -q -- "${flags%% *}" "$WORK/bad.log" || fail "serve $flags: the message does not name ${flags%% *}"
done
set +e
"$ADVAD" serve --input "$WORK/missing.mp4" --profile "$PROFILE" >/dev/null 2>"$WORK/bad.log"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q missing.mp4 "$WORK/bad.log" || fail "serve with a missing input file: exit $rc or not named"
echo "ok advad serve: missing profile / input, bad port, fps, transport, source are exit 2, named"
