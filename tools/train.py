"""Train a vcl_mm model with MMEngine's runner.

Examples::

    python tools/train.py configs/toy/video_smoke_generated.py
    python tools/train.py CONFIG --amp --work-dir work_dirs/run1
    python tools/train.py CONFIG --resume                # latest in work-dir
    python tools/train.py CONFIG --resume path/to/iter_5000.pth
    torchrun --nproc_per_node 8 tools/train.py CONFIG --launcher pytorch
"""
import argparse
import os.path as osp

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a vcl_mm model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or without a value from the '
        'latest checkpoint in the work directory')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 with loss scaling on GPUs, bfloat16 '
        'on CPU')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate linearly with the total batch size '
        '(auto_scale_lr.base_batch_size in the config)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return parser.parse_args(argv)


def check_resumable(path):
    """Raise ``InputError`` unless ``path`` is a training checkpoint that
    mmengine can resume from (optimizer state, epoch and iteration besides
    the weights); a weights-only file can only start a new training."""
    from vcl_mm.utils import InputError, load_local_checkpoint
    ckpt = load_local_checkpoint(path, map_location='cpu')
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    lacking = [
        what for what, ok in (
            ('optimizer state',
             isinstance(ckpt, dict) and 'optimizer' in ckpt),
            ('epoch/iteration',
             isinstance(meta, dict) and 'epoch' in meta and 'iter' in meta))
        if not ok
    ]
    if lacking:
        raise InputError(
            f'{path} cannot resume a training (it has no '
            f'{", ".join(lacking)}; resuming needs a checkpoint that '
            'tools/train.py saved); to start a new training from its '
            f'weights, drop --resume and pass --cfg-options load_from={path}')


def build_train_cfg(args):
    """The runner config for ``args`` (validated, adapted to the device)."""
    from vcl_mm.utils import InputError
    from vcl_mm.utils.launch import (adapt_to_device, check_data_paths,
                                     load_config)
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    adapt_to_device(cfg, amp=args.amp)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise InputError(f'{args.config} has no auto_scale_lr settings; '
                             'add auto_scale_lr=dict(base_batch_size=...)')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise InputError(f'checkpoint to resume from not found: '
                             f'{args.resume}')
        check_resumable(args.resume)
        cfg.resume = True
        cfg.load_from = args.resume
    if cfg.get('load_from') and not cfg.get('resume') and not osp.isfile(
            cfg.load_from) and '://' not in cfg.load_from:
        raise InputError(f'load_from checkpoint not found: {cfg.load_from} '
                         '(fix load_from in the config or --cfg-options)')
    check_data_paths(cfg, loaders=('train_dataloader', 'val_dataloader'))
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.utils.launch import cli_main, set_local_rank
    set_local_rank(args.local_rank)

    @cli_main
    def run():
        from vcl_mm.utils import (register_all_modules,
                                  register_checkpoint_loader)
        register_all_modules()
        # mmengine 0.10.7 cannot resume under torch >= 2.6 without it
        # (vcl_mm/utils/checkpoint.py)
        register_checkpoint_loader()
        from vcl_mm.utils.launch import build_runner
        build_runner(build_train_cfg(args)).train()

    run()


if __name__ == '__main__':
    main()
