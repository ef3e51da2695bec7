"""MaskCut engines side by side on the CPU: pipelined vs serial, and the
streaming merge's memory vs the in-memory merge's.

1. The same generated 500x375 images (JPEG) and the same random-weight
   ViT-B/8 (480x480 input, 60x60 patches; tau 0.75 so that random keys give
   masks and CRFs) through the serial engine (``engine.pipelined=False``)
   and the pipelined one (``--workers`` loader / CRF-pool processes); the
   two JSONs are compared byte for byte. Printed: seconds per image of each
   stage (decode + resize, keys, NCut, CRF, resize back + RLE), images/s of
   both, and the ratio of the pipelined throughput to the bound set by the
   slowest stage at its worker count,
   ``1 / max(read / loaders, keys + NCut, CRF + resize back + RLE / pool)``
   (target >= 0.9), with the stage times measured inside the pipelined run
   (what the stages cost while sharing the machine) and, for reference,
   alone in the serial run.
2. ``--merge-images N`` fake part files (realistic RLE strings, 3 ranks,
   50 records per file): peak RSS of a process merging them with the
   streaming merge vs the in-memory one (and of a process that only imports
   the same modules), each in its own fresh process; outputs compared.

Torch and BLAS run single-threaded in every process. Usage::

    python benchmarks/maskcut_pipeline_bench.py [--images 8] [--workers 1 1]
        [--batch-size 2] [--merge-images 100000]
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import json  # noqa: E402
import os.path as osp  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TARGET = 0.9
MODEL = dict(
    type='DinoViTKeyExtractor', arch='base', patch_size=8, random_init=True)
GROUPS = dict(
    read=('load', 'resize'),
    device=('features', 'ncut'),
    pool=('crf', 'upsample', 'resize_back', 'rle'))


def write_images(folder, num, seed):
    from vcl_mm.testing.toy_data import render_image
    rng = np.random.default_rng(seed)
    for i in range(num):
        img, _ = render_image(rng, 375, 500, int(rng.integers(1, 4)))
        Image.fromarray(img).save(osp.join(folder, f'{i:04d}.jpg'), quality=90)


def run_engine(folder, out, engine_cfg):
    from vcl_mm.maskcut.job import run_maskcut
    from vcl_mm.maskcut.refine import CRF_DEFAULTS
    maskcut = dict(fixed_size=480, tau=0.75, num_masks=3, crf=CRF_DEFAULTS)
    return run_maskcut(
        MODEL, maskcut, folder, out, engine_cfg=engine_cfg, progress=False)


def group_seconds(stages):
    return {
        g: sum(stages.get(s, 0.) for s in names)
        for g, names in GROUPS.items()
    }


def engines(args):
    from vcl_mm.testing.patch_features import limit_threads
    with tempfile.TemporaryDirectory() as tmp, limit_threads(1):
        folder = osp.join(tmp, 'imgs')
        os.makedirs(folder)
        write_images(folder, args.images, args.seed)
        common = dict(batch_size=args.batch_size, flush_every=50)
        serial = run_engine(folder, osp.join(tmp, 'serial.json'),
                            dict(common, pipelined=False))
        piped = run_engine(
            folder, osp.join(tmp, 'piped.json'),
            dict(
                common,
                num_workers=args.workers[0],
                post_workers=args.workers[1]))
        with open(osp.join(tmp, 'serial.json'), 'rb') as f:
            same = f.read()
        with open(osp.join(tmp, 'piped.json'), 'rb') as f:
            same = same == f.read()
    n = args.images
    print(f'{n} images 500x375 -> 480x480, random ViT-B/8, batch size '
          f'{args.batch_size}, {serial["masks"]} masks; single-threaded '
          f'processes on {len(os.sched_getaffinity(0))} CPUs; load '
          f'average {os.getloadavg()[0]:.2f} at the end')
    print(f'\n{"stage":<12} {"serial s/img":>12} {"pipelined s/img":>15}')
    for stage in ('load', 'resize', 'features', 'ncut', 'crf', 'resize_back',
                  'rle'):
        print(f'{stage:<12} '
              f'{serial["stage_seconds_per_image"].get(stage, 0.):12.3f} '
              f'{piped["stage_seconds_per_image"].get(stage, 0.):15.3f}')
    workers = dict(
        read=args.workers[0] or 1, device=1, pool=args.workers[1] or 1)
    serial_rate = serial['shard_processed'] / serial['shard_seconds']
    piped_rate = piped['shard_processed'] / piped['shard_seconds']
    print(f'\nserial:    {serial_rate:.3f} images/s')
    speedup = piped_rate / serial_rate
    print(f'pipelined: {piped_rate:.3f} images/s ({speedup:.2f}x serial; '
          f'loaders {args.workers[0]}, CRF pool {args.workers[1]}, main 1)')
    ok = same
    for name, run in (('pipelined run', piped), ('serial run', serial)):
        per_worker = {
            g: s / workers[g]
            for g, s in group_seconds(run['stage_seconds_per_image']).items()
        }
        slowest = max(per_worker, key=per_worker.get)
        bound = 1. / per_worker[slowest]
        ratio = piped_rate / bound
        print(f'stage times of the {name}: per worker ' +
              ', '.join(f'{g} {s:.3f} s' for g, s in per_worker.items()) +
              f'; slowest: {slowest}, bound {bound:.3f} images/s; '
              f'pipelined / bound = {ratio:.2f} (target >= {TARGET})')
        if name == 'pipelined run':
            ok &= ratio >= TARGET
    print(f'JSON of both engines identical: {same}')
    return ok


MERGE_CHILD = r'''
import sys, time
from vcl_mm.maskcut.images import ImageList
from vcl_mm.maskcut.parts import PartStore, merge_parts
from vcl_mm.testing.merge_reference import merge_parts_in_memory
mode, folder, out, names = sys.argv[1:5]
with open(names) as f:
    listing = ImageList(folder, f.read().split('\n'))
store = PartStore(folder + '/parts', {})
t = time.perf_counter()
if mode == 'stream':
    merge_parts(listing, store, out)
elif mode == 'memory':
    merge_parts_in_memory(listing, store, out)
# VmHWM: this process's peak RSS (ru_maxrss would include the parent's,
# which it keeps across fork + exec)
with open('/proc/self/status') as f:
    hwm = next(int(l.split()[1]) for l in f if l.startswith('VmHWM'))
print(hwm / 1024, time.perf_counter() - t)
'''


def merge_memory(args):
    from vcl_mm.maskcut.coco_io import encode_mask
    from vcl_mm.maskcut.parts import PartStore, rle_record
    from vcl_mm.testing.toy_data import render_image
    rng = np.random.default_rng(args.seed)
    rles = []
    for _ in range(20):  # realistic RLE strings of 500x375 objects
        _, masks = render_image(rng, 375, 500, 3)
        rles.append([encode_mask(m) for m in masks])
    num = args.merge_images
    with tempfile.TemporaryDirectory() as tmp:
        store = PartStore(osp.join(tmp, 'parts'), {})
        store.check_settings()
        names = [f'n{i // 1300:05d}/img_{i:08d}.JPEG' for i in range(num)]
        for rank in range(3):
            share = names[rank::3]
            for i in range(0, len(share), 50):
                store.write(rank, [
                    rle_record(n, 375, 500, rles[j % len(rles)])
                    for j, n in enumerate(share[i:i + 50], start=i)
                ])
        with open(osp.join(tmp, 'names.txt'), 'w') as f:
            f.write('\n'.join(names))
        files = store.files()
        size = sum(os.path.getsize(p) for p in files) / 2**20
        result = {}
        for mode in ('imports', 'stream', 'memory'):
            proc = subprocess.run([
                sys.executable, '-c', MERGE_CHILD, mode, tmp,
                osp.join(tmp, mode + '.json'),
                osp.join(tmp, 'names.txt')
            ],
                                  cwd=ROOT,
                                  env=dict(os.environ, PYTHONPATH=ROOT),
                                  capture_output=True,
                                  text=True,
                                  check=True)
            result[mode] = [float(v) for v in proc.stdout.split()]
        with open(osp.join(tmp, 'stream.json'), 'rb') as f:
            stream = f.read()
        with open(osp.join(tmp, 'memory.json'), 'rb') as f:
            same = stream == f.read()
    print(f'\nmerge of {num} images ({num * 3} masks) from '
          f'{len(files)} part files '
          f'({size:.0f} MiB):')
    base = result['imports'][0]
    for mode, label in (('stream', 'streaming'), ('memory', 'in memory')):
        rss, seconds = result[mode]
        print(f'  {label:<10} peak RSS {rss:7.0f} MiB ({rss - base:6.0f} MiB '
              f'above the {base:.0f} MiB of the imports), {seconds:.1f} s')
    print(f'  same bytes: {same}')
    return same


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument(
        '--workers',
        type=int,
        nargs=2,
        default=(1, 1),
        metavar=('LOADERS', 'POOL'))
    parser.add_argument('--merge-images', type=int, default=100000)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    ok = True
    if args.images:
        ok &= engines(args)
    if args.merge_images:
        ok &= merge_memory(args)
    print('\nall targets met' if ok else '\nTARGET MISSED')


if __name__ == '__main__':
    main()
