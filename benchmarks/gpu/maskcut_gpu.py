"""MaskCut on one GPU: whole-pipeline images/s, NCut device time, torch CRF
vs pydensecrf, peak GPU memory. Run by
``benchmarks/gpu/maskcut_gpu.sh``; installs and downloads nothing.

For each ViT precision (float32, bfloat16 autocast: ``model.
autocast_dtype``) and batch size (1, 8, 32), on generated 500x375 images
with a random-weight ViT-B/8 at 480x480 (60x60 patches):

* device stages of one batch, repeated: ViT keys and NCut seconds per
  image (``torch.cuda.synchronize`` around each), peak GPU memory;
* the torch dense CRF (``maskcut.crf.backend='torch'``, all masks of the
  batch in one call) vs pydensecrf (one mask at a time, CPU), per mask;
* the whole job (``run_maskcut``: pipelined engine, JPEG decoding to RLE
  JSON, torch CRF) in images/s over ``--images`` images.

Without pydensecrf its timing is skipped, with the reason printed;
pycocotools (the RLE masks) is needed, as by ``vcl_mm.maskcut`` itself.
Results: a table on stdout and ``$OUT/maskcut_gpu.json`` (or ``--out``).
``--device cpu --tiny`` runs a small ViT on small images in seconds (a
check that the script works). Images:
``vcl_mm.testing.toy_data.render_image`` (textured objects on textured
backgrounds).
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import platform
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

SIZES = dict(
    full=dict(arch='base', fixed=480, image=(375, 500)),
    tiny=dict(
        arch=dict(embed_dims=32, num_layers=2, num_heads=2),
        fixed=64,
        image=(48, 64)))
OPTIONAL = ('timm', 'scipy', 'pycocotools', 'pydensecrf', 'mmengine', 'mmcv',
            'mmdet')


def have(name):
    return importlib.util.find_spec(name) is not None


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def peak_mib(device):
    if device.type != 'cuda':
        return None
    return torch.cuda.max_memory_allocated(device) / 2**20


def device_stages(args, size, dtype, batch, images, device):
    """Keys, NCut and CRF seconds of one batch (repeated)."""
    from vcl_mm.maskcut.features import DinoViTKeyExtractor
    from vcl_mm.maskcut.steps import MaskCutSteps, resize_fixed
    from vcl_mm.maskcut.refine import CRF_DEFAULTS, upsample_patch_masks
    extractor = DinoViTKeyExtractor(
        arch=size['arch'],
        patch_size=8,
        random_init=True,
        autocast_dtype=None if dtype == 'float32' else dtype)
    pipe = MaskCutSteps(
        extractor,
        fixed_size=size['fixed'],
        tau=args.tau,
        device=device,
        crf=dict(CRF_DEFAULTS, backend='torch'))
    fixed = np.stack([
        resize_fixed(images[i % len(images)], size['fixed'])
        for i in range(batch)
    ])
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    masks = pipe.patch_masks(fixed)  # warm-up (kernels, lattices)
    pipe.refine_batch(fixed, masks)
    pipe.timings.clear()
    for _ in range(args.repeats):
        masks = pipe.patch_masks(fixed)
        pipe.refine_batch(fixed, masks)
    n = args.repeats * batch
    num_masks = sum(map(len, masks)) * args.repeats
    out = dict(
        keys_s_per_image=pipe.timings['features'] / n,
        ncut_s_per_image=pipe.timings['ncut'] / n,
        torch_crf_s_per_mask=pipe.timings['crf'] / max(num_masks, 1),
        masks_per_image=num_masks / n,
        peak_gpu_mib=peak_mib(device))
    if dtype == 'float32' and have('pydensecrf'):
        from vcl_mm.maskcut.refine import crf_refine, split_crf
        params = split_crf(CRF_DEFAULTS)[2]
        ups = [upsample_patch_masks(m, fixed.shape[1:3]) for m in masks[:2]]
        pairs = [(img, m) for img, up in zip(fixed, ups) for m in up][:4]
        t = time.perf_counter()
        for img, m in pairs:
            crf_refine(img, m, **params)
        out['pydensecrf_s_per_mask'] = ((time.perf_counter() - t) /
                                        max(len(pairs), 1))
    return out


def whole_job(args, size, dtype, batch, folder, device):
    """images/s of run_maskcut on the folder (pipelined, torch CRF)."""
    from vcl_mm.maskcut.job import run_maskcut
    from vcl_mm.maskcut.refine import CRF_DEFAULTS
    model = dict(
        type='DinoViTKeyExtractor',
        arch=size['arch'],
        patch_size=8,
        random_init=True,
        autocast_dtype=None if dtype == 'float32' else dtype)
    maskcut = dict(
        fixed_size=size['fixed'],
        tau=args.tau,
        crf=dict(CRF_DEFAULTS, backend='torch'))
    with tempfile.TemporaryDirectory() as tmp:
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(device)
        summary = run_maskcut(
            model,
            maskcut,
            folder,
            osp.join(tmp, 'out.json'),
            engine_cfg=dict(
                batch_size=batch,
                flush_every=500,
                num_workers=args.workers[0],
                post_workers=args.workers[1]),
            device=str(device),
            progress=False)
    return dict(
        images_per_s=summary['shard_processed'] / summary['shard_seconds'],
        job_images_per_s=summary['images_per_second'],
        masks=summary['masks'],
        peak_gpu_mib=peak_mib(device),
        stage_seconds_per_image=summary['stage_seconds_per_image'],
        workers=summary['workers'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument(
        '--tiny',
        action='store_true',
        help='small ViT and images (a quick check)')
    parser.add_argument(
        '--batch-sizes', type=int, nargs='+', default=[1, 8, 32])
    parser.add_argument('--dtypes', nargs='+', default=['float32', 'bfloat16'])
    parser.add_argument(
        '--images', type=int, default=128, help='images of the whole-job runs')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--tau',
        type=float,
        default=0.75,
        help='random keys are alike: a high tau gives masks')
    parser.add_argument(
        '--workers',
        type=int,
        nargs=2,
        default=(None, None),
        metavar=('LOADERS', 'POOL'))
    parser.add_argument('--out', default=os.environ.get('OUT'))
    args = parser.parse_args()
    if args.tiny:
        args.batch_sizes = [b for b in args.batch_sizes if b <= 2] or [1]
        args.images = min(args.images, 4)
        args.repeats = 1
    size = SIZES['tiny' if args.tiny else 'full']
    device = torch.device(args.device)
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        device=(torch.cuda.get_device_name(device)
                if device.type == 'cuda' else platform.processor()),
        cpus=len(os.sched_getaffinity(0)),
        modules={m: have(m)
                 for m in OPTIONAL})
    print('environment:', json.dumps(env))
    try:
        import vcl_mm.maskcut  # noqa: F401
    except ImportError as err:
        sys.exit(f'cannot import vcl_mm.maskcut on this machine: {err}')
    torch.backends.cuda.matmul.allow_tf32 = False
    rng = np.random.default_rng(0)
    from vcl_mm.testing.toy_data import render_image
    images = [
        render_image(rng, *size['image'], int(rng.integers(1, 4)))[0]
        for _ in range(8)
    ]
    notes = []
    results = dict(
        environment=env, args=vars(args), stages={}, job={}, notes=notes)
    if not have('pydensecrf'):
        notes.append('pydensecrf is not installed: no pydensecrf timing')
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.images):
            Image.fromarray(images[i % len(images)]).save(
                osp.join(tmp, f'{i:05d}.jpg'), quality=90)
        for dtype in args.dtypes:
            for batch in args.batch_sizes:
                key = f'{dtype} b{batch}'
                t = time.perf_counter()
                results['stages'][key] = device_stages(args, size, dtype,
                                                       batch, images, device)
                results['job'][key] = whole_job(args, size, dtype, batch, tmp,
                                                device)
                print(
                    f'{key}: done in {time.perf_counter() - t:.1f} s',
                    flush=True)
                save(args.out, results)  # what is done survives a timeout
    print(f'\n{"run":<14} {"job img/s":>9} {"keys ms/img":>11} '
          f'{"NCut ms/img":>11} {"torch CRF ms/mask":>17} '
          f'{"pydensecrf ms/mask":>18} {"peak GPU MiB":>12}')
    for key, st in results['stages'].items():
        job = results['job'].get(key, {})
        fmt = (lambda v, k=1e3: f'{v * k:.1f}' if v is not None else '-')
        peak = max([
            p for p in (st['peak_gpu_mib'], job.get('peak_gpu_mib'))
            if p is not None
        ],
                   default=None)
        print(f'{key:<14} {fmt(job.get("images_per_s"), 1):>9} '
              f'{fmt(st["keys_s_per_image"]):>11} '
              f'{fmt(st["ncut_s_per_image"]):>11} '
              f'{fmt(st["torch_crf_s_per_mask"]):>17} '
              f'{fmt(st.get("pydensecrf_s_per_mask")):>18} '
              f'{fmt(peak, 1):>12}')
    for note in notes:
        print('note:', note)
    path = save(args.out, results)
    if path:
        print('results:', path)


def save(folder, results):
    """Write the results so far to ``folder/maskcut_gpu.json``."""
    if not folder:
        return None
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, 'maskcut_gpu.json')
    with open(path, 'w') as f:
        json.dump(results, f, indent=1)
    return path


if __name__ == '__main__':
    main()
