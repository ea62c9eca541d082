#!/usr/bin/env bash
# Runs the pipelines/ recipes that work without a camera on a demo kit made by
# `advad make-demo` and checks what they write. Usage: test_recipes.sh <advad> <pipelines dir>
set -euo pipefail
ADVAD=$1 RECIPES=$2
WORK=$(mktemp -d /tmp/advad_recipes_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 40 frames, 160x120, a defect in every 2nd frame, also as a 10 fps MP4.
"$ADVAD" make-demo "$WORK/kit" --frames 40 --width 160 --height 120 --video demo.mp4 --fps 10 >/dev/null 2>&1
export PROFILE="$WORK/kit/model" THREADS=2
defects=$(tail -n +2 "$WORK/kit/frames/labels.csv" | awk -F, '$2==1' | wc -l)
[ "$defects" -eq 20 ] || fail "labels.csv has $defects defect frames, expected 20"

count() { grep -c "$1" "$2" || true; }

# file -> annotated MP4 (+ JSON lines)
INPUT="$WORK/kit/demo.mp4" OUTPUT="$WORK/a.mp4" JSON="$WORK/a.jsonl" "$RECIPES/file_to_mp4.sh" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "file_to_mp4.sh"; }
[ "$(wc -l <"$WORK/a.jsonl")" -eq 40 ] || fail "file_to_mp4: $(wc -l <"$WORK/a.jsonl") JSON lines, expected 40"
[ "$(count '"verdict":"defect"' "$WORK/a.jsonl")" -eq 20 ] || fail "file_to_mp4: defect lines != 20"
gst-launch-1.0 -q filesrc location="$WORK/a.mp4" ! qtdemux ! h264parse ! avdec_h264 ! fakesink >/dev/null 2>&1 ||
  fail "file_to_mp4: a.mp4 does not decode"
echo "ok file_to_mp4.sh: 40 frames, 20 defects, playable MP4"

# file -> MP4 segments
INPUT="$WORK/kit/demo.mp4" OUTDIR="$WORK/seg" SEGMENT_S=1 KEYINT=10 "$RECIPES/file_to_segments.sh" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "file_to_segments.sh"; }
nseg=$(ls "$WORK/seg" | grep -c '^segment_.*\.mp4$' || true)
[ "$nseg" -ge 3 ] || fail "file_to_segments: $nseg segments for 4 s at 1 s each"
echo "ok file_to_segments.sh: $nseg segments"

# metadata only -> JSON lines on stdout
INPUT="$WORK/kit/demo.mp4" JSON=- SOURCE=line-7 "$RECIPES/metadata_only_json.sh" >"$WORK/m.jsonl" 2>"$WORK/log" ||
  { cat "$WORK/log"; fail "metadata_only_json.sh"; }
[ "$(wc -l <"$WORK/m.jsonl")" -eq 40 ] || fail "metadata_only_json: $(wc -l <"$WORK/m.jsonl") lines on stdout"
[ "$(count '"source":"line-7"' "$WORK/m.jsonl")" -eq 40 ] || fail "metadata_only_json: source field"
[ "$(count '"verdict":"defect"' "$WORK/m.jsonl")" -eq 20 ] || fail "metadata_only_json: defect lines != 20"
echo "ok metadata_only_json.sh: 40 lines on stdout"

# image folder -> annotated PNGs and heatmaps
for mode in annotated maps; do
  FOLDER="$WORK/kit/frames" OUTDIR="$WORK/$mode" MODE=$mode JSON="$WORK/$mode.jsonl" \
    "$RECIPES/image_folder_to_png.sh" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "image_folder_to_png.sh $mode"; }
  n=$(ls "$WORK/$mode" | grep -c "^${mode}_.*\.png$" || true)
  [ "$n" -eq 40 ] || fail "image_folder_to_png $mode: $n PNGs"
  [ "$(count '"verdict":"defect"' "$WORK/$mode.jsonl")" -eq 20 ] || fail "image_folder_to_png $mode: defects != 20"
  echo "ok image_folder_to_png.sh MODE=$mode: 40 PNGs"
done

# advad run on the same kit
"$ADVAD" run --profile "$PROFILE" --input "$WORK/kit/frames" --json "$WORK/r.jsonl" --threads 2 --quiet 2>"$WORK/log" ||
  { cat "$WORK/log"; fail "advad run"; }
[ "$(count '"verdict":"defect"' "$WORK/r.jsonl")" -eq 20 ] || fail "advad run: defects != 20"
echo "ok advad run --input <folder>: 20 defects"
