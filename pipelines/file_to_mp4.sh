#!/usr/bin/env bash
# Video file -> annotated MP4 (H.264): heatmap, defect contours and boxes,
# verdict/score label on every frame, plus one JSON line per frame if JSON is set.
#
#   PROFILE=models/mvtec_ad2/can.ini INPUT=line3.mp4 OUTPUT=line3_annotated.mp4 pipelines/file_to_mp4.sh
#
# PROFILE   category profile (.ini) or model package folder (required)
# INPUT     any video decodebin can play (required)
# OUTPUT    annotated MP4 to write (default annotated.mp4)
# JSON      JSON-lines file (default: none)
# DEVICE    auto | cpu | cuda | cuda:N (default auto)
# THREADS   LibTorch CPU threads, 0 = all cores (default 0)
# INTERVAL  score every N-th frame; the others carry the last result (default 1)
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${INPUT:?set INPUT to a video file}"
OUTPUT=${OUTPUT:-annotated.mp4}
JSON=${JSON:-}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }

# advad launch runs the line as gst-launch-1.0 -e would (EOS on Ctrl-C, so mp4mux
# writes a playable file) but goes straight to PLAYING: see `advad launch --help`.
exec "$ADVAD" launch \
  filesrc location="$INPUT" ! decodebin ! videoconvert \
  ! advaddetect profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" \
      ${JSON:+json-location="$JSON"} \
  ! videoconvert ! x264enc speed-preset=veryfast ! h264parse ! mp4mux \
  ! filesink location="$OUTPUT"
