"""One-GPU training check of the real recipes with random weights: seconds
per iteration, peak GPU memory and the fraction of iterations with a
non-finite loss or matching cost, under AMP and at float32. Run by
``benchmarks/gpu/train_gpu.sh``; installs and downloads nothing.

Settings (each on its own freshly built model and data loader):

* ``video2`` / ``video3``: the video recipe
  (``configs/videocutler/videocutler_r50_8xb2-80k_imagenet.py``; 2 frames:
  its ``ablations/..._2frames.py``) at its resolution (short side 360/480,
  per-frame crop 600-720), 2 clips per iteration;
* ``image``: the image recipe
  (``configs/cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py``): LSJ
  on the recipe's 896 canvas (``--image-size`` changes it), copy-paste, 2
  images per iteration;

each with the recipe's optim wrapper (``DeviceAmpOptimWrapper``: float16
autocast, dynamic loss scaling, non-finite losses skipped) and again with a
float32 ``OptimWrapper`` (same optimizer and clipping). Data: generated
500x375 images with 1-3 objects whose true masks stand in for MaskCut
pseudo-masks (``vcl_mm.testing.toy_data``), through the recipes' own
pipelines. Weights: random (no DINO backbone, no image-stage checkpoint).

A matching cost is counted non-finite when the cost matrix handed to scipy
has a ``nan`` / ``inf`` entry (or scipy refuses it); a loss, when the summed
loss is. Each setting runs ``--iters`` (AMP) / ``--fp32-iters`` iterations or
until its share of ``--budget`` seconds is spent, whichever comes first; the
first ``--warmup`` iterations are not timed.

Where mmcv has no compiled ops (mmcv-lite with a stub ``mmcv._ext``, the
offline set-up of ``train_gpu.sh``), mmcv's multi-scale deformable attention
runs its pure-PyTorch path on the GPU: the results say so
(``deform_attn``) beside every figure. Results: a table on stdout and
``$OUT/train_gpu.json`` (or ``--out``), written after each setting.
``--device cpu --tiny`` runs the toy recipes for a few iterations (a check
that the script works).
"""
import argparse
import importlib.machinery
import importlib.util
import json
import os
import os.path as osp
import platform
import sys
import tempfile
import time
import types

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RECIPES = dict(
    video2='configs/videocutler/ablations/'
    'videocutler_r50_8xb2-80k_imagenet_2frames.py',
    video3='configs/videocutler/videocutler_r50_8xb2-80k_imagenet.py',
    image='configs/cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py')
TINY = dict(
    video2='configs/toy/videocutler_smoke_cpu.py',
    video3='configs/toy/videocutler_smoke_cpu.py',
    image='configs/toy/cutler_mask2former_smoke_cpu.py')


def install_ext_stub():
    """Let ``mmcv.ops`` import without compiled ops (mmcv-lite) and send
    the deformable attention to its pure-PyTorch path.

    Returns:
        str: ``'compiled'`` (mmcv's own ops) or ``'pytorch'``.
    """
    import mmcv
    if importlib.util.find_spec('mmcv._ext') is not None:
        return 'compiled'
    stub = types.ModuleType('mmcv._ext')

    def missing(name):
        if name.startswith('__'):  # module protocol (__file__, __path__...)
            raise AttributeError(name)

        def op(*args, **kwargs):
            raise RuntimeError(f'mmcv compiled op {name} is not available '
                               '(mmcv-lite): this run needs a pure-PyTorch '
                               'path for it')

        return op

    stub.__getattr__ = missing  # any op name exists, and fails if called
    # no loader: mmengine's mmcv_full_available() then says False
    stub.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    sys.modules['mmcv._ext'] = stub
    mmcv._ext = stub
    import mmcv.ops.multi_scale_deform_attn as msda
    msda.IS_CUDA_AVAILABLE = False  # forward() then takes the torch path
    msda.IS_MLU_AVAILABLE = False
    return 'pytorch'


class CostMonitor:
    """Counts the Hungarian cost matrices with a non-finite entry."""

    def __init__(self):
        from mmdet.models.task_modules.assigners import hungarian_assigner
        self.module = hungarian_assigner
        self.real = hungarian_assigner.linear_sum_assignment
        self.bad = 0
        hungarian_assigner.linear_sum_assignment = self

    def __call__(self, cost):
        if not np.isfinite(np.asarray(cost, dtype=np.float64)).all():
            self.bad += 1
        return self.real(cost)


def build_cfg(args, name, precision, device, data_root):
    from vcl_mm.utils.launch import load_config  # resolves '${...}'
    options = {}  # recipe variables
    if name.startswith('video') and args.tiny:  # the toy recipe is 3-frame
        options['num_frames'] = int(name[-1])
    if name == 'image' and args.image_size and not args.tiny:
        options['image_size'] = (args.image_size, args.image_size)
    cfg = load_config(
        osp.join(ROOT, (TINY if args.tiny else RECIPES)[name]), options)
    cfg.train_dataloader.dataset.dataset.data_root = data_root
    cfg.train_dataloader.dataset.dataset.ann_file = 'gt_masks.json'
    cfg.train_dataloader.dataset.dataset.data_prefix = dict(img='images/')
    cfg.train_dataloader.num_workers = args.workers
    cfg.train_dataloader.persistent_workers = args.workers > 0
    model = cfg.model
    model.backbone.init_cfg = None  # random weights
    if name.startswith('video') and args.tiny:
        for t in cfg.train_dataloader.dataset.dataset.pipeline:
            for s in t.get('transforms', []):
                if 'scales' in s:  # the clip-level resize: short side 64
                    s['scales'] = [(1333, 64)]
    wrapper = dict(cfg.optim_wrapper)
    if precision == 'amp':
        wrapper.update(type='DeviceAmpOptimWrapper', device=device.type)
    else:
        wrapper.update(type='OptimWrapper')
        for key in ('loss_scale', 'dtype', 'device', 'nonfinite_loss'):
            wrapper.pop(key, None)
    cfg.optim_wrapper = wrapper
    return cfg


def run_setting(args, name, precision, device, data_root, seconds):
    """Train one setting; returns its figures."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import MODELS
    from mmengine.runner import Runner
    from mmengine.runner.utils import set_random_seed
    set_random_seed(0)
    cfg = build_cfg(args, name, precision, device, data_root)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device).train()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    monitor = CostMonitor()
    iters = args.iters if precision == 'amp' else args.fp32_iters
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    times, bad_loss, bad_cost, errors, done = [], 0, 0, [], 0
    shape = None
    start = time.perf_counter()
    for i, batch in enumerate(loader):
        if i >= iters or (i > args.warmup
                          and time.perf_counter() - start > seconds):
            break
        before = monitor.bad
        shape = shape or list(batch['inputs'][0].shape)  # ([T,] C, H, W)
        sync(device)
        t = time.perf_counter()
        try:
            log = model.train_step(batch, wrapper)
            loss = float(log['loss'])
        except ValueError as err:  # scipy: infeasible / invalid cost matrix
            errors.append(str(err)[:200])
            wrapper.zero_grad()
            loss = float('nan')
        sync(device)
        if i >= args.warmup:
            times.append(time.perf_counter() - t)
        done += 1
        bad_loss += not np.isfinite(loss)
        bad_cost += monitor.bad > before
    monitor.module.linear_sum_assignment = monitor.real
    return dict(
        first_input_shape=shape,
        iterations=done,
        timed_iterations=len(times),
        s_per_iter=float(np.mean(times)) if times else None,
        s_per_iter_median=float(np.median(times)) if times else None,
        peak_gpu_mib=(torch.cuda.max_memory_allocated(device) /
                      2**20 if device.type == 'cuda' else None),
        nonfinite_loss_fraction=bad_loss / max(done, 1),
        nonfinite_cost_fraction=bad_cost / max(done, 1),
        skipped_by_wrapper=getattr(wrapper, 'nonfinite_losses', None),
        scipy_errors=errors[:5])


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def save(folder, results):
    """Write the results so far to ``folder/train_gpu.json``."""
    if not folder:
        return None
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, 'train_gpu.json')
    with open(path, 'w') as f:
        json.dump(results, f, indent=1)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument(
        '--tiny', action='store_true', help='toy recipes (a quick check)')
    parser.add_argument(
        '--settings', nargs='+', default=['video2', 'video3', 'image'])
    parser.add_argument(
        '--precisions', nargs='+', default=['amp', 'float32'])
    parser.add_argument(
        '--runs',
        nargs='+',
        metavar='SETTING:PRECISION',
        help='explicit runs instead of --settings x --precisions')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--fp32-iters', type=int, default=100)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument(
        '--budget',
        type=float,
        default=180.,
        help='seconds of training over all runs (split evenly; with model '
        'building and loader start-up the whole job stays under 5 min)')
    parser.add_argument(
        '--image-size',
        type=int,
        default=None,
        help='LSJ canvas of the image stage (recipe: 896)')
    parser.add_argument('--images', type=int, default=64)
    parser.add_argument('--workers', type=int, default=None)
    parser.add_argument('--out', default=os.environ.get('OUT'))
    args = parser.parse_args()
    if args.tiny:
        args.iters, args.fp32_iters, args.warmup = 2, 2, 1
        args.images = min(args.images, 8)
    if args.workers is None:
        args.workers = 0 if args.tiny else min(
            8, max(len(os.sched_getaffinity(0)) - 2, 0))
    device = torch.device(args.device)
    try:
        deform_attn = install_ext_stub()
        from vcl_mm.utils import register_all_modules
        register_all_modules(init_default_scope=True)
    except ImportError as err:
        sys.exit(f'cannot import mmcv / mmdet / vcl_mm here: {err} '
                 '(benchmarks/gpu/train_gpu.sh installs them from .whl/)')
    mmcv_ops = 'compiled' if deform_attn == 'compiled' else 'stub (mmcv-lite)'
    if deform_attn == 'pytorch' or device.type != 'cuda':
        deform_attn = 'pytorch (mmcv pure-PyTorch path)'
    import mmcv
    import mmdet
    import mmengine
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        numpy=np.__version__,
        mmcv=mmcv.__version__,
        mmdet=mmdet.__version__,
        mmengine=mmengine.__version__,
        device=(torch.cuda.get_device_name(device)
                if device.type == 'cuda' else platform.processor()),
        mmcv_ops=mmcv_ops,
        deform_attn=deform_attn,
        cpus=len(os.sched_getaffinity(0)))
    print('environment:', json.dumps(env), flush=True)
    results = dict(environment=env, args=vars(args), runs={})
    runs = ([tuple(r.split(':')) for r in args.runs] if args.runs else
            [(s, p) for p in args.precisions for s in args.settings])
    with tempfile.TemporaryDirectory() as tmp:
        from vcl_mm.testing.toy_data import write_image_set
        size = (48, 64) if args.tiny else (375, 500)
        write_image_set(tmp, num_images=args.images, seed=0, size=size)
        for name, precision in runs:
            key = f'{name} {precision}'
            t = time.perf_counter()
            results['runs'][key] = run_setting(args, name, precision, device,
                                               tmp + '/',
                                               args.budget / len(runs))
            print(f'{key}: done in {time.perf_counter() - t:.1f} s',
                  flush=True)
            save(args.out, results)  # what is done survives a timeout
    print(f'\n{"run":<15} {"iters":>5} {"s/iter":>7} {"peak MiB":>9} '
          f'{"non-finite loss":>15} {"non-finite cost":>15}  deform. attn')
    for key, r in results['runs'].items():
        s_it = f'{r["s_per_iter"]:.3f}' if r['s_per_iter'] else '-'
        peak = (f'{r["peak_gpu_mib"]:.0f}'
                if r['peak_gpu_mib'] is not None else '-')
        print(f'{key:<15} {r["iterations"]:>5} {s_it:>7} {peak:>9} '
              f'{r["nonfinite_loss_fraction"]:>15.3f} '
              f'{r["nonfinite_cost_fraction"]:>15.3f}  {deform_attn}')
    path = save(args.out, results)
    if path:
        print('results:', path)


if __name__ == '__main__':
    main()
