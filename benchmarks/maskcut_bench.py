"""MaskCut: fast NCut vs upstream's dense solver, side by side in one run.

On 60x60-patch graphs (the 480x480 ViT-B/8 case, 3600 nodes, 768-d keys),
the full patch-level MaskCut (3 masks) runs twice on the same features:

* reference: upstream's loop, the graph rebuilt before every solve and the
  dense float64 ``scipy.linalg.eigh(D - A, D, subset_by_index=[1, 2])``;
* fast: :func:`vcl_mm.maskcut.maskcut_patch_masks`.

Graphs: structured generated keys (1-4 objects, two-tone background, noise;
tau = 0.15) and the keys of a random-weight ViT-B/8 on generated 480x480
images (random keys are all similar, so tau is set to the median cosine
similarity to get a non-trivial graph). Masks are compared after the
subtraction of earlier masks (what the refinement keeps), paired in
discovery order. Targets: speed ratio >= 20x, mean mask IoU >= 0.98, same
number of masks on >= 90% of the images.

Also reported: CPU time per image of each stage (ViT-B/8 forward at 480x480
with random weights, NCut, CRF) and images/s of the whole CLI
(``tools/maskcut.py`` with random ViT-B/8 weights, tau 0.75 so that masks
and CRFs happen). Everything runs single-threaded (torch and BLAS): the
2-core machine is shared, and both sides are measured the same way.

Usage::

    python benchmarks/maskcut_bench.py [--synthetic 8] [--vit 2] [--cli 3]
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import os.path as osp  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from vcl_mm.testing.toy_data import render_image  # noqa: E402
from vcl_mm.maskcut.features import (  # noqa: E402
    DinoViTKeyExtractor, images_to_tensor)
from vcl_mm.maskcut.ncut import maskcut_patch_masks  # noqa: E402
from vcl_mm.testing.maskcut_reference import (  # noqa: E402
    effective_masks, reference_maskcut)
from vcl_mm.maskcut.refine import refine_masks  # noqa: E402
from vcl_mm.testing.patch_features import limit_threads  # noqa: E402
from vcl_mm.testing.patch_features import synthetic_features  # noqa: E402

TARGETS = dict(speed=20., iou=0.98, same_count=0.90)


def clock():
    """(CPU seconds of this process, wall seconds)."""
    return np.array([time.process_time(), time.perf_counter()])


def vit_graphs(num, seed):
    """Random-weight ViT-B/8 keys of generated images at 480x480.

    Returns:
        tuple: list of (768, 60, 60) keys, list of 480x480 images, forward
        CPU seconds per image.
    """
    model = DinoViTKeyExtractor(arch='base', patch_size=8, random_init=True)
    rng = np.random.default_rng(seed)
    feats, images, cpu = [], [], 0.
    for _ in range(num):
        img, _ = render_image(rng, 375, 500, int(rng.integers(1, 4)))
        fixed = np.asarray(
            Image.fromarray(img).resize((480, 480), Image.LANCZOS))
        start = clock()
        feats.append(model(images_to_tensor(fixed[None]))[0])
        cpu += (clock() - start)[0]
        images.append(fixed)
    return feats, images, cpu / max(num, 1)


def median_similarity(feats):
    f = F.normalize(feats.reshape(feats.shape[0], -1), dim=0)
    return float((f.T @ f).flatten()[::7].median())


def compare(ref, fast):
    """IoUs of masks paired in discovery order (a missing mask: IoU 0)."""
    ious = []
    for k in range(max(len(ref), len(fast))):
        if k >= len(ref) or k >= len(fast):
            ious.append(0.)
            continue
        a, b = ref[k], fast[k]
        ious.append((a & b).sum() / (a | b).sum())
    return ious


def run_cli(num, seed):
    """images/s of tools/maskcut.py (random ViT-B/8, 480, CRF)."""
    import importlib.util
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(osp.join(tmp, 'imgs'))
        for i in range(num):
            img, _ = render_image(rng, 375, 500, 2)
            Image.fromarray(img).save(osp.join(tmp, 'imgs', f'{i}.jpg'))
        spec = importlib.util.spec_from_file_location(
            'maskcut_tool', osp.join(ROOT, 'tools', 'maskcut.py'))
        tool = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tool)
        start = clock()
        tool.main([
            '--input',
            osp.join(tmp, 'imgs'), '--out',
            osp.join(tmp, 'out.json'), '--cfg-options',
            'model.random_init=True', 'maskcut.tau=0.75', '--device', 'cpu',
            '--no-progress'
        ])
        wall = (clock() - start)[1]
    return num / wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--synthetic', type=int, default=8, help='generated 60x60 key maps')
    parser.add_argument(
        '--vit', type=int, default=2, help='random-weight ViT-B/8 key maps')
    parser.add_argument(
        '--cli',
        type=int,
        default=3,
        help='images for the CLI throughput (0: skip)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    graphs = []
    for _ in range(args.synthetic):
        feats, _ = synthetic_features(
            rng,
            60,
            60,
            768,
            num_objects=int(rng.integers(1, 5)),
            noise=rng.uniform(0.8, 1.6),
            shared=rng.uniform(0.2, 0.4),
            parts=rng.uniform(0., 0.8))
        graphs.append(('synthetic', torch.from_numpy(feats), 0.15))
    vit_feats, vit_images, vit_cpu = vit_graphs(args.vit, args.seed)
    for f in vit_feats:
        graphs.append(('random ViT-B/8', f, median_similarity(f)))

    totals = dict(ref=np.zeros(2), fast=np.zeros(2))
    ious, same, ambiguous, solves, fast_masks = [], [], 0, 0, []
    print(f'{"graph":<16} {"tau":>5} {"ref masks":>9} {"fast":>5} '
          f'{"ref cpu s":>9} {"fast cpu s":>10} {"mask IoUs"}')
    for name, feats, tau in graphs:
        start = clock()
        ref = reference_maskcut(feats, tau=tau, num_masks=3)
        t_ref = clock() - start
        start = clock()
        fast, info = maskcut_patch_masks(
            feats, tau=tau, num_masks=3, return_info=True)
        t_fast = clock() - start
        totals['ref'] += t_ref
        totals['fast'] += t_fast
        ambiguous += sum(ref['ambiguous'])
        solves += len(ref['ambiguous'])
        ref_eff, fast_eff = effective_masks(
            ref['masks']), effective_masks(fast)
        fast_masks.append(fast)
        pair = compare(ref_eff, fast_eff)
        ious += pair
        same.append(len(ref_eff) == len(fast_eff))
        print(f'{name:<16} {tau:5.3f} {len(ref_eff):9d} {len(fast_eff):5d} '
              f'{t_ref[0]:9.2f} {t_fast[0]:10.3f} '
              f'{" ".join(f"{v:.3f}" for v in pair)}')

    speed_cpu = totals['ref'][0] / totals['fast'][0]
    speed_wall = totals['ref'][1] / totals['fast'][1]
    mean_iou = float(np.mean(ious)) if ious else 1.
    same_frac = float(np.mean(same))
    n = len(graphs)
    print()
    print(f'patch-level MaskCut, {n} graphs of 60x60 patches, 3 masks, '
          f'single-threaded')
    print(f'  reference (dense eigh): {totals["ref"][0] / n:.2f} s CPU '
          f'per image')
    print(f'  fast:                   {totals["fast"][0] / n:.3f} s CPU '
          f'per image')
    print(f'  speed ratio: {speed_cpu:.1f}x CPU ({speed_wall:.1f}x wall)'
          f'   target >= {TARGETS["speed"]:.0f}x')
    print(f'  mean mask IoU vs reference: {mean_iou:.4f}'
          f'   target >= {TARGETS["iou"]}')
    print(f'  same number of masks: {same_frac:.0%} of images'
          f'   target >= {TARGETS["same_count"]:.0%}')
    print(f'  sign-dependent solves (settled like LAPACK): {ambiguous} of '
          f'{solves}')

    print()
    print('CPU time per image and stage (480x480, single thread):')
    if args.vit:
        print(f'  ViT-B/8 forward (random weights): {vit_cpu:.2f} s')
    print(f'  NCut, 3 masks (fast):             '
          f'{totals["fast"][0] / n:.3f} s')
    if vit_images:
        start = clock()
        for img, masks in zip(vit_images, fast_masks[-len(vit_images):]):
            refine_masks(img, masks)
        crf = (clock() - start)[0] / len(vit_images)
        per_mask = crf / max(
            1, np.mean([len(m) for m in fast_masks[-len(vit_images):]]))
        print(f'  CRF (all masks of the image):     {crf:.2f} s '
              f'({per_mask:.2f} s per mask)')
    if args.cli:
        print()
        with limit_threads(1):
            rate = run_cli(args.cli, args.seed)
        print(f'whole CLI (tools/maskcut.py, ViT-B/8 random weights, 480, '
              f'CRF): {rate:.3f} images/s single-threaded')
    ok = (
        speed_cpu >= TARGETS['speed'] and mean_iou >= TARGETS['iou']
        and same_frac >= TARGETS['same_count'])
    print('\nall targets met' if ok else '\nTARGET MISSED')


if __name__ == '__main__':
    with limit_threads(1):
        main()
