#!/usr/bin/env bash
# Beyond the seed, measured: one training per category with the seed's
# settings, then the same models (same budget, --packages) with
#   (a) a 1x1;2x2 pyramid at test time, fused by mean and by max, and
#   (b) the max-f1 threshold rule (pseudo-defects on validation) instead of mean-std.
# Prints one Markdown table (means over the categories, test_public) and each
# variant's per-category SegF1.
#
# usage: scripts/compare-seed-variants.sh OUT [DATASET] [-- extra advad reproduce flags]
#   OUT      run folder (created; resumable: a second call redoes nothing)
#   DATASET  an MVTec AD 2 root; default: a miniature one made with advad synth mvtec-ad2 in OUT/data
# Budget (default, the miniature's): tests/data/reproduce/tiny.ini with 300 INP-Former iterations
# and 40 CPR steps; flags after -- are added to every run (e.g. -- --categories can,vial).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
advad="${ADVAD:-$here/build/src/tools/advad}"
[[ $# -ge 1 && $1 != -h && $1 != --help ]] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; [[ $# -ge 1 ]]; exit $?; }
out="$1"; shift
data=""
if [[ $# -gt 0 && $1 != -- ]]; then data="$1"; shift; fi
[[ $# -gt 0 && $1 == -- ]] && shift
extra=("$@")
[[ -x "$advad" ]] || { echo "compare-seed-variants: no advad binary at $advad (build first, or set ADVAD)" >&2; exit 2; }
mkdir -p "$out"
if [[ -z "$data" ]]; then
  data="$out/data"
  [[ -d "$data/can" ]] || "$advad" synth mvtec-ad2 --quiet --out "$data"
fi
budget=(--overrides "$here/tests/data/reproduce/tiny.ini" --set inpformer:train.iterations=300
        --set inpformer:train.warmup=20 --set cpr:train.steps=40)
run() {  # name, flags...
  local name="$1"; shift
  echo "== $name" >&2
  local rc=0
  "$advad" reproduce "$data" --out "$out/$name" --quiet --no-submission "${budget[@]}" "$@" "${extra[@]}" >"$out/$name.log" 2>&1 || rc=$?
  tail -n 1 "$out/$name.log" >&2
  [[ $rc -eq 0 || $rc -eq 3 ]] || { echo "compare-seed-variants: $name failed (exit $rc), see $out/$name.log" >&2; exit 1; }
}
run seed
run pyramid-mean --packages "$out/seed" --set 'tiling.levels=1x1;2x2' --set tiling.merge=mean
run pyramid-max --packages "$out/seed" --set 'tiling.levels=1x1;2x2' --set tiling.merge=max
run max-f1 --packages "$out/seed" --rule max-f1

pct() { awk -v x="$1" 'BEGIN { if (x == "") print "–"; else printf "%.2f", 100 * x }'; }
echo "| variant | AU-PRO@0.05 | AU-PRO@0.3 | SegF1 | ClassF1 | P-AUROC | I-AUROC |"
echo "|---|---|---|---|---|---|---|"
for v in seed pyramid-mean pyramid-max max-f1; do
  IFS=, read -r _ _ _ a1 a3 seg cls pa ia < <(grep '^mean,' "$out/$v/summary.csv")
  echo "| $v | $(pct "$a1") | $(pct "$a3") | $(pct "$seg") | $(pct "$cls") | $(pct "$pa") | $(pct "$ia") |"
done
echo
printf "| SegF1 %% |"; for v in seed pyramid-mean pyramid-max max-f1; do printf " %s |" "$v"; done; echo
printf "|---|"; for v in seed pyramid-mean pyramid-max max-f1; do printf -- "---|"; done; echo
for c in $(grep -v '^category\|^mean' "$out/seed/summary.csv" | cut -d, -f1); do
  printf "| %s |" "$c"
  for v in seed pyramid-mean pyramid-max max-f1; do
    printf " %s |" "$(pct "$(grep "^$c," "$out/$v/summary.csv" | cut -d, -f6)")"
  done
  echo
done
