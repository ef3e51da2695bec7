"""Evaluate a checkpoint: mmdet's ``tools/test.py`` with one-line errors.

Everything else (strict checkpoint loading, CPU/gloo distributed start,
data-path checks) comes from the config's runner
(:class:`vcl_mm.engine.DeviceAwareRunner`), so mmdet's own
``tools/test.py`` does the same.

Examples::

    python tools/test.py configs/toy/video_smoke_generated.py CKPT
    python tools/test.py CONFIG CKPT --out preds.pkl --show-dir vis
    torchrun --nproc_per_node 8 tools/test.py CONFIG CKPT --launcher pytorch
"""
import argparse
import os.path as osp

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a vcl_mm model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where metrics and logs go')
    parser.add_argument(
        '--out', help='dump raw predictions to this pickle file (.pkl)')
    parser.add_argument(
        '--show-dir',
        help='draw predictions into this folder (relative to the run '
        'folder inside the work dir)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. test_dataloader.dataset.data_root=x')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    return parser.parse_args(argv)


def build_test_cfg(args):
    """The runner config for ``args``, as mmdet's ``tools/test.py`` makes
    it."""
    from vcl_mm.utils import InputError, require_file
    from vcl_mm.utils.launch import load_config
    cfg = load_config(args.config, args.cfg_options)
    require_file(args.checkpoint, 'checkpoint',
                 'train with tools/train.py or convert released weights with '
                 'tools/model_converters/')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise InputError(f'--out must be a .pkl file, got {args.out}')
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show_dir:
        vis = cfg.default_hooks.get('visualization')
        if vis is None:
            raise InputError('--show-dir needs default_hooks.visualization '
                             'in the config')
        vis['draw'] = True
        vis['test_out_dir'] = args.show_dir
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.utils.launch import cli_main, set_local_rank
    set_local_rank(args.local_rank)

    @cli_main
    def run():
        from mmengine.evaluator import DumpResults

        from vcl_mm.utils.launch import build_runner
        runner = build_runner(build_test_cfg(args))
        if args.out is not None:
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))
        return runner.test()

    run()


if __name__ == '__main__':
    main()
