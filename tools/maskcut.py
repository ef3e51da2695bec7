"""MaskCut pseudo-labels for a folder of images, as one COCO JSON.

Examples::

    python tools/maskcut.py --input data/imagenet/train --out maskcut.json
    python tools/maskcut.py --input list.txt --out out.json \\
        --cfg-options maskcut.crf=None engine.batch_size=4
    python tools/maskcut.py --input photo.jpg --out photo_masks.json
    torchrun --nproc_per_node 4 tools/maskcut.py --input DIR --out OUT.json \\
        --launcher pytorch --device cuda
    sbatch --array=0-63 --gres=gpu:1 --wrap "python tools/maskcut.py \\
        --input DIR --out OUT.json --launcher slurm-array --device cuda"

Settings (``model``, ``maskcut``, ``engine`` of the config, e.g.
``maskcut.tau``, ``maskcut.num_masks``, ``maskcut.fixed_size``,
``maskcut.crf=None`` to skip the CRF, ``engine.batch_size``) are changed
with ``--cfg-options key=value ...``. Re-running the same command after an
interruption skips finished images (partial results live in
``OUT.json.parts/``); the final JSON is the same as an uninterrupted run's.
Images that cannot be labelled are listed with their reason in
``OUT.skipped.txt`` (or ``--skipped``).

The tool needs the ``maskcut`` profile only (``pip install .[maskcut]``:
torch, torchvision, timm, mmengine, numpy, scipy, pillow, pycocotools and
pydensecrf2 for the CPU CRF): mmengine reads the config and merges
``--cfg-options``; nothing imports mmcv or mmdet.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import DictAction

from vcl_mm.maskcut.config_checks import load_maskcut_config
from vcl_mm.utils import InputError
from vcl_mm.utils.errors import env_int
from vcl_mm.utils.launch import cli_main, init_process_group

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs', 'maskcut',
                          'maskcut_dino-vitb8_480.py')
#: ranks wait for the slowest shard at the final barrier: no short timeout
BARRIER_TIMEOUT_S = 7 * 24 * 3600


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='MaskCut pseudo-labels (COCO JSON) for unlabeled images')
    parser.add_argument(
        '--input',
        required=True,
        help='image folder (searched recursively, e.g. ImageNet class/'
        'x.JPEG), a single image, or a text file with one image path per '
        'line')
    parser.add_argument('--out', required=True, help='output COCO JSON')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='MaskCut config (default: the official ViT-B/8 settings)')
    parser.add_argument(
        '--weights', help='DINO checkpoint (sets model.weights)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. maskcut.tau=0.2 maskcut.crf=None '
        'engine.batch_size=4 engine.post_workers=8 engine.pipelined=False '
        '(model.random_init=True: random ViT weights, meaningless masks, '
        'for testing only)')
    parser.add_argument(
        '--device',
        default='auto',
        help='cpu, cuda or cuda:N (auto: cuda if available); under '
        'torchrun "cuda" means each rank\'s local GPU')
    parser.add_argument(
        '--skipped',
        help='skipped-images file (default: OUT without .json + '
        '.skipped.txt)')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm-array'],
        default='none',
        help='"pytorch" under torchrun: each rank labels its shard and '
        'rank 0 merges; "slurm-array": task SLURM_ARRAY_TASK_ID - '
        'SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT labels its shard '
        'and the task that finishes last merges')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return parser.parse_args(argv)


def build_cfg(args):
    """The config's ``model``, ``maskcut`` and ``engine`` dicts with
    ``--weights`` and ``--cfg-options`` applied, checked."""
    if not osp.isfile(args.config):
        raise InputError(f'config not found: {args.config} (pass e.g. '
                         f'{osp.relpath(DEFAULT_CONFIG)})')
    cfg = load_maskcut_config(
        args.config, args.cfg_options, reference=DEFAULT_CONFIG)
    for key in ('model', 'maskcut'):
        if not isinstance(cfg.get(key), dict):
            raise InputError(f'{args.config} has no "{key}" section (see '
                             f'{osp.relpath(DEFAULT_CONFIG)})')
    model, maskcut = cfg['model'], cfg['maskcut']
    engine = dict(cfg.get('engine') or {})
    if args.weights:
        model['weights'] = args.weights
    if not -1 <= maskcut['tau'] < 1:
        raise InputError(
            f'maskcut.tau must be in [-1, 1), got {maskcut["tau"]}')
    if maskcut['num_masks'] < 1:
        raise InputError(f'maskcut.num_masks must be >= 1, got '
                         f'{maskcut["num_masks"]}')
    patch = model.get('patch_size', 8)
    if maskcut['fixed_size'] < 2 * patch:
        raise InputError(f'maskcut.fixed_size must be at least {2 * patch} '
                         f'(two patches), got {maskcut["fixed_size"]}')
    if engine.get('batch_size', 1) < 1:
        raise InputError('engine.batch_size must be >= 1')
    for key in ('num_workers', 'post_workers'):
        value = engine.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise InputError(f'engine.{key} must be an integer >= 0 (0: in '
                             f'the main process) or None (from the '
                             f'machine), got {value!r}')
    crf = maskcut.get('crf')
    if crf is not None:
        from vcl_mm.maskcut.refine import CRF_BACKENDS
        if crf.get('backend', 'pydensecrf') not in CRF_BACKENDS:
            raise InputError(
                f'maskcut.crf.backend={crf.get("backend")!r} is unknown; use '
                f'one of {", ".join(CRF_BACKENDS)} (or maskcut.crf=None)')
    method = engine.get('start_method')
    if method not in (None, 'fork', 'spawn', 'forkserver'):
        raise InputError(f'engine.start_method must be fork, spawn, '
                         f'forkserver or None, got {method!r}')
    return model, maskcut, engine


def slurm_array_shard():
    """(rank, world size) of a slurm array task.

    Raises:
        InputError: not inside a slurm array job.
    """
    env = os.environ
    if 'SLURM_ARRAY_TASK_ID' not in env or ('SLURM_ARRAY_TASK_COUNT'
                                            not in env):
        raise InputError('--launcher slurm-array needs SLURM_ARRAY_TASK_ID '
                         'and SLURM_ARRAY_TASK_COUNT (submit with sbatch '
                         '--array=0-N), or drop --launcher')
    rank = env_int('SLURM_ARRAY_TASK_ID') - env_int(
        'SLURM_ARRAY_TASK_MIN', 0)
    world = env_int('SLURM_ARRAY_TASK_COUNT')
    if world < 1:
        raise InputError(f'SLURM_ARRAY_TASK_COUNT={world} must be >= 1 '
                         '(submit with sbatch --array=0-N)')
    if not 0 <= rank < world:
        raise InputError(f'slurm array task {rank} is outside 0..{world - 1}'
                         ' (use a contiguous --array range)')
    return rank, world


def setup_device_and_dist(launcher, device):
    """Resolve the device; under torchrun join the process group.

    Returns:
        tuple: rank, world size, device string, barrier (or None).
    """
    import torch
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise InputError(f'--device {device}: no CUDA device is available '
                         '(use --device cpu)')
    if launcher == 'none':
        return 0, 1, device, None
    if launcher == 'slurm-array':
        return (*slurm_array_shard(), device, None)
    import torch.distributed as dist
    local_rank = env_int('LOCAL_RANK', 0)
    if device == 'cuda':
        device = f'cuda:{local_rank}'
    if device.startswith('cuda'):
        torch.cuda.set_device(torch.device(device))
    init_process_group(
        launcher,
        backend='nccl' if device.startswith('cuda') else 'gloo',
        timeout=BARRIER_TIMEOUT_S)
    return dist.get_rank(), dist.get_world_size(), device, dist.barrier


def format_summary(s):
    """Human-readable lines of a run summary."""
    kinds = ', '.join(f'{k}: {v}' for k, v in s['skipped_by_kind'].items())
    lines = [
        f'MaskCut: {s["images"]} images, {s["labelled"]} labelled with '
        f'{s["masks"]} masks ({s.get("without_masks", 0)} of them with '
        f'none), {s["skipped"]} skipped' + (f' ({kinds})' if kinds else '') +
        f' -> {s["out"]}',
        f'skipped images and reasons: {s["skipped_file"]}',
        f'this run: {s["processed"]} images in {s["seconds"]:.1f} s '
        f'({s["images_per_second"]:.2f} images/s), {s["resumed"]} '
        'finished before',
    ]
    stages = ', '.join(f'{k} {v:.3f}'
                       for k, v in s['stage_seconds_per_image'].items())
    if stages:
        workers = ', '.join(f'{k} {v}' for k, v in s['workers'].items())
        lines.append(f'seconds per image of this process\'s share, summed '
                     f'over the processes of a stage ({workers}): {stages}')
    extra = []
    if s['ignored_files']:
        extra.append(f'{s["ignored_files"]} files without an image '
                     'extension ignored')
    if s['duplicate_lines']:
        extra.append(f'{s["duplicate_lines"]} repeated list lines ignored')
    if extra:
        lines.append('; '.join(extra))
    return '\n'.join(lines)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    model, maskcut, engine = build_cfg(args)
    rank, world_size, device, barrier = setup_device_and_dist(
        args.launcher, args.device)
    from vcl_mm.maskcut import run_maskcut
    try:
        summary = _run(run_maskcut, args, model, maskcut, engine, rank,
                       world_size, device, barrier)
    finally:
        if barrier is not None:
            import torch.distributed as dist
            dist.destroy_process_group()
    if summary is not None:
        print(format_summary(summary))
    elif args.launcher == 'slurm-array':
        print(f'MaskCut: shard {rank} of {world_size} done; other shards '
              f'are still running, the last to finish writes {args.out}')


def _run(run_maskcut, args, model, maskcut, engine, rank, world_size, device,
         barrier):
    """run_maskcut; Ctrl-C ends with one line and exit status 130 (the
    finished images are kept: the engine wrote them before returning)."""
    try:
        return run_maskcut(
            model,
            maskcut,
            args.input,
            args.out,
            engine_cfg=engine,
            rank=rank,
            world_size=world_size,
            device=device,
            skipped_file=args.skipped,
            barrier=barrier,
            progress=not args.no_progress,
            merge_when_complete=args.launcher == 'slurm-array')
    except KeyboardInterrupt:
        print(
            f'\nMaskCut interrupted; the finished images are kept in '
            f'{args.out}.parts/: run the same command again to finish',
            file=sys.stderr)
        sys.exit(130)


if __name__ == '__main__':
    main()
