#!/usr/bin/env bash
# Numbered images (multifilesrc) -> annotated PNGs, or heatmaps only (MODE=maps).
#
#   PROFILE=models/mvtec_ad2/can.ini FOLDER=shots OUTDIR=shots_out pipelines/image_folder_to_png.sh
#
# PROFILE   category profile (.ini) or model package folder (required)
# FOLDER    folder with the images (required)
# PATTERN   printf pattern of the file names in FOLDER (default frame_%04d.png,
#           the names `advad make-demo` writes); numbering starts at START (default 0)
#           and stops at the first missing number
# OUTDIR    folder for the output PNGs (default annotated)
# MODE      annotated: heatmap + contours + boxes + label (default)
#           maps: the heatmap alone, fully opaque (colour = anomaly score)
# JSON      JSON-lines file (default: none)
# DEVICE, THREADS as in file_to_mp4.sh
# PNG input only (pngdec); for JPEG use jpegdec and image/jpeg.
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${FOLDER:?set FOLDER to the folder that holds the images}"
PATTERN=${PATTERN:-frame_%04d.png} START=${START:-0}
OUTDIR=${OUTDIR:-annotated} MODE=${MODE:-annotated} JSON=${JSON:-}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0}
gst-inspect-1.0 advadinfer >/dev/null 2>&1 ||
  { echo "advad plugin not found: 'meson install', or run inside 'meson devenv -C build'" >&2; exit 2; }
case "$MODE" in
  annotated) DRAW="" ;;
  maps) DRAW="opacity=1.0 draw=heatmap" ;;
  *) echo "MODE must be annotated or maps, got '$MODE'" >&2; exit 2 ;;
esac
mkdir -p "$OUTDIR"

# shellcheck disable=SC2086  # DRAW holds several properties on purpose
exec gst-launch-1.0 \
  multifilesrc location="$FOLDER/$PATTERN" index="$START" caps="image/png,framerate=1/1" \
  ! pngdec ! videoconvert \
  ! advadtile profile="$PROFILE" \
  ! advadinfer profile="$PROFILE" device="$DEVICE" threads="$THREADS" \
  ! advadpostproc \
  ! advadoverlay $DRAW ${JSON:+json-location="$JSON"} \
  ! videoconvert ! pngenc ! multifilesink location="$OUTDIR/${MODE}_%04d.png"
