#!/usr/bin/env bash
# Does the false-alarm budget hold on images the calibration never saw?
# (docs/STATUS.md, "Thresholds to a false-alarm budget"). On generated data:
#   - the demo INP-Former that scripts/demo.sh trains (.cache/demo/inpformer),
#   - HELDOUT defect-free frames to calibrate on (validation/good),
#   - LABELLED frames, every 2nd with a planted blob and its exact mask
#     (test_public, make-demo --masks), for the best SegF1 within the budget,
#   - FRESH defect-free frames from another seed, never used to calibrate.
# For each budget P: advad calibrate --false-alarms P --labelled test_public
# --write on a copy of the package, then advad run (the elements' own chain)
# over the fresh frames; the table compares the measured false-alarm rate with
# the 95 % Clopper-Pearson bound calibrate printed, and SegF1 at the written
# threshold with the unconstrained SegF1-best one.
# Usage: scripts/false_alarm_check.sh [P ...]          (default: 0.05 0.01)
# Env: HELDOUT [100], LABELLED [40], FRESH [400], BUILD [build], WORK [.cache/false_alarm_check]
# Needs jq (reads calibrate's --json).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ADVAD="$BUILD/src/tools/advad"
PKG=.cache/demo/inpformer
W=${WORK:-.cache/false_alarm_check}
HELDOUT=${HELDOUT:-100} LABELLED=${LABELLED:-40} FRESH=${FRESH:-400}
[ $# -gt 0 ] || set -- 0.05 0.01
command -v jq >/dev/null || { echo "false_alarm_check: needs jq (apt-get install jq)" >&2; exit 2; }
[ -x "$ADVAD" ] || { echo "false_alarm_check: build first (scripts/setup.sh)" >&2; exit 2; }
[ -f "$PKG/weights.pth" ] || { echo "false_alarm_check: run scripts/demo.sh first (it trains $PKG)" >&2; exit 2; }

DS="$W/dataset/demo"
STAMP="$W/.made-$HELDOUT-$LABELLED-$FRESH"
if [ ! -f "$STAMP" ]; then
  rm -rf "$W"
  "$ADVAD" make-demo "$W/heldout" --frames "$HELDOUT" --defect-every 0 --seed 101 --quiet
  "$ADVAD" make-demo "$W/labelled" --frames "$LABELLED" --defect-every 2 --seed 202 --masks --quiet
  "$ADVAD" make-demo "$W/fresh" --frames "$FRESH" --defect-every 0 --seed 303 --quiet
  mkdir -p "$DS/train/good" "$DS/validation/good" "$DS/test_public/good" "$DS/test_public/bad" \
           "$DS/test_public/ground_truth/bad"
  cp "$W"/heldout/frames/*.png "$DS/validation/good/"
  tail -n +2 "$W/labelled/frames/labels.csv" | while IFS=, read -r name defect _; do
    if [ "$defect" = 1 ]; then
      cp "$W/labelled/frames/$name" "$DS/test_public/bad/"
      cp "$W/labelled/frames/masks/${name%.png}_mask.png" "$DS/test_public/ground_truth/bad/"
    else
      cp "$W/labelled/frames/$name" "$DS/test_public/good/"
    fi
  done
  touch "$STAMP"
fi

rows=()
for P in "$@"; do
  pkg="$W/package_$P"
  rm -rf "$pkg" && cp -r "$PKG" "$pkg"
  echo "== P = $P: advad calibrate on $HELDOUT held-out frames, labelled split of $LABELLED" >&2
  "$ADVAD" calibrate "$pkg" --dataset "$W/dataset" --category demo --false-alarms "$P" \
      --labelled test_public --write --json "$W/calibrate_$P.json" --plot "$W/calibrate_$P.png" --quiet
  "$ADVAD" run --profile "$pkg" --input "$W/fresh/frames" --json "$W/fresh_$P.jsonl" --quiet >/dev/null
  n_fresh=$(wc -l < "$W/fresh_$P.jsonl")
  fresh_flagged=$(grep -c '"verdict":"defect"' "$W/fresh_$P.jsonl" || true)
  rows+=("$(jq -r --arg P "$P" --argjson nf "$n_fresh" --argjson ff "$fresh_flagged" '
    (.rules[] | select(.rule == "false-alarms")) as $r |
    [$P, ($r.threshold | tostring | .[0:8]), "\($r.images_flagged)/\($r.images)",
     ((.false_alarm_upper95 * 1000 | round) / 10 | tostring),
     "\($ff)/\($nf)", (($ff / $nf) * 1000 | round / 10 | tostring),
     ((.labelled.within_budget.seg_f1 * 1000 | round) / 10 | tostring),
     ((.labelled.f1_best.seg_f1 * 1000 | round) / 10 | tostring),
     "\(.labelled.f1_best.good_flagged)/\(.labelled.f1_best.good)"] | join(" | ")' "$W/calibrate_$P.json")")
done

echo
echo "| P | threshold | held-out flagged | 95 % bound % | fresh flagged | fresh rate % | SegF1 % at it | F1-best SegF1 % | good flagged at F1-best |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${rows[@]}"; do echo "| $r |"; done
