"""MaskCut keys in bfloat16 / float16 autocast against float32, side by side.

``model.autocast_dtype`` runs the DINO ViT under ``torch.autocast``. This
benchmark runs the same ViT-B/8 on the same real frames
(``../shared/data/davis2016-mini``, resized to the fixed size) in float32
and under each autocast dtype, then MaskCut's NCut on both keys, and prints
how far the masks agree: mean IoU of the masks paired in discovery order
(after the subtraction of earlier masks, what the CRF receives; a mask
without partner counts 0), the share of images with the same number of
masks, the keys' mean cosine similarity, and the forward's CPU seconds.

The DINO weights are not available here, so the ViT has seeded random
weights: its keys are all alike, so tau is set per image to the median
cosine similarity of the float32 keys (the same tau for every dtype), as
``benchmarks/maskcut_bench.py`` does. The figures measure how much the
reduced precision moves the cut on a real ViT-B/8 forward pass; agreement
with DINO's weights may differ (run it with ``--weights`` to measure it).

Usage::

    python benchmarks/maskcut_precision_bench.py [--frames 2]
        [--fixed-size 480] [--dtypes bfloat16 float16] [--weights PATH]
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import os.path as osp  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

from vcl_mm.datasets.api_wrappers.masks import mask_iou  # noqa: E402
from vcl_mm.maskcut.features import (
    DinoViTKeyExtractor,  # noqa: E402
    images_to_tensor)
from vcl_mm.maskcut.ncut import maskcut_patch_masks  # noqa: E402
from vcl_mm.maskcut.refine import upsample_patch_masks  # noqa: E402
from vcl_mm.testing.crf_cases import davis_frames  # noqa: E402
from vcl_mm.testing.runners import REPO_ROOT  # noqa: E402

DAVIS = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'davis2016-mini')


def median_similarity(feats):
    """Median pairwise cosine similarity of (C, h, w) keys (a sample)."""
    f = F.normalize(feats.flatten(1), dim=0)
    return float((f.T @ f).flatten()[::7].median())


def effective(masks, shape):
    """Patch masks after the subtraction of earlier ones, non-empty."""
    return [m for m in upsample_patch_masks(masks, shape) if m.any()]


def agreement(ref, got):
    """Mean IoU of masks paired in order (unpaired count 0)."""
    n = max(len(ref), len(got))
    if n == 0:
        return 1.
    return sum(mask_iou(a, b) for a, b in zip(ref, got)) / n


def keys_and_seconds(model, x):
    start = time.process_time()
    feats = model(x)
    return feats, time.process_time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--frames',
        type=int,
        default=2,
        help='DAVIS frames per sequence (3 sequences)')
    parser.add_argument('--step', type=int, default=20)
    parser.add_argument('--fixed-size', type=int, default=480)
    parser.add_argument('--dtypes', nargs='+', default=['bfloat16', 'float16'])
    parser.add_argument('--weights', help='DINO ViT-B/8 weights (optional)')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not osp.isdir(DAVIS):
        raise SystemExit(f'DAVIS frames not found at {DAVIS}')
    size = (args.fixed_size, args.fixed_size)
    frames = [
        np.asarray(Image.fromarray(f).resize(size, Image.LANCZOS))
        for f in davis_frames(DAVIS, args.frames, step=args.step)
    ]
    common = dict(arch='base', patch_size=8)
    if args.weights:
        common.update(weights=args.weights)
    else:
        common.update(random_init=True)
        print('random ViT-B/8 weights (DINO weights are not available): '
              'tau = median key similarity per image')
    models = {'float32': DinoViTKeyExtractor(**common)}
    for dtype in args.dtypes:
        models[dtype] = DinoViTKeyExtractor(autocast_dtype=dtype, **common)
    for m in models.values():
        m.to(args.device)

    rows = {d: dict(iou=[], same=[], cos=[], sec=[]) for d in args.dtypes}
    sec32, counts = [], []
    for img in frames:
        x = images_to_tensor(img[None]).to(args.device)
        ref_feats, sec = keys_and_seconds(models['float32'], x)
        sec32.append(sec)
        ref_feats = ref_feats[0].cpu()
        grid = ref_feats.shape[1:]
        tau = (0.15 if args.weights else median_similarity(ref_feats))
        ref = effective(maskcut_patch_masks(ref_feats, tau=tau), grid)
        counts.append(len(ref))
        for dtype in args.dtypes:
            feats, sec = keys_and_seconds(models[dtype], x)
            feats = feats[0].cpu()
            got = effective(maskcut_patch_masks(feats, tau=tau), grid)
            row = rows[dtype]
            row['iou'].append(agreement(ref, got))
            row['same'].append(len(ref) == len(got))
            row['cos'].append(
                float(F.cosine_similarity(feats, ref_feats, dim=0).mean()))
            row['sec'].append(sec)

    print(f'{len(frames)} DAVIS frames at {size[0]}x{size[1]}, float32 '
          f'masks per image: {counts}')
    print(f'{"dtype":<9} {"mean IoU":>8} {"same count":>10} '
          f'{"key cos":>8} {"CPU s/img":>9} {"vs float32":>10}')
    t32 = np.mean(sec32)
    print(f'{"float32":<9} {1:8.4f} {1:10.1%} {1:8.5f} {t32:9.2f} '
          f'{1:9.2f}x')
    for dtype, row in rows.items():
        t = np.mean(row['sec'])
        print(f'{dtype:<9} {np.mean(row["iou"]):8.4f} '
              f'{np.mean(row["same"]):10.1%} {np.mean(row["cos"]):8.5f} '
              f'{t:9.2f} {t32 / t:9.2f}x')


if __name__ == '__main__':
    main()
