#!/usr/bin/env bash
# A folder of images (any names, taken in sorted order) -> annotated PNGs, or
# heatmaps only (MODE=maps).
#
#   PROFILE=models/mvtec_ad2/can.ini FOLDER=shots OUTDIR=shots_out pipelines/image_folder_to_png.sh
#
# PROFILE   category profile (.ini) or model package folder (required)
# FOLDER    folder with the images (required); every *.png or every *.jpg/*.jpeg
#           in it (case-insensitive, not in sub-folders), sorted by name (C locale)
# GLOB      shell pattern that picks the names instead (default: all images), e.g. 'cam1_*.png'
# OUTDIR    folder for the output PNGs (default annotated); the image NAME.png/.jpg
#           becomes OUTDIR/${MODE}_NAME.png
# MODE      annotated: heatmap + contours + boxes + label (default)
#           maps: the heatmap alone, fully opaque (colour = anomaly score)
# JSON      JSON-lines file (default: none); its "frame" is the image's place in the sorted list
# DEVICE, THREADS as in file_to_mp4.sh
# PNG or JPEG (one of them per run: a folder with both needs GLOB). The images
# are fed in one pipeline (the model loads once) through a temporary folder of
# numbered links that multifilesrc reads.
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${FOLDER:?set FOLDER to the folder that holds the images}"
GLOB=${GLOB:-*}
OUTDIR=${OUTDIR:-annotated} MODE=${MODE:-annotated} JSON=${JSON:-}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }
case "$MODE" in
  annotated) DRAW="" ;;
  maps) DRAW="opacity=1.0 draw=heatmap" ;;
  *) echo "MODE must be annotated or maps, got '$MODE'" >&2; exit 2 ;;
esac
[ -d "$FOLDER" ] || { echo "FOLDER '$FOLDER' is not a folder" >&2; exit 2; }

# The images, sorted by name; every one must be of the same kind.
images=() kind=""
while IFS= read -r -d '' path; do
  name=${path##*/}
  case "${name,,}" in
    *.png) k=png ;;
    *.jpg | *.jpeg) k=jpeg ;;
    *) continue ;;
  esac
  if [ -n "$kind" ] && [ "$k" != "$kind" ]; then
    echo "FOLDER '$FOLDER' holds both PNG and JPEG images; pick one kind with GLOB (e.g. GLOB='*.png')" >&2
    exit 2
  fi
  kind=$k
  images+=("$path")
done < <(find "$FOLDER" -mindepth 1 -maxdepth 1 \( -type f -o -type l \) -name "$GLOB" -print0 | LC_ALL=C sort -z)
[ "${#images[@]}" -gt 0 ] || { echo "no PNG or JPEG images matching '$GLOB' in '$FOLDER'" >&2; exit 2; }
if [ "$kind" = png ]; then CAPS=image/png DEC=pngdec; else CAPS=image/jpeg DEC=jpegdec; fi

links=$(mktemp -d "${TMPDIR:-/tmp}/advad_images.XXXXXX")
trap 'rm -rf "$links"' EXIT
for i in "${!images[@]}"; do
  ln -s "$(realpath "${images[$i]}")" "$(printf '%s/%06d.%s' "$links" "$i" "$kind")"
done
mkdir -p "$OUTDIR"
out=$links/out
mkdir "$out"

# shellcheck disable=SC2086  # DRAW holds several properties on purpose
"$ADVAD" launch --quiet \
  multifilesrc location="$links/%06d.$kind" index=0 stop-index=$((${#images[@]} - 1)) \
    caps="$CAPS,framerate=1/1" \
  ! $DEC ! videoconvert \
  ! advadtile profile="$PROFILE" \
  ! advadinfer profile="$PROFILE" device="$DEVICE" threads="$THREADS" \
  ! advadpostproc \
  ! advadoverlay $DRAW ${JSON:+json-location="$JSON"} \
  ! videoconvert ! pngenc ! multifilesink location="$out/%06d.png"

# Output i belongs to the i-th image: name it after that image.
written=0
for i in "${!images[@]}"; do
  f=$(printf '%s/%06d.png' "$out" "$i")
  [ -f "$f" ] || continue
  name=${images[$i]##*/}
  mv "$f" "$OUTDIR/${MODE}_${name%.*}.png"
  written=$((written + 1))
done
[ "$written" -eq "${#images[@]}" ] ||
  { echo "only $written of ${#images[@]} images were written to '$OUTDIR'" >&2; exit 1; }
echo "$written images -> $OUTDIR/${MODE}_<name>.png"
