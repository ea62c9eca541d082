#!/usr/bin/env bash
# Video file (or any source) -> annotated MP4 segments of SEGMENT_S seconds
# with splitmuxsink, e.g. for a recorder that keeps the last hours of a line.
#
#   PROFILE=models/mvtec_ad2/can.ini INPUT=line3.mp4 OUTDIR=rec pipelines/file_to_segments.sh
#
# PROFILE    category profile (.ini) or model package folder (required)
# INPUT      video file (required)
# OUTDIR     folder for segment_00000.mp4, segment_00001.mp4, ... (default segments)
# SEGMENT_S  segment length in seconds (default 10); cuts happen at key frames only
# KEYINT     frames between key frames (default 30: 1 s at 30 fps); keep it <= the
#            frames of one segment
# MAX_FILES  keep only the newest N segments, 0 = keep all (default 0)
# DEVICE, THREADS, INTERVAL as in file_to_mp4.sh
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${INPUT:?set INPUT to a video file}"
OUTDIR=${OUTDIR:-segments} SEGMENT_S=${SEGMENT_S:-10} KEYINT=${KEYINT:-30} MAX_FILES=${MAX_FILES:-0}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }
mkdir -p "$OUTDIR"

exec "$ADVAD" launch \
  filesrc location="$INPUT" ! decodebin ! videoconvert \
  ! advaddetect profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" \
  ! videoconvert ! x264enc speed-preset=veryfast key-int-max="$KEYINT" ! h264parse \
  ! splitmuxsink location="$OUTDIR/segment_%05d.mp4" max-size-time=$((SEGMENT_S * 1000000000)) max-files="$MAX_FILES"
