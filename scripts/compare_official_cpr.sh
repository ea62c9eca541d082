#!/usr/bin/env bash
# CPU time per image of the official CPR (PyTorch eager, from your checkout of
# https://github.com/flyinghu123/CPR) next to advad's C++ port (`advad bench
# cpr`): DenseNet201 trunk to denseblock2 + both LRB heads (output 384), input
# SIDE, K retrieved training images, IMAGES training images in the bank, random
# weights and random bank features on both sides, same threads. The two run
# interleaved, ROUNDS times (official, advad, official, advad, ...), so load
# changes hit both; each side's figure is the mean over its timed queries (one
# warm-up query first), the table shows the best round of each and the ratio
# advad / official (below 1 = advad is faster; the project's goal is <= 0.25).
#
# The official side calls the official code itself: `test()` of its test.py
# (feature normalisation, local min-cosine matching over the K retrieved images
# with region sizes 3 and 1, fusion and upsampling, foreground weighting with
# the max over the query's and the retrieved images' foreground maps, the
# 33x33 sigma-4 blur, top-T sum), its CPR model (`create_model`: FeatureExtractor
# hooks stopping after denseblock2, LocalRetrievalBranch with Inception heads),
# its GlobalRetrievalBranch (codebook, block-wise histograms, KL ranking over
# the bank) and its ForegroundEstimateBranch. The per-image time is the time of
# one iteration of test()'s query loop, plus GRB and FEB run on the query's
# denseblock1 features from that same forward (the official scripts compute
# retrieval and foreground offline, in tools/generate_*.py, each with its own
# trunk forward: counting the trunk once is the same work as advad's and
# favours the official side).
#
# Not available to Debian's python3 here, so replaced by this driver (our code,
# standard definitions, the same eager PyTorch operations): timm's densenet201
# (built as timm/torchvision build it: BN+ReLU, 1x1 and 3x3 convs, concatenation;
# growth 32, blocks 6-12-48-32, only the first two ever run), torchvision's
# BasicConv2d (conv + BN eps 1e-3 + ReLU) and gaussian_blur (a full 2-D 33x33
# depthwise convolution in the map's dtype after reflect padding, as torchvision
# does), cv2.resize (bilinear, for the 80x80 foreground maps), tqdm (also our
# per-query clock), sklearn (only used to fit; weights here are random) and the
# dataset/metrics modules. Left out on both sides: image decoding, resizing and
# normalisation (the query is a ready tensor), the bank build (random features)
# and the evaluation metrics after the loop. test()'s few per-image lines for
# ground-truth masks (a 320x320 zeros array, well under 1 ms) stay in the
# official time. CUDA calls in test() are redirected to the CPU.
#
# Note: test() loads the foreground maps as float64 (numpy's default), so with
# foreground weighting (object categories) its fused map and its 33x33 blur are
# float64, which is slow on a CPU; --no-foreground (texture categories: no FEB,
# no weighting, both sides) keeps its map float32. The official "matching +
# foreground" column also holds its top-T sum and FEB; its "post" is the blur.
#
# The official code runs float32 (what it uses); advad runs each precision in
# LIST (`bench cpr --precision`). Both sides run with passive OpenMP waits
# (advad's default; the Python side gets OMP_WAIT_POLICY=PASSIVE unless you set
# it). Not part of the tests. Needs Debian's python3-torch (/usr/bin/python3)
# and the official repository checked out (no download: weights are random).
# Memory: the official bank holds IMAGES x 384 x (80x80 + 40x40) floats (400
# images: ~4.9 GB) plus ~3 GB per query for its unfolded 3x3 regions.
#
#   scripts/compare_official_cpr.sh --official ~/src/CPR [--images 100] [--k 10]
#       [--size 320] [--queries 5] [--threads 2] [--rounds 3] [--precision fp32,bf16] [--no-foreground]
set -euo pipefail
cd "$(dirname "$0")/.."
OFFICIAL="" IMAGES=100 K=10 SIZE=320 QUERIES=5 THREADS=2 ROUNDS=3 PRECISION=fp32,bf16 FOREGROUND=1
ADVAD=${ADVAD:-build/src/tools/advad}
PY=${PYTHON:-/usr/bin/python3}
while [ $# -gt 0 ]; do
  case "$1" in
    --official) OFFICIAL=$2; shift 2 ;;
    --images) IMAGES=$2; shift 2 ;;
    --k) K=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --queries) QUERIES=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --precision) PRECISION=$2; shift 2 ;;
    --no-foreground) FOREGROUND=0; shift ;;
    -h | --help) sed -n '2,55p' "$0"; exit 0 ;;
    *) echo "unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$OFFICIAL" ] && [ -f "$OFFICIAL/test.py" ] && [ -f "$OFFICIAL/models/grb.py" ] ||
  { echo "--official must name a checkout of flyinghu123/CPR (test.py, models/grb.py not found in '$OFFICIAL')" >&2; exit 2; }
"$PY" -c 'import torch, numpy' 2>/dev/null || { echo "$PY has no torch/numpy: apt install python3-torch" >&2; exit 2; }
[ -x "$ADVAD" ] || { echo "advad not built at $ADVAD (scripts/setup.sh, or set ADVAD)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/advad_compare_cpr_XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The official side, timed by this small driver (our code; it imports theirs
# and stands in only for the third-party modules named above).
cat >"$WORK/official.py" <<'PY'
import json, os, sys, time, types
from collections import OrderedDict
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
repo, work = sys.argv[1], sys.argv[2]
n_images, k, size, queries, threads, with_fg = (int(a) for a in sys.argv[3:9])
torch.set_num_threads(threads)

def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m

# --- stand-ins for modules Debian's python3 lacks ---------------------------
class _BNAct(nn.BatchNorm2d):  # timm's BatchNormAct2d: batch norm, then ReLU
    def forward(self, x):
        return F.relu(super().forward(x), inplace=True)

class _DenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1 = _BNAct(cin)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = _BNAct(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)
    def forward(self, xs):
        return self.conv2(self.norm2(self.conv1(self.norm1(torch.cat(xs, 1)))))

class _DenseBlock(nn.ModuleDict):
    def __init__(self, layers, cin, growth, bn_size):
        super().__init__()
        for i in range(layers):
            self.add_module("denselayer%d" % (i + 1), _DenseLayer(cin + i * growth, growth, bn_size))
    def forward(self, x):
        feats = [x]
        for layer in self.values():
            feats.append(layer(feats))
        return torch.cat(feats, 1)

class _DenseNet(nn.Module):
    def __init__(self, growth=32, blocks=(6, 12, 48, 32), init=64, bn_size=4):
        super().__init__()
        mods = [("conv0", nn.Conv2d(3, init, 7, 2, 3, bias=False)), ("norm0", _BNAct(init)),
                ("pool0", nn.MaxPool2d(3, 2, 1))]
        c = init
        for i, n in enumerate(blocks):
            mods.append(("denseblock%d" % (i + 1), _DenseBlock(n, c, growth, bn_size)))
            c += n * growth
            if i != len(blocks) - 1:
                mods.append(("transition%d" % (i + 1), nn.Sequential(OrderedDict(
                    norm=_BNAct(c), conv=nn.Conv2d(c, c // 2, 1, bias=False), pool=nn.AvgPool2d(2, 2)))))
                c //= 2
        mods.append(("norm5", nn.BatchNorm2d(c)))
        self.features = nn.Sequential(OrderedDict(mods))
        self.classifier = nn.Linear(c, 1000)
    def forward(self, x):  # features first: the hooks stop the forward after denseblock2
        x = self.features(x)
        return self.classifier(F.adaptive_avg_pool2d(F.relu(x), 1).flatten(1))

class _BasicConv2d(nn.Module):  # torchvision.models.inception.BasicConv2d
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)
    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)

blur_ms = []  # per call (one per query)
def _gaussian_blur(img, kernel_size, sigma):  # torchvision.transforms.functional.gaussian_blur on a tensor
    t0 = time.perf_counter()
    kx, ky = kernel_size
    dtype = img.dtype if torch.is_floating_point(img) else torch.float32
    def k1(n):
        x = torch.linspace(-(n - 1) * 0.5, (n - 1) * 0.5, steps=n)
        pdf = torch.exp(-0.5 * (x / sigma).pow(2))
        return pdf / pdf.sum()
    kernel = torch.mm(k1(ky)[:, None], k1(kx)[None, :]).to(dtype).expand(img.shape[-3], 1, ky, kx)
    x = img[None] if img.ndim == 3 else img
    x = F.pad(x, [kx // 2, kx // 2, ky // 2, ky // 2], mode="reflect")
    out = F.conv2d(x, kernel, groups=x.shape[-3])
    out = out[0] if img.ndim == 3 else out
    blur_ms.append((time.perf_counter() - t0) * 1e3)
    return out

def _cv_resize(a, dsize, **kw):  # cv2.resize, bilinear (INTER_LINEAR: half-pixel centres)
    t = torch.from_numpy(np.ascontiguousarray(a))[None, None]
    return F.interpolate(t, size=(dsize[1], dsize[0]), mode="bilinear", align_corners=False)[0, 0].numpy()

iter_s = []
state = {"phase": None}
def _tqdm(it, desc="", **kw):  # tqdm, and the clock of each iteration of test()'s query loop
    state["phase"] = desc
    for x in it:
        t0 = time.perf_counter()
        yield x
        if desc == "predict test data":
            iter_s.append(time.perf_counter() - t0)
    state["phase"] = None

module("timm"); module("timm.models")
module("timm.models.densenet", DenseNet=_DenseNet, densenet201=lambda pretrained=False, **kw: _DenseNet())
sys.modules["timm.models"].densenet = sys.modules["timm.models.densenet"]
module("torchvision"); module("torchvision.models")
module("torchvision.models.efficientnet", EfficientNet=nn.Module)
module("torchvision.models.resnet", ResNet=nn.Module)
module("torchvision.models.inception", BasicConv2d=_BasicConv2d)
module("torchvision.transforms"); module("torchvision.transforms.functional", gaussian_blur=_gaussian_blur)
sys.modules["torchvision.models"].efficientnet = sys.modules["torchvision.models.efficientnet"]
sys.modules["torchvision.models"].resnet = sys.modules["torchvision.models.resnet"]
module("sklearn"); module("sklearn.cluster", KMeans=object)
module("sklearn.discriminant_analysis", LinearDiscriminantAnalysis=object)
module("tqdm", tqdm=_tqdm)
module("cv2", resize=_cv_resize)
torch.manual_seed(1)
query_img = torch.randn(3, size, size)  # the query, ready (decoding and normalisation left out)
module("dataset", DATASET_INFOS={}, read_image=lambda fn, resize=None: None,
       read_mask=lambda fn, resize=None: np.zeros(resize), test_transform=lambda image: query_img)
module("metrics", **{n: (lambda *a, **kw: 0.0) for n in
                     ("compute_ap_torch", "compute_pixel_auc_torch", "compute_pro_torch", "compute_image_auc_torch")})

# --- the official code -------------------------------------------------------
sys.path.insert(0, repo)
import importlib.util
_spec = importlib.util.spec_from_file_location("cpr_official_test", os.path.join(repo, "test.py"))
official_test = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(official_test)
from models import create_model
from models.grb import GlobalRetrievalBranch
from models.feb import ForegroundEstimateBranch

# test() is written for CUDA: run it on the CPU.
torch.Tensor.cuda = lambda self, *a, **kw: self
_zeros = torch.zeros
def _zeros_cpu(*a, **kw):
    if str(kw.get("device", "cpu")).startswith("cuda"):
        kw["device"] = "cpu"
    return _zeros(*a, **kw)
official_test.torch.zeros = _zeros_cpu

torch.manual_seed(0)
model = create_model("DenseNet", ["features.denseblock1", "features.denseblock2"], input_size=size).eval()
c1, h1 = model.backbone.shapes[0][1], model.backbone.shapes[0][2]
grb = GlobalRetrievalBranch(n_images, h1, c1, 12, 5).eval()
grb.codebook.cluster_centers.data = torch.randn(1, 12, c1, 1, 1)
refs = torch.rand(n_images, 25, 13)
grb.set_bank(refs / refs.sum(-1, keepdim=True))
feb = ForegroundEstimateBranch(c1).eval()

timed = {"backbone": [], "retrieval": [], "feb": []}
cpr_forward = model.forward
def forward(x):
    if state["phase"] != "predict test data":  # the bank: random features, as advad's bench
        return [torch.randn(1, c, s[2], s[3]) for c, s in zip(model.lrb.out_channels_list, model.backbone.shapes)], None
    t0 = time.perf_counter()
    out, ori = cpr_forward(x)
    t1 = time.perf_counter()
    with torch.no_grad():
        grb.retrieval(grb(ori[0]))[:k]  # GRB: codes, histograms, KL ranking over the bank
        t2 = time.perf_counter()
        if with_fg:
            feb(ori[0])  # FEB on the query (its map's resize and weighting are in test())
    t3 = time.perf_counter()
    timed["backbone"].append(t1 - t0); timed["retrieval"].append(t2 - t1); timed["feb"].append(t3 - t2)
    return out, ori
model.forward = forward

root = os.path.join(work, "data")
train_fns = [os.path.join(root, "train/good/%04d.png" % i) for i in range(n_images)]
test_fns = [os.path.join(root, "test/bad/%04d.png" % i) for i in range(queries + 1)]
rng = np.random.RandomState(0)
retrieval, foreground = {}, {}
os.makedirs(os.path.join(work, "fg"), exist_ok=True)
for fn in train_fns + test_fns:
    key = os.path.relpath(fn, root)
    path = os.path.join(work, "fg", key.replace("/", "_") + ".npy")
    if not os.path.exists(path):
        np.save(path, rng.rand(h1, h1).astype(np.float32))
    foreground[key] = path
    retrieval[key] = [os.path.relpath(train_fns[j], root) for j in rng.permutation(n_images)[:k]]

official_test.test(model, train_fns, test_fns, retrieval, foreground if with_fg else {}, size, [3, 1], root, k, 512)
# first query = warm-up; the model call (trunk, heads, GRB, FEB) is inside test()'s loop
per = {n: float(np.mean(v[1:])) * 1e3 for n, v in timed.items()}
total = float(np.mean(iter_s[1:])) * 1e3
post = blur_ms[1:] and float(np.mean(blur_ms[1:])) or 0.0
print(json.dumps({"backbone_ms": per["backbone"], "retrieval_ms": per["retrieval"], "feb_ms": per["feb"], "post_ms": post,
                  "match_fg_ms": total - per["backbone"] - per["retrieval"] - post, "total_ms": total,
                  "per_query_ms": [round(t * 1e3) for t in iter_s[1:]],
                  "queries": len(iter_s) - 1}))
PY

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: official ($(uptime | sed 's/.*load average: //'))" >&2
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$PY" "$WORK/official.py" "$OFFICIAL" "$WORK" "$IMAGES" "$K" "$SIZE" \
    "$QUERIES" "$THREADS" "$FOREGROUND" >"$WORK/official_$r.json"
  echo "round $r/$ROUNDS: advad ($(uptime | sed 's/.*load average: //'))" >&2
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} "$ADVAD" bench cpr --images "$IMAGES" --k "$K" --size "$SIZE" \
    --queries "$QUERIES" --threads "$THREADS" --device cpu --precision "$PRECISION" $([ "$FOREGROUND" = 1 ] || echo --no-foreground) --json - >"$WORK/advad_$r.out"
  "$PY" - "$WORK" "$r" >&2 <<'PY'
import json, sys
o = json.load(open(f"{sys.argv[1]}/official_{sys.argv[2]}.json"))
t = open(f"{sys.argv[1]}/advad_{sys.argv[2]}.out").read()
a = ", ".join(f"{row['precision']} {row['total_ms']:.0f}" for row in json.loads(t[t.index("\n{") + 1:])["rows"])
print(f"  official {o['total_ms']:.0f} ms/image (queries {o['per_query_ms']}); advad {a} ms/image")
PY
done

"$PY" - "$WORK" "$ROUNDS" "$IMAGES" "$K" "$SIZE" "$FOREGROUND" <<'PY'
import json, sys
work, rounds, images, k, size, fg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] == "1"
best = {}
def keep(who, row):
    if who not in best or row["total_ms"] < best[who]["total_ms"]:
        best[who] = row
for r in range(1, rounds + 1):
    keep("official fp32", json.load(open(f"{work}/official_{r}.json")))
    text = open(f"{work}/advad_{r}.out").read()
    for row in json.loads(text[text.index("\n{") + 1:])["rows"]:  # `--json -`: the JSON follows the table
        row = dict(row, match_fg_ms=row["matching_ms"] + row["foreground_ms"])
        keep("advad " + row["precision"], row)
off = best["official fp32"]
print(f"CPR per image, {size}x{size}, {images} training images, K={k}, foreground {'on' if fg else 'off'}, best of {rounds} rounds (ms)\n")
print("| side | backbone + heads | retrieval | matching + foreground | post (blur, top-T) | total | advad / official |")
print("|---|---:|---:|---:|---:|---:|---:|")
for who, row in best.items():
    ratio = "" if who == "official fp32" else f"{row['total_ms'] / off['total_ms']:.2f}"
    print(f"| {who} | {row['backbone_ms']:.0f} | {row['retrieval_ms']:.0f} | {row['match_fg_ms']:.0f} | {row['post_ms']:.0f} | {row['total_ms']:.0f} | {ratio} |")
PY
uptime >&2
