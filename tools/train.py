"""Train a vcl_mm model: mmdet's ``tools/train.py`` with one-line errors.

Everything else (device-aware ``--amp``, CPU/gloo distributed start, strict
and resumable checkpoints, data-path checks) comes from the config's runner
(:class:`vcl_mm.engine.DeviceAwareRunner`), so mmdet's own ``tools/train.py``
does the same.

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


def build_train_cfg(args):
    """The runner config for ``args``, as mmdet's ``tools/train.py`` makes
    it."""
    from vcl_mm.utils import InputError, require_file
    from vcl_mm.utils.launch import load_config
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        # in the vcl_mm scope this is the device-aware wrapper
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise InputError(f'{args.config} has no auto_scale_lr settings; '
                             'add auto_scale_lr=dict(base_batch_size=...)')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        require_file(args.resume, 'checkpoint to resume from')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.utils.launch import cli_main, set_local_rank
    set_local_rank(args.local_rank)

    @cli_main
    def run():
        from vcl_mm.utils.launch import build_runner
        build_runner(build_train_cfg(args)).train()

    run()


if __name__ == '__main__':
    main()
