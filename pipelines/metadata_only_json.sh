#!/usr/bin/env bash
# Video file -> results only, one JSON line per frame; no drawing, no video out.
# Each line: frame, pts (ns), pts_s, wallclock (UTC), unix_time, source, width,
# height, score, threshold, verdict (ok | defect), carried, scored_frame,
# regions [{x, y, width, height, area, max_score, mean_score}].
#
#   PROFILE=models/mvtec_ad2/can.ini INPUT=line3.mp4 JSON=line3.jsonl pipelines/metadata_only_json.sh
#
# PROFILE   category profile (.ini) or model package folder (required)
# INPUT     video file (required); for a camera use v4l2src as in camera_to_display.sh
# JSON      file to write, "-" for standard output (default results.jsonl)
# SOURCE    text for the "source" field of every line (default: the input's name)
# DEVICE, THREADS, INTERVAL as in file_to_mp4.sh
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${INPUT:?set INPUT to a video file}"
JSON=${JSON:-results.jsonl}
SOURCE=${SOURCE:-$(basename "$INPUT")}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }

# advad launch prints on stderr only: standard output carries the JSON (JSON=-).
exec "$ADVAD" launch \
  filesrc location="$INPUT" ! decodebin ! videoconvert \
  ! advaddetect profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" \
      overlay=false json-location="$JSON" source="$SOURCE" \
  ! fakesink sync=false
