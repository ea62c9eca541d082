#!/usr/bin/env bash
# The main job: install what is missing, build, make the embedded default
# category (cached in .cache/demo) and run a real gst-launch-1.0 pipeline on it:
#   multifilesrc (generated camera frames) ! advadtile ! advadinfer ! advadpostproc
#     ! advadoverlay json-location=… ! x264enc ! mp4mux ! filesink
# Output: demo-out/annotated.mp4 and demo-out/results.jsonl (one line per frame).
# Usage: scripts/demo.sh [extra advadinfer properties, e.g. device=cuda:0]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
scripts/setup.sh "$BUILD"

ADVAD="$BUILD/src/tools/advad"
KIT=.cache/demo
OUT=demo-out
mkdir -p "$OUT"

# Embedded default: a textured surface with a bright or dark blob planted in
# every 2nd frame, scored by the demo scorer package (made once, then cached).
if [ ! -f "$KIT/model/profile.ini" ] || [ ! -f "$KIT/frames/frame_0023.png" ]; then
  "$ADVAD" make-demo "$KIT" --frames 24 --width 640 --height 480 --defect-every 2 --tiling 2x2
fi
PROFILE="$KIT/model/profile.ini"
# An INP-Former demo profile trained by `advad train` replaces it when present.
if [ -f models/demo/inpformer_demo.ini ] && [ -z "${ADVAD_DEMO_TORCHSCRIPT:-}" ]; then
  if [ ! -f "$KIT/inpformer/profile.ini" ]; then
    "$ADVAD" train models/demo/inpformer_demo.ini --out "$KIT/inpformer" || true
  fi
  [ -f "$KIT/inpformer/profile.ini" ] && PROFILE="$KIT/inpformer/profile.ini"
fi

export GST_PLUGIN_PATH="$PWD/$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
echo "advad demo: profile $PROFILE, frames $KIT/frames" >&2
rm -f "$OUT/results.jsonl"
gst-launch-1.0 -q -e \
  multifilesrc location="$KIT/frames/frame_%04d.png" index=0 stop-index=23 \
      caps="image/png,framerate=10/1" \
  ! pngdec ! videoconvert \
  ! advadtile profile="$PROFILE" \
  ! advadinfer profile="$PROFILE" "$@" \
  ! advadpostproc \
  ! advadoverlay json-location="$OUT/results.jsonl" source=demo-camera \
  ! videoconvert ! x264enc speed-preset=veryfast ! h264parse ! mp4mux \
  ! filesink location="$OUT/annotated.mp4"

frames=$(wc -l < "$OUT/results.jsonl")
defects=$(grep -c '"verdict":"defect"' "$OUT/results.jsonl" || true)
echo "advad demo: $frames frames scored, $defects with a defect (12 planted)"
echo "advad demo: wrote $OUT/annotated.mp4 and $OUT/results.jsonl"
