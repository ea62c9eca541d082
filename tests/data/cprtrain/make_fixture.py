#!/usr/bin/env python3
# Dev-only: writes the CPR contrastive-loss fixture (loss_*.npy) with PyTorch 1.13.
# The loss is written out from the formula of the CPR specification (cpr.md section 9.3) (grid_sample with
# align_corners=False, detached backbone-distance re-weighting of the far
# negatives, cubed hinge with the weight inside, sum over two scales).
# Run: /usr/bin/python3 tests/data/cprtrain/make_fixture.py  (from the repository root)
import os

import numpy as np
import torch
import torch.nn.functional as F

out = os.path.dirname(os.path.abspath(__file__))
g = torch.Generator().manual_seed(20240611)
B, D, n = 2, 8, 7
sizes = [(8, 8), (4, 4)]
tap_ch = [5, 6]


def rnd(*shape):
    return torch.randn(*shape, generator=g, dtype=torch.float32)


def pts():
    return (torch.rand(B, n, 2, generator=g) * 2.2 - 1.1).float()  # a few outside [-1, 1]


def wts(zero_last):
    w = torch.ones(B, n)
    w[0, n - zero_last:] = 0
    w[1, n - 1:] = 0
    return w


data = {}
for s, (h, w) in enumerate(sizes):
    data[f'heads_q{s}'] = rnd(B, D, h, w)
    data[f'heads_r{s}'] = rnd(B, D, h, w)
    data[f'taps_q{s}'] = rnd(B, tap_ch[s], h, w)
    data[f'taps_r{s}'] = rnd(B, tap_ch[s], h, w)
for name, zl in (('pos', 2), ('far', 3), ('anom', 4)):
    data[f'{name}_q'] = pts()
    data[f'{name}_r'] = pts()
    data[f'{name}_w'] = wts(zl)


def sample(f, p):
    return F.grid_sample(f, p[:, :, None], mode='bilinear', padding_mode='zeros', align_corners=False)[..., 0]


def hinge(v, w, p=3):
    return (torch.clamp(v, min=0) * w).pow(p).sum() / max(1, int((w > 0).sum()))


heads = {k: v.clone().requires_grad_(True) for k, v in data.items() if k.startswith('heads')}
pos_total = neg_total = 0.
for s in range(2):
    hq, hr = heads[f'heads_q{s}'], heads[f'heads_r{s}']
    tq, tr = data[f'taps_q{s}'], data[f'taps_r{s}']
    fw = (sample(tq, data['far_q']) - sample(tr, data['far_r'])).square().sum(1).detach()
    fw = fw * (data['far_w'] > 0).float()
    fw = fw / (fw.sum(1, keepdim=True) + 1e-7) * data['far_w'].sum(1, keepdim=True)
    nq = torch.cat([data['far_q'], data['anom_q']], 1)
    nr = torch.cat([data['far_r'], data['anom_r']], 1)
    nw = torch.cat([fw, data['anom_w']], 1)
    cp = F.cosine_similarity(sample(hq, data['pos_q']), sample(hr, data['pos_r']))
    cn = F.cosine_similarity(sample(hq, nq), sample(hr, nr))
    pos_total = pos_total + hinge(0.8 - cp, data['pos_w'])
    neg_total = neg_total + hinge(cn + 0.2, nw)
total = pos_total + neg_total
total.backward()

for k, v in data.items():
    np.save(os.path.join(out, f'loss_{k}.npy'), v.numpy())
np.save(os.path.join(out, 'loss_out_total.npy'), np.array([total.item()], dtype=np.float32))
np.save(os.path.join(out, 'loss_out_pos.npy'), np.array([pos_total.item()], dtype=np.float32))
np.save(os.path.join(out, 'loss_out_neg.npy'), np.array([neg_total.item()], dtype=np.float32))
for k, v in heads.items():
    np.save(os.path.join(out, f'loss_grad_{k}.npy'), v.grad.numpy())
print('total', total.item(), 'pos', pos_total.item(), 'neg', neg_total.item())
