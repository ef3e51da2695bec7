"""Training speed and inference memory of the VideoCutLER video recipe (CPU).

One run, two tables:

1. **Seconds per training iteration** (model step only: forward, backward,
   optimizer update; data loading excluded) of the R50 video recipe at its
   real resolution (3-frame ImageCut2Video clips with short side 360 and
   480, 1 clip per batch) and of the CPU smoke recipe (its own batch of 2),
   float32 next to ``--amp`` (``DeviceAmpOptimWrapper``: bfloat16 autocast
   on CPU), stepped alternately on one fixed batch; the minimum step time
   is reported (the machine may be shared). R50 settings time up to
   ``--iters`` steps each, fewer when ``--budget`` seconds are used up,
   after ``--warmup`` steps.
2. **Peak memory of inference** of the R50 model on generated 360p videos
   (360 x 640, padded to 384 x 640): whole-video (the official single
   forward) on ``--whole-frames`` frames next to windowed (``--window``
   frames, ``--overlap`` shared, encoder ``--frame-chunk`` frames at a time)
   on ``--windowed-frames`` frames. Each case runs in its own process; the
   peak
   resident set (VmHWM, reset just before ``predict``) is reported with the
   part of it added by inference. An address-space cap (``--cap-gb`` above
   the process's size before inference) makes a case that would exhaust
   the machine fail instead; it is reported as "> cap".

Usage::

    python benchmarks/train_bench.py                  # both tables
    python benchmarks/train_bench.py --skip-memory --budget 60
    python benchmarks/train_bench.py --skip-train --windowed-frames 200
"""
import argparse
import gc
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RECIPE = osp.join(ROOT, 'configs', 'videocutler',
                  'videocutler_r50_8xb2-80k_imagenet.py')
SMOKE = osp.join(ROOT, 'configs', 'toy', 'videocutler_smoke_cpu.py')
MB = 1024.**2


def _scope():
    from mmengine.logging import MMLogger

    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    # keep the tables readable: no per-parameter optimizer logs
    MMLogger.get_instance('train_bench', log_level='WARNING')


# ------------------------------------------------------------------ train
def _train_cfg(path, data_root, short_side):
    from vcl_mm.utils.launch import load_config
    cfg = load_config(path)  # recipe variables resolved, as the runner does
    inner = cfg.train_dataloader.dataset.dataset
    inner.data_root = data_root
    inner.ann_file = 'gt_masks.json'
    inner.data_prefix = dict(img='images/')
    if short_side is not None:
        cfg.train_dataloader.batch_size = 1
        for t in inner.pipeline:  # the clip-level resize
            for a in t.get('transforms', []):
                if a['type'] == 'RandomChoiceResize':
                    a['scales'] = [(1333, short_side)]
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.load_from = None
    return cfg


def _trainer(cfg, amp, batch):
    """(model, optim wrapper) of ``cfg`` in float32 or ``--amp``."""
    import copy

    import torch
    from mmengine.optim import build_optim_wrapper

    from mmdet.registry import MODELS
    cfg = copy.deepcopy(cfg)
    # what --amp asks for: in the vcl_mm scope the device-aware wrapper
    cfg.optim_wrapper.type = 'AmpOptimWrapper' if amp else 'OptimWrapper'
    cfg.optim_wrapper.pop('loss_scale', None)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def time_training(path, data_root, short_side, warmup, iters, budget):
    """Seconds per iteration of float32 and ``--amp`` on one fixed batch.

    The two run interleaved (float32 step, amp step, ...) so that both see
    the same machine load; the minimum over the timed steps is reported
    (the least disturbed one).

    Returns:
        dict: ``fp32`` and ``amp`` lists of step seconds, ``shape``.
    """
    import numpy as np
    import torch
    from mmengine.runner import Runner
    cfg = _train_cfg(path, data_root, short_side)
    np.random.seed(0)
    torch.manual_seed(0)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    runs = dict(
        fp32=_trainer(cfg, False, batch), amp=_trainer(cfg, True, batch))
    times = dict(fp32=[], amp=[])
    start = None
    for step in range(warmup + iters):
        if step == warmup:
            start = time.perf_counter()
        for name, (model, wrapper) in runs.items():
            t0 = time.perf_counter()
            model.train_step(batch, wrapper)
            if step >= warmup:
                times[name].append(time.perf_counter() - t0)
        if start is not None and time.perf_counter() - start > budget:
            break
    shape = tuple(batch['inputs'][0].shape)
    return dict(times, shape=f'{len(batch["inputs"])}x{shape}')


def _train_rows(args):
    """(label, config, short side, warm-up, max steps, budget seconds)."""
    return [('R50 recipe, short side 360', RECIPE, 360, args.warmup,
             args.iters, args.budget),
            ('R50 recipe, short side 480', RECIPE, 480, args.warmup,
             args.iters, args.budget),
            ('smoke recipe (R18-64ch)', SMOKE, None, 2, 10, 60.)]


def train_child(args, row, data_root):
    """One training row in this process; prints one JSON line."""
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    _, path, short, warmup, iters, budget = _train_rows(args)[row]
    print(
        json.dumps(
            time_training(path, data_root, short, warmup, iters, budget)))


def train_table(args):
    from vcl_mm.testing.toy_data import write_image_set
    root = tempfile.mkdtemp(prefix='train_bench_')
    # ImageNet-like 375 x 500 images with generated objects
    write_image_set(root, num_images=4, seed=0, size=(375, 500))
    print('\n## Training: seconds per iteration (CPU, '
          f'{os.cpu_count()} cores, torch threads '
          f'{args.threads or __import__("torch").get_num_threads()}, '
          'load average '
          f'{os.getloadavg()[0]:.1f}; one process per row, float32 and amp '
          'steps interleaved, min over the timed steps)\n')
    print('| setting | inputs (clips x T,C,H,W) | float32 s/it | '
          'bf16 --amp s/it | amp / fp32 | timed steps each |')
    print('|---|---|---|---|---|---|')
    for row, (name, *_) in enumerate(_train_rows(args)):
        cmd = [
            sys.executable,
            osp.abspath(__file__), '--child-train',
            str(row), root + '/', '--warmup',
            str(args.warmup), '--iters',
            str(args.iters), '--budget',
            str(args.budget), '--threads',
            str(args.threads)
        ]
        res = _run_child(cmd)
        if 'error' in res:
            print(f'| {name} | - | - | - | - | crashed: {res["error"]} |')
            continue
        fp32, amp = min(res['fp32']), min(res['amp'])
        print(f'| {name} | {res["shape"]} | {fp32:.2f} | {amp:.2f} | '
              f'{amp / fp32:.2f} | {len(res["fp32"])} |')
        sys.stdout.flush()


def _run_child(cmd):
    """Run a child of this script; its last JSON line, or ``error``."""
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{')]
    if not lines:
        err = (proc.stderr.strip().splitlines() or ['?'])[-1]
        return dict(error=err[:80])
    return json.loads(lines[-1])


# ----------------------------------------------------------------- memory
def _rss_mb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024.
    return float('nan')


def memory_child(mode, frames, window, overlap, chunk, cap_gb, threads):
    """One inference case in this process; prints one JSON line."""
    import numpy as np
    import torch
    if threads:
        torch.set_num_threads(threads)
    from mmdet.registry import MODELS
    from vcl_mm.models.track_utils import window_spans
    from vcl_mm.testing.toy_data import make_video
    from vcl_mm.utils.launch import load_config
    _scope()
    h, w, pad = 360, 640, (384, 640)
    cfg = load_config(RECIPE)
    windowed = mode == 'windowed'
    cfg.model.test_cfg.update(
        window_size=window if windowed else None,
        window_overlap=overlap,
        frame_chunk=chunk if windowed else None)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    video, _ = make_video(np.random.default_rng(0), h, w, frames, 3)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    inputs = torch.zeros((1, frames, 3) + pad)
    for s in range(0, frames, 16):
        chunk = torch.from_numpy(video[s:s + 16]).permute(0, 3, 1, 2)
        inputs[0, s:s + 16, :, :h, :w] = (chunk.float() - mean) / std
    del video
    from mmdet.structures import DetDataSample, TrackDataSample
    sample = TrackDataSample()
    sample.video_data_samples = [
        DetDataSample(
            metainfo=dict(
                batch_input_shape=pad,
                img_shape=(h, w),
                ori_shape=(h, w),
                frame_id=t)) for t in range(frames)
    ]
    gc.collect()
    before = _rss_mb('VmRSS')
    vsize = _rss_mb('VmSize') * MB
    cap = int(vsize + cap_gb * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset VmHWM (peak RSS) to the current RSS
    stats = {}
    t0 = time.perf_counter()
    status, out_mb = 'ok', 0.
    try:
        with torch.no_grad():
            if windowed:
                preds = model.predict_windowed(
                    inputs[0], sample, store_stats=stats)
            else:
                result = model.predict(inputs, [sample])[0]
                preds = [
                    f.pred_track_instances for f in result.video_data_samples
                ]
        out_mb = sum(p.masks.numel() for p in preds) / MB
    except (RuntimeError, MemoryError) as err:
        status = f'failed ({type(err).__name__}: ' \
            f'{str(err).splitlines()[0][:60]})'
    seconds = time.perf_counter() - t0
    windows = len(window_spans(frames, window, overlap)) if windowed else 1
    print(
        json.dumps(
            dict(
                mode=mode,
                frames=frames,
                status=status,
                windows=windows,
                rss_before_mb=before,
                peak_mb=_rss_mb('VmHWM'),
                input_mb=inputs.numel() * 4 / MB,
                output_mb=out_mb,
                rle_mb=stats.get('rle_bytes', 0) / MB,
                seconds=seconds)))


def memory_table(args):
    print(f'\n## Inference memory: R50 VideoCutLER, generated 360p video '
          f'(360x640, padded 384x640); windowed: window {args.window}, '
          f'overlap {args.overlap}, encoder chunk {args.frame_chunk}; cap '
          f'{args.cap_gb} GB; load average '
          f'{os.getloadavg()[0]:.1f}\n')
    print('| mode | frames | peak RSS MB | added by inference MB | '
          'input tensor MB | output masks MB | stored RLE MB | s | '
          'status |')
    print('|---|---|---|---|---|---|---|---|---|')
    cases = [('whole', f) for f in args.whole_frames] + \
        [('windowed', f) for f in args.windowed_frames]
    for mode, frames in cases:
        cmd = [
            sys.executable,
            osp.abspath(__file__), '--child', mode,
            str(frames),
            str(args.window),
            str(args.overlap),
            str(args.frame_chunk),
            str(args.cap_gb),
            str(args.threads)
        ]
        r = _run_child(cmd)
        if 'error' in r:
            print(f'| {mode} | {frames} | - | - | - | - | - | - | '
                  f'crashed: {r["error"]} |')
            continue
        added = r['peak_mb'] - r['rss_before_mb']
        peak = f'{r["peak_mb"]:.0f}'
        if r['status'] != 'ok':
            peak = f'> cap ({peak})'
        label = f'windowed ({r["windows"]} windows)' \
            if mode == 'windowed' else 'whole video'
        print(f'| {label} | {frames} | {peak} | {added:.0f} | '
              f'{r["input_mb"]:.0f} | {r["output_mb"]:.0f} | '
              f'{r["rle_mb"]:.1f} | {r["seconds"]:.0f} | '
              f'{r["status"]} |')
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--skip-train', action='store_true')
    parser.add_argument('--skip-memory', action='store_true')
    parser.add_argument(
        '--warmup', type=int, default=1, help='R50 warm-up iterations')
    parser.add_argument(
        '--iters', type=int, default=2, help='R50 timed iterations (max)')
    parser.add_argument(
        '--budget',
        type=float,
        default=20.,
        help='seconds of timed R50 iterations per setting (>= 1 iter)')
    parser.add_argument(
        '--whole-frames', type=int, nargs='*', default=[8, 16, 32, 200])
    parser.add_argument(
        '--windowed-frames', type=int, nargs='*', default=[50, 100, 200])
    parser.add_argument('--window', type=int, default=24)
    parser.add_argument('--overlap', type=int, default=4)
    parser.add_argument(
        '--frame-chunk',
        type=int,
        default=4,
        help='windowed mode: frames per backbone + pixel decoder call')
    parser.add_argument(
        '--cap-gb',
        type=float,
        default=8.,
        help='address space allowed to one inference case beyond its size '
        'before inference')
    parser.add_argument(
        '--threads',
        type=int,
        default=0,
        help='torch threads of every case (0: torch default); 1 avoids '
        'oversubscribing a CPU shared with other jobs')
    parser.add_argument('--child', nargs=7, help=argparse.SUPPRESS)
    parser.add_argument('--child-train', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, frames, window, overlap, chunk, cap, threads = args.child
        memory_child(mode, int(frames), int(window), int(overlap), int(chunk),
                     float(cap), int(threads))
        return
    _scope()
    if args.child_train:
        train_child(args, int(args.child_train[0]), args.child_train[1])
        return
    if not args.skip_train:
        train_table(args)
    if not args.skip_memory:
        memory_table(args)


if __name__ == '__main__':
    main()
