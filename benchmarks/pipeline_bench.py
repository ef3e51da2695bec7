"""Throughput of the ImageCut2Video train pipeline on one CPU core.

Full pipeline of ``configs/_base_/datasets/imagecut2video.py`` at its
defaults (decode, mask decoding, per-frame crop, clip-level resize/flip
(run per frame with shared draws, since the frames were cropped apart),
per-frame brightness/contrast/rotation for the target *and* the source clip,
the paste, frame padding, ``PackTrackInputs``) on generated ImageNet-like
JPEGs (500x375, 1-3 masks).
The process is pinned to one core with one thread for OpenCV, torch and BLAS.
Target: >= 10 clips/s/core, so a few loader workers keep a GPU busy; the
rate is clips per CPU-second of the process (``time.process_time``), which
other jobs on a shared machine barely change, with the wall-clock rate
beside it.
The clip-level resize runs as configured (``D2Resize``: detectron2's PIL
resampling) and, side by side in the same run, with mmdet's cv2 ``Resize``
(the pipeline before it), so the cost of exact resizing is printed as a
ratio.

Usage::

    python benchmarks/pipeline_bench.py [--num 200] [--images 32]
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import collections  # noqa: E402
import os.path as osp  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', '_base_', 'datasets', 'imagecut2video.py')
TARGET = 10.0  # clips/s


class Timed:
    """Wrap a transform and add its wall time to ``totals[name]``."""

    def __init__(self, transform, name, totals):
        self._transform = transform
        self._name = name
        self._totals = totals

    def __call__(self, results):
        start = time.perf_counter()
        out = self._transform(results)
        self._totals[self._name] += time.perf_counter() - start
        return out

    def __getattr__(self, item):  # get_indexes etc.
        return getattr(self._transform, item)


def instrument(dataset, totals):
    """Time every transform of the inner (per item) and outer pipelines.

    Inner transforms run twice per clip (target and source item); their
    times are summed per clip.
    """
    inner = dataset.dataset.pipeline.transforms
    for i, t in enumerate(inner):
        if type(t).__name__ == 'TransformBroadcaster' and \
                not t.share_random_params:
            steps = t.transforms.transforms
            for j, s in enumerate(steps):
                steps[j] = Timed(s, f'per-frame {type(s).__name__}', totals)
        elif type(t).__name__ == 'TransformBroadcaster':
            # shared draws need the wrapped transforms themselves (their
            # cache_randomness methods); time the clip-level step as a whole
            names = '+'.join(type(s).__name__ for s in t.transforms.transforms)
            inner[i] = Timed(t, f'clip-level {names}', totals)
        else:
            inner[i] = Timed(t, type(t).__name__, totals)
    dataset.pipeline = [
        Timed(t,
              type(t).__name__, totals) for t in dataset.pipeline
    ]


def build(data_root, resize_type=None):
    """The configured dataset; ``resize_type`` replaces the clip-level
    ``RandomChoiceResize``'s resize class (e.g. mmdet's ``'Resize'``)."""
    from mmdet.registry import DATASETS
    from vcl_mm.utils import register_all_modules
    from vcl_mm.utils.launch import load_config
    register_all_modules(init_default_scope=True)
    cfg = load_config(CONFIG)
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.dataset.update(
        data_root=data_root,
        ann_file='gt_masks.json',
        data_prefix=dict(img='images/'))
    if resize_type is not None:
        for step in ds_cfg.dataset.pipeline:
            for t in step.get('transforms', []):
                if t['type'] == 'RandomChoiceResize':
                    t['resize_type'] = resize_type
    return DATASETS.build(ds_cfg)


def run(dataset, num, seed):
    """Time ``num`` clips; returns (clips per CPU-second, wall seconds,
    per-stage totals, statuses, last packed clip, wall clips/s)."""
    np.random.seed(seed)
    for i in range(5):  # warm-up (imports, caches)
        dataset[i % len(dataset)]
    totals = collections.defaultdict(float)
    instrument(dataset, totals)
    statuses = collections.Counter()
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(num):
        packed = dataset[int(np.random.randint(len(dataset)))]
        statuses[packed['data_samples'][0].paste_status] += 1
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return num / cpu, elapsed, totals, statuses, packed, num / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num', type=int, default=200, help='timed clips')
    parser.add_argument(
        '--images',
        type=int,
        default=32,
        help='generated images in the dataset')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    if hasattr(os, 'sched_setaffinity'):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    from vcl_mm.testing.toy_data import write_image_set

    with tempfile.TemporaryDirectory() as tmp:
        write_image_set(
            tmp,
            num_images=args.images,
            seed=args.seed,
            size=(375, 500),
            objects=(1, 3))
        before = run(build(tmp + '/', 'Resize'), args.num, args.seed)
        rate, elapsed, totals, statuses, packed, wall_rate = run(
            build(tmp + '/'), args.num, args.seed)
        cv2_rate, cv2_wall = before[0], before[-1]

    print(f'ImageCut2Video train pipeline, 1 CPU core, {args.num} clips of '
          f'{len(packed["data_samples"])} frames '
          f'({tuple(packed["inputs"].shape[2:])} last), 500x375 JPEGs:')
    print(f'  {rate:.1f} clips/s/core ({1e3 / rate:.1f} CPU ms/clip; wall '
          f'{wall_rate:.1f} clips/s); target >= {TARGET:.0f} clips/s/core: '
          f'{"PASS" if rate >= TARGET else "FAIL"}')
    print(f'  mmdet cv2 Resize instead (before): {cv2_rate:.1f} clips/s/core '
          f'(wall {cv2_wall:.1f}); configured / cv2 = {rate / cv2_rate:.2f}')
    print('  per stage, ms/clip (inner stages run for target + source):')
    staged = 0.
    for name, sec in totals.items():
        staged += sec
        print(f'    {name:<34s} {1e3 * sec / args.num:6.2f}  '
              f'{100 * sec / elapsed:5.1f}%')
    rest = elapsed - staged
    print(f'    {"wrapper (deep copies, indexing)":<34s} '
          f'{1e3 * rest / args.num:6.2f}  {100 * rest / elapsed:5.1f}%')
    print('  paste status: ' + ', '.join(f'{k} {v}'
                                         for k, v in sorted(statuses.items())))


if __name__ == '__main__':
    main()
