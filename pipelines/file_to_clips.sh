#!/usr/bin/env bash
# Video file (or any source) -> defect clips: one annotated MP4 from PRE seconds
# before to POST seconds after each defect (overlapping defects make one clip),
# plus one JSON line per frame if JSON is set, where each defect frame's line
# names its clip ("clip").
#
#   PROFILE=models/mvtec_ad2/can.ini INPUT=line3.mp4 OUTDIR=clips SOURCE=line-3 pipelines/file_to_clips.sh
#
# PROFILE       category profile (.ini) or model package folder (required)
# INPUT         any video decodebin can play (required)
# OUTDIR        folder for <SOURCE>_<run>_f<frame>_<YYYYmmddTHHMMSS.mmmZ>.mp4 (default clips; created)
# PRE, POST     seconds before / after a defect (default 5, 5); a clip starts at the
#               keyframe at or before defect - PRE (keyframes every second)
# MAX_DURATION  longest clip in seconds, 0 = no cap (default 60)
# SOURCE        names the stream in the clip names and JSON lines (default: none)
# JSON          JSON-lines file (default: none)
# BITRATE       H.264 kbit/s of the clips (default 2048)
# DEVICE, THREADS, INTERVAL as in file_to_mp4.sh
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${INPUT:?set INPUT to a video file}"
OUTDIR=${OUTDIR:-clips} PRE=${PRE:-5} POST=${POST:-5} MAX_DURATION=${MAX_DURATION:-60}
SOURCE=${SOURCE:-} JSON=${JSON:-} BITRATE=${BITRATE:-2048}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }
mkdir -p "$OUTDIR"

# The JSON lines are written after advadclip (advadoverlay metadata-only), so
# they carry the clip names; advaddetect draws the annotations the clips show.
exec "$ADVAD" launch \
  filesrc location="$INPUT" ! decodebin ! videoconvert \
  ! advaddetect profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" \
  ! advadclip location="$OUTDIR" pre="$PRE" post="$POST" max-duration="$MAX_DURATION" bitrate="$BITRATE" \
      ${SOURCE:+source="$SOURCE"} \
  ! advadoverlay metadata-only=true ${JSON:+json-location="$JSON"} ${SOURCE:+source="$SOURCE"} \
  ! fakesink
