"""MaskCut's dense CRF: the torch CRF against pydensecrf, side by side.

Inputs are MaskCut's own (``vcl_mm.testing.crf_cases``): real DAVIS frames
(``../shared/data/davis2016-mini``; left out, with a line saying so, when
absent) and generated scenes, resized to the fixed size (480 by default),
with the upsampled patch masks MaskCut makes from weight-free patch
features (the unaries of the CRF are MaskCut's 2-label softmax of them).
Every mask goes through pydensecrf (the reference, one mask at a time, as
MaskCut runs it) and through ``crf.backend='torch'`` at batches of 1, 8 and
32 images (the cases repeated to fill a batch), on the CPU both one image
per lattice (the CPU default) and the whole batch in one lattice (the GPU
default). Printed:

* parity: mean IoU of the refined masks (torch vs pydensecrf), pixel-exact
  masks, and agreement of the drop decision (IoU with the input < 0.5),
  targets >= 0.99 and >= 99%;
* seconds per mask: pydensecrf, torch on the CPU per batch size, and torch
  on CUDA when a GPU is present (peak GPU memory too); ratios to
  pydensecrf. CPU figures are process CPU seconds (single-threaded, so
  other jobs on a shared machine do not inflate them; wall seconds
  beside them); CUDA figures are wall seconds.

Usage::

    python benchmarks/crf_bench.py [--frames 4] [--generated 6]
        [--fixed-size 480] [--batches 1 8 32]
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import os.path as osp  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vcl_mm.datasets.api_wrappers.masks import mask_iou  # noqa: E402
from vcl_mm.maskcut.refine import CRF_DEFAULTS, dense_crf_batch  # noqa: E402
from vcl_mm.testing.crf_cases import (
    crf_cases,
    davis_frames,  # noqa: E402
    generated_images)
from vcl_mm.testing.runners import REPO_ROOT  # noqa: E402

DAVIS = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'davis2016-mini')
TORCH_CRF = dict(CRF_DEFAULTS, backend='torch')


def load_cases(args):
    """(name, fixed image, masks) of the real and generated images."""
    out = []
    if osp.isdir(DAVIS):
        frames = davis_frames(DAVIS, args.frames, step=args.step)
        out += [('davis', img, m)
                for img, m in crf_cases(frames, args.fixed_size)]
    else:
        print(f'DAVIS frames not found at {DAVIS}: real frames left out')
    gen = generated_images(args.generated, seed=args.seed)
    out += [('generated', img, m)
            for img, m in crf_cases(gen, args.fixed_size)]
    return [c for c in out if len(c[2])]


def sync(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def clock(device):
    """(process CPU seconds, wall seconds) after the device is done."""
    sync(device)
    return np.array([time.process_time(), time.perf_counter()])


def run_torch(cases, batch, device, per_lattice):
    """(CPU, wall) seconds per mask of the torch CRF at ``batch`` images
    per call and ``per_lattice`` images per lattice (cases repeated to fill
    at least one batch) and its results of the cases."""
    reps = max(1, -(-batch // len(cases)))
    work = (cases * reps)[:max(batch, len(cases))]
    crf = dict(TORCH_CRF, images_per_lattice=per_lattice)
    dense_crf_batch([work[0][1]], [work[0][2]], crf, device)  # warm-up
    results, masks = [], 0
    start = clock(device)
    for i in range(0, len(work), batch):
        chunk = work[i:i + batch]
        results += dense_crf_batch([c[1] for c in chunk],
                                   [c[2] for c in chunk], crf, device)
        masks += sum(len(c[2]) for c in chunk)
    return (clock(device) - start) / masks, results[:len(cases)]


def parity(ref, out):
    """Mean IoU, pixel-exact share, decision agreement over all masks."""
    ious, exact, same = [], [], []
    for (r, keep_r), (o, keep_o) in zip(ref, out):
        ious += [mask_iou(a, b, empty=1.) for a, b in zip(r, o)]
        exact += [np.array_equal(a, b) for a, b in zip(r, o)]
        same += list(keep_r == keep_o)
    return np.mean(ious), np.mean(exact), np.mean(same), min(ious)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--frames',
        type=int,
        default=4,
        help='DAVIS frames per sequence (3 sequences)')
    parser.add_argument(
        '--step', type=int, default=10, help='frame stride within a sequence')
    parser.add_argument(
        '--generated', type=int, default=6, help='generated scenes')
    parser.add_argument('--fixed-size', type=int, default=480)
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8, 32])
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def measure(cases, batches):
    """pydensecrf's results and timing, then torch's per setting."""
    num_masks = sum(len(c[2]) for c in cases)
    start = clock('cpu')
    ref = dense_crf_batch([c[1] for c in cases], [c[2] for c in cases],
                          CRF_DEFAULTS)
    rows = [('pydensecrf', 'cpu', 1, 1, (clock('cpu') - start) / num_masks,
             None)]
    results = {}
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    for device in devices:
        for batch in batches:
            lattices = {1, batch} if device == 'cpu' else {batch}
            for per_lattice in sorted(lattices):
                if device == 'cuda':
                    torch.cuda.reset_peak_memory_stats()
                sec, out = run_torch(cases, batch, device, per_lattice)
                peak = None
                if device == 'cuda':
                    peak = torch.cuda.max_memory_allocated() / 2**20
                rows.append(('torch', device, batch, per_lattice, sec, peak))
                results[(device, batch, per_lattice)] = out
    if 'cuda' not in devices:
        print('no CUDA device: GPU figures unmeasured')
    return ref, results, rows


def main():
    args = parse_args()
    torch.set_num_threads(1)
    cases = load_cases(args)
    num_masks = sum(len(c[2]) for c in cases)
    kinds = {k: sum(c[0] == k for c in cases) for k in ('davis', 'generated')}
    print(f'{len(cases)} images with masks ({kinds}), {num_masks} masks, '
          f'{args.fixed_size}x{args.fixed_size}')
    ref, results, rows = measure(cases, args.batches)

    print('\nparity vs pydensecrf (all masks):')
    print(f'{"backend":<8} {"device":<6} {"batch":>5} {"lattice":>7} '
          f'{"mean IoU":>9} {"min IoU":>8} {"exact":>6} {"same drop":>9}')
    for (device, batch, per_lattice), out in results.items():
        miou, exact, same, worst = parity(ref, out)
        print(f'{"torch":<8} {device:<6} {batch:5d} {per_lattice:7d} '
              f'{miou:9.5f} {worst:8.5f} {exact:6.1%} {same:9.1%}')
    keep = np.concatenate([k for _, k in ref])
    print(f'(pydensecrf keeps {keep.sum()} of {len(keep)} masks)')

    print('\nseconds per mask (CPU: single-threaded process CPU seconds; '
          'CUDA: wall):')
    print(f'{"backend":<11} {"device":<6} {"batch":>5} {"lattice":>7} '
          f'{"s/mask":>8} {"vs pydensecrf":>13} {"wall s/mask":>11} '
          f'{"peak MiB":>9}')
    t_ref = rows[0][4][0]
    for name, device, batch, per_lattice, sec, peak in rows:
        main_sec = sec[1] if device == 'cuda' else sec[0]
        print(f'{name:<11} {device:<6} {batch:5d} {per_lattice:7d} '
              f'{main_sec:8.3f} {t_ref / main_sec:12.2f}x {sec[1]:11.3f} '
              f'{"" if peak is None else f"{peak:9.0f}"}')
    print('(lattice: images filtered together in one lattice)')


if __name__ == '__main__':
    main()
