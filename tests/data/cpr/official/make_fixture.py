#!/usr/bin/python3
"""Makes tests/data/cpr/official/{grb.pth,feb.pth} with the official CPR code.

Documentation of how the fixture was made; no test runs it and the product
never runs Python. Needs Debian's /usr/bin/python3 with python3-torch 1.13,
python3-torchvision, python3-sklearn and python3-opencv, and an extracted
checkout of github.com/flyinghu123/CPR @ 36db567:

    git --git-dir=/work/.mirror/flyinghu123+CPR/repo archive 36db567 | tar -x -C /tmp/cpr-official
    /usr/bin/python3 tests/data/cpr/official/make_fixture.py --cpr /tmp/cpr-official

It reuses the parity fixture ../tiny (model.pth, 6 training images, query):
  1. builds the official model (create_model) and loads ../model.pth;
  2. takes the denseblock1 features of the training images and runs the
     official get_grb and get_feb on them (sklearn KMeans / LDA, as the
     official tools/generate_retrieval.py and generate_foreground.py do);
  3. torch.save()s the two modules as those tools do. Their storages are
     tagged 'cuda:0', as in a file written on the authors' GPU;
  4. runs the official test.test() with the GRB's retrieval and the FEB's
     foreground maps and saves its anomaly maps for the query ../tiny/query.png:
     anomaly_map_texture.npy (no foreground weighting) and
     anomaly_map_object.npy (FEB on), float32 320x320.
It also checks that the branches and maps agree with the parity fixtures
../tiny and ../tiny-object, made by the same official code in another run,
to float32 rounding (<= 1e-6; the thread count differed).

Only device placement is redirected (CPU instead of CUDA) and modules this
environment lacks are stubbed (timm -> torchvision's densenet, loguru,
imgaug, tqdm, kornia metrics); no arithmetic of the official code is touched.
"""
import argparse
import os
import sys
import tempfile
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)  # tests/data/cpr


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


def install_stubs():
    import torchvision.models.densenet as tv_densenet
    # timm's densenet201(pretrained=True) would download ImageNet weights; the
    # backbone is overwritten by model.pth anyway.
    dn = stub('timm.models.densenet', DenseNet=tv_densenet.DenseNet,
              densenet201=lambda pretrained=False, **kw: tv_densenet.densenet201(weights=None))
    stub('timm', models=stub('timm.models', densenet=dn))
    stub('loguru', logger=types.SimpleNamespace(info=print, add=lambda *a, **k: None))
    stub('dataset.base', CPRDataset=object)  # training-only (imgaug)
    stub('tqdm', tqdm=lambda it, *a, **k: it)
    captured = {}

    def keep(gts, preds, *a, **k):
        captured['maps'] = preds
        return 0.0
    stub('metrics', compute_ap_torch=keep, compute_pixel_auc_torch=keep, compute_pro_torch=keep,
         compute_image_auc_torch=lambda gts, preds: captured.setdefault('scores', preds) is None)
    return captured


def cpu_only():
    """The official code names 'cuda' explicitly; send it to the CPU."""
    to = torch.nn.Module.to

    def module_to(self, *args, **kw):
        args = tuple('cpu' if (isinstance(a, (str, torch.device)) and str(a).startswith('cuda')) else a for a in args)
        return to(self, *args, **kw)
    torch.nn.Module.to = module_to
    torch.nn.Module.cuda = lambda self, *a, **k: self
    torch.Tensor.cuda = lambda self, *a, **k: self


class CpuTorch(types.ModuleType):
    """test.py's view of torch: tensors asked for on 'cuda' are made on the CPU."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def zeros(*size, device=None, **kw):
        return torch.zeros(*size, **kw)


def save_as_if_on_gpu(module, path):
    """torch.save with every storage tagged 'cuda:0' (the official files come from a GPU run)."""
    torch.serialization.register_package(-1, lambda obj: 'cuda:0', lambda obj, loc: None)
    try:
        torch.save(module, path)
    finally:
        torch.serialization._package_registry.pop(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cpr', required=True, help='extracted flyinghu123/CPR checkout')
    ap.add_argument('--out', default=HERE)
    args = ap.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, os.path.abspath(args.cpr))
    captured = install_stubs()
    cpu_only()
    import cv2 as cv
    from dataset import read_image, test_transform
    from models import create_model
    from models.grb import get_grb
    from models.feb import get_feb
    from utils import fix_seeds
    import test as official_test
    official_test.torch = CpuTorch('torch')

    # The official CPR model with the fixture's weights.
    fix_seeds(66)
    model = create_model('DenseNet', ['features.denseblock1', 'features.denseblock2'], 320, 384)
    model.load_state_dict(torch.load(os.path.join(DATA, 'model.pth'), map_location='cpu'), strict=True)
    model.eval()

    # A dataset folder in the layout test.py expects.
    root = tempfile.mkdtemp(prefix='cpr-official-')
    os.makedirs(os.path.join(root, 'train', 'good'))
    os.makedirs(os.path.join(root, 'test', 'defect'))
    train_fns = []
    for i in range(6):
        fn = os.path.join(root, 'train', 'good', f'{i:03d}.png')
        os.symlink(os.path.join(DATA, 'tiny', f'train_{i:03d}.png'), fn)
        train_fns.append(fn)
    test_fn = os.path.join(root, 'test', 'defect', '000.png')
    os.symlink(os.path.join(DATA, 'tiny', 'query.png'), test_fn)

    def tap0(fn):
        with torch.no_grad():
            return model(test_transform(read_image(fn, (320, 320)))[None])[1][0]

    train_features = torch.cat([tap0(fn) for fn in train_fns])

    # Official branch fits, saved as the official generators save them.
    grb = get_grb(train_features)
    feb = get_feb(train_features).eval()
    os.makedirs(args.out, exist_ok=True)
    save_as_if_on_gpu(grb, os.path.join(args.out, 'grb.pth'))
    save_as_if_on_gpu(feb, os.path.join(args.out, 'feb.pth'))
    # A wrong file for the error tests: an FEB over 512 channels (denseblock2's width).
    from models.feb import ForegroundEstimateBranch
    save_as_if_on_gpu(ForegroundEstimateBranch(512).eval(), os.path.join(args.out, 'feb_512_channels.pth'))

    # The same values as the parity fixture's (made by the same official code).
    def same(what, ours, path):
        ref = np.load(os.path.join(DATA, path))
        diff = np.abs(ours.reshape(ref.shape) - ref).max()
        print(f'{what} vs {path}: max abs diff {diff}')
        assert diff <= 1e-6, what
    same('GRB codebook', grb.codebook.cluster_centers.detach()[0, :, :, 0, 0].numpy(), 'tiny/grb_codebook.npy')
    same('GRB refs', grb.refs.detach().numpy(), 'tiny/grb_train_hist.npy')
    same('FEB weight', feb.conv1x1.weight.detach().numpy(), 'tiny-object/feb_weight.npy')
    same('FEB bias', feb.conv1x1.bias.detach().numpy(), 'tiny-object/feb_bias.npy')

    # Official inference: retrieval by the GRB (as r_result.json), foreground maps by the FEB (f_*.npy).
    keys = [os.path.relpath(fn, root) for fn in train_fns]
    retrieval = {}
    with torch.no_grad():
        for i, k in enumerate(keys):
            retrieval[k] = [keys[j] for j in grb.retrieval(grb(train_features[i:i + 1]))[1:]]
        retrieval['test/defect/000.png'] = [keys[j] for j in grb.retrieval(grb(tap0(test_fn)))]
    fg_dir = os.path.join(root, 'fg')
    foreground = {}
    for fn in train_fns + [test_fn]:
        k = os.path.relpath(fn, root)
        foreground[k] = os.path.join(fg_dir, k.replace('/', '_') + '.npy')
        os.makedirs(fg_dir, exist_ok=True)
        with torch.no_grad():
            np.save(foreground[k], feb(tap0(fn))[0, 0].numpy())

    maps = {}
    for mode, fg in (('texture', {}), ('object', foreground)):
        fix_seeds(66)
        official_test.test(model, train_fns, [test_fn], retrieval, fg, 320, [3, 1], root, 3, 512)
        maps[mode] = captured['maps'][0].float().numpy()
    # The parity fixture's maps came from the same official code in another run
    # (other thread count): agreement to float32 rounding, not bit for bit.
    for mode, ref in (('texture', 'tiny/anomaly_map.npy'), ('object', 'tiny-object/anomaly_map.npy')):
        np.save(os.path.join(args.out, f'anomaly_map_{mode}.npy'), maps[mode])
        same(f'official test() {mode} map', maps[mode], ref)
    print('wrote', os.path.join(args.out, 'grb.pth'), 'and', os.path.join(args.out, 'feb.pth'))


if __name__ == '__main__':
    main()
