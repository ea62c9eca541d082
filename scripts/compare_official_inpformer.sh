#!/usr/bin/env bash
# CPU time per tile of the official INP-Former (PyTorch eager, from your
# checkout of https://github.com/luow23/INP-Former) next to advad's C++ port
# (`advad bench inpformer`): same network shapes (random weights; the encoder
# stops after its last tapped block in both), same input sides, same threads.
# The two run interleaved, ROUNDS times (official, advad, official, advad, ...),
# so load changes hit both; the table shows each side's best round and the
# ratio advad / official (below 1 = advad is faster).
#
# What is timed per tile, both sides: the network forward and the two group
# cosine-distance maps upsampled to the input and averaged (official: model(x),
# 1 - cosine per group, bilinear, mean, as its evaluation does before its blur;
# advad: `bench inpformer --maps groups`). advad runs each precision in LIST; the
# official code runs float32 (what its scripts use on a CPU).
#
# Both sides run with passive OpenMP waits (advad's default; the Python side
# gets OMP_WAIT_POLICY=PASSIVE unless you set it): spinning waits cost either
# side 1.3-3.6x on a few cores, which would measure libgomp, not the code.
#
# Not part of the tests. Needs Debian's python3-torch (/usr/bin/python3) and
# the official repository checked out (no download: weights are random).
#
#   scripts/compare_official_inpformer.sh --official ~/src/INP-Former \
#       [--encoders vit_small,vit_base] [--sizes 392,448] [--threads 2] [--rounds 2] [--precision fp32,bf16]
set -euo pipefail
cd "$(dirname "$0")/.."
OFFICIAL="" ENCODERS=vit_small,vit_base SIZES=392,448 THREADS=2 ROUNDS=2 PRECISION=fp32
ADVAD=${ADVAD:-build/src/tools/advad}
PY=${PYTHON:-/usr/bin/python3}
while [ $# -gt 0 ]; do
  case "$1" in
    --official) OFFICIAL=$2; shift 2 ;;
    --encoders) ENCODERS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --precision) PRECISION=$2; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$OFFICIAL" ] && [ -f "$OFFICIAL/models/uad.py" ] ||
  { echo "--official must name a checkout of luow23/INP-Former (models/uad.py not found in '$OFFICIAL')" >&2; exit 2; }
"$PY" -c 'import torch' 2>/dev/null || { echo "$PY has no torch: apt install python3-torch" >&2; exit 2; }
[ -x "$ADVAD" ] || { echo "advad not built at $ADVAD (scripts/setup.sh, or set ADVAD)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/advad_compare_XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The official side: the model assembled as its single-class script does, timed
# by this small driver (our code; it only imports theirs).
cat >"$WORK/official.py" <<'PY'
import json, sys, time
from functools import partial
import torch, torch.nn as nn, torch.nn.functional as F
repo, encoders, sizes, threads = sys.argv[1], sys.argv[2].split(","), [int(s) for s in sys.argv[3].split(",")], int(sys.argv[4])
sys.path.insert(0, repo)
from dinov2.models import vision_transformer as dv2
from models.uad import INP_Former
from models.vision_transformer import Mlp, Aggregation_Block, Prototype_Block
torch.set_num_threads(threads)
shapes = {"vit_small": ("small", 384, 6), "vit_base": ("base", 768, 12), "vit_large": ("large", 1024, 16)}
rows = []
for enc in encoders:
    arch, dim, heads = shapes[enc]
    torch.manual_seed(0)
    encoder = dv2.__dict__["vit_" + arch](patch_size=14, img_size=518, block_chunks=0, init_values=1e-8,
                                           num_register_tokens=4, interpolate_antialias=False, interpolate_offset=0.1)
    target = [4, 6, 8, 10, 12, 14, 16, 18] if arch == "large" else [2, 3, 4, 5, 6, 7, 8, 9]
    norm = partial(nn.LayerNorm, eps=1e-8)
    model = INP_Former(encoder=encoder, bottleneck=nn.ModuleList([Mlp(dim, dim * 4, dim, drop=0.)]),
                       aggregation=nn.ModuleList([Aggregation_Block(dim=dim, num_heads=heads, mlp_ratio=4., qkv_bias=True, norm_layer=norm)]),
                       decoder=nn.ModuleList([Prototype_Block(dim=dim, num_heads=heads, mlp_ratio=4., qkv_bias=True, norm_layer=norm) for _ in range(8)]),
                       target_layers=target, remove_class_token=True,
                       fuse_layer_encoder=[[0, 1, 2, 3], [4, 5, 6, 7]], fuse_layer_decoder=[[0, 1, 2, 3], [4, 5, 6, 7]],
                       prototype_token=nn.ParameterList([nn.Parameter(torch.randn(6, dim))])).eval()
    for side in sizes:
        x = torch.randn(1, 3, side, side)
        def run():
            with torch.no_grad():
                en, de, _ = model(x)
                maps = [F.interpolate(1 - F.cosine_similarity(a, b).unsqueeze(1), size=(side, side), mode="bilinear",
                                      align_corners=True) for a, b in zip(en, de)]
                return torch.cat(maps, 1).mean(1)
        run()
        t = time.perf_counter(); run(); ms = (time.perf_counter() - t) * 1e3
        rows.append({"encoder": enc, "size": side, "ms_per_tile": ms})
print(json.dumps(rows))
PY

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: official ($(uptime | sed 's/.*load average: //'))" >&2
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$PY" "$WORK/official.py" "$OFFICIAL" "$ENCODERS" "$SIZES" "$THREADS" >"$WORK/official_$r.json"
  echo "round $r/$ROUNDS: advad" >&2
  "$ADVAD" bench inpformer --encoders "$ENCODERS" --sizes "$SIZES" --threads "$THREADS" --iters 1 --maps groups \
    --precision "$PRECISION" --json "$WORK/advad_$r.json" >/dev/null
done

"$PY" - "$WORK" "$ROUNDS" <<'PY'
import json, sys
work, rounds = sys.argv[1], int(sys.argv[2])
best = {}
for r in range(1, rounds + 1):
    for row in json.load(open(f"{work}/official_{r}.json")):
        k = (row["encoder"], row["size"], "official fp32")
        best[k] = min(best.get(k, 1e18), row["ms_per_tile"])
    for row in json.load(open(f"{work}/advad_{r}.json"))["rows"]:
        k = (row["encoder"], row["size"], "advad " + row["precision"])
        best[k] = min(best.get(k, 1e18), row["ms_per_tile"])
print(f"| encoder | size | official fp32 ms/tile | advad | advad ms/tile | advad / official |")
print(f"|---|---:|---:|---|---:|---:|")
for (enc, size, who), ms in sorted(best.items()):
    if who == "official fp32":
        continue
    off = best[(enc, size, "official fp32")]
    print(f"| {enc} | {size} | {off:.0f} | {who[6:]} | {ms:.0f} | {ms / off:.2f} |")
PY
uptime >&2
