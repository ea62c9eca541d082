#!/usr/bin/env bash
# Several cameras, one model: each camera gets its own advaddetect branch in
# one pipeline (one process), so they share one loaded model (advadinfer's
# model cache: same profile + files, device, precision -> one copy of the
# weights; scoring calls take turns). Every output names its camera: the
# JSON lines' "source" field, the files <OUTDIR>/<name>.mp4 and <name>.jsonl.
#
#   PROFILE=models/mvtec_ad2/can.ini \
#   CAMERAS="line1=rtsp://10.0.0.5:8554/cam line2=/dev/video0 line3=shift2.mp4" pipelines/multi_camera.sh
#
# PROFILE      category profile (.ini) or model package folder (required)
# CAMERAS      space-separated NAME=INPUT pairs (required, at least one). INPUT is
#              rtsp://…, http(s)://… or file://… (uridecodebin), /dev/videoN (v4l2src),
#              "test" (videotestsrc is-live=true, for trying the line) or a video file.
#              NAME is the "source" of that camera's results: letters, digits, - and _.
# OUTDIR       folder for <NAME>.mp4 (annotated) and <NAME>.jsonl (default multi-camera)
# NUM_BUFFERS  stop "test" cameras after N frames (default 0 = run until Ctrl-C)
# DEVICE, THREADS, INTERVAL as in file_to_mp4.sh. With cameras faster than the
#              model, raise INTERVAL or let advadinfer drop late frames (live sources).
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${CAMERAS:?set CAMERAS to NAME=INPUT pairs, e.g. CAMERAS=\"line1=rtsp://cam1/stream line2=/dev/video0\"}"
OUTDIR=${OUTDIR:-multi-camera}
NUM_BUFFERS=${NUM_BUFFERS:-0}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }
mkdir -p "$OUTDIR" || { echo "multi_camera.sh: cannot create OUTDIR '$OUTDIR'" >&2; exit 2; }

frames=$NUM_BUFFERS
[ "$frames" -gt 0 ] || frames=-1  # videotestsrc: -1 = no end
line=()
declare -A seen=()
for cam in $CAMERAS; do
  name=${cam%%=*} input=${cam#*=}
  if [ "$name" = "$cam" ] || [ -z "$name" ] || [ -z "$input" ] || [[ ! "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "multi_camera.sh: CAMERAS entry '$cam' is not NAME=INPUT (NAME: letters, digits, - and _)" >&2
    exit 2
  fi
  [ -z "${seen[$name]:-}" ] || { echo "multi_camera.sh: camera name '$name' is used twice in CAMERAS" >&2; exit 2; }
  seen[$name]=1
  case "$input" in
    rtsp://* | http://* | https://* | file://*) src=(uridecodebin uri="$input") ;;
    /dev/video*) src=(v4l2src device="$input") ;;
    test) src=(videotestsrc is-live=true num-buffers="$frames" pattern=ball
               ! video/x-raw,width=640,height=480,framerate=10/1) ;;
    *)
      [ -r "$input" ] || { echo "multi_camera.sh: camera '$name': cannot read '$input'" >&2; exit 2; }
      src=(filesrc location="$input" ! decodebin) ;;
  esac
  # One branch per camera; the queue gives each its own streaming thread.
  line+=("${src[@]}" ! queue ! videoconvert
    ! advaddetect name="detect-$name" profile="$PROFILE" device="$DEVICE" threads="$THREADS"
      inference-interval="$INTERVAL" source="$name" json-location="$OUTDIR/$name.jsonl"
    ! videoconvert ! x264enc speed-preset=veryfast ! h264parse ! mp4mux
    ! filesink location="$OUTDIR/$name.mp4")
done

# advad launch: EOS on Ctrl-C (playable MP4s), straight to PLAYING, exit 2 on a bad line.
exec "$ADVAD" launch "${line[@]}"
