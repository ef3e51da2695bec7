"""Evaluate a checkpoint with MMEngine's runner.

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
    """The runner config for ``args`` (validated, adapted to the device)."""
    from vcl_mm.utils import InputError
    from vcl_mm.utils.launch import (adapt_to_device, check_data_paths,
                                     load_config)
    cfg = load_config(args.config, args.cfg_options)
    if not osp.isfile(args.checkpoint):
        raise InputError(f'checkpoint not found: {args.checkpoint} (train '
                         'with tools/train.py or convert released weights '
                         'with tools/model_converters/)')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise InputError(f'--out must be a .pkl file, got {args.out}')
    cfg.launcher = args.launcher
    # the checkpoint is read once, strictly, by main(): mmengine's
    # load_from would read it a second time and load it non-strictly
    cfg.load_from = None
    cfg.resume = False
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    adapt_to_device(cfg)
    # Training-only parts are not needed (and their data may be absent).
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler', 'val_dataloader', 'val_cfg',
                'val_evaluator'):
        cfg[key] = None
    if cfg.get('test_dataloader') is None or cfg.get(
            'test_evaluator') is None:
        raise InputError(f'{args.config} defines no test_dataloader and '
                         'test_evaluator; use an evaluation config')
    if args.show_dir:
        vis = cfg.default_hooks.get('visualization')
        if vis is None:
            raise InputError('--show-dir needs default_hooks.visualization '
                             'in the config')
        if vis.get('type') == 'TrackVisualizationHook':
            try:
                import seaborn  # noqa: F401
            except ImportError:
                raise InputError(
                    '--show-dir draws with mmdet\'s TrackLocalVisualizer, '
                    'whose track colours need seaborn (not a vcl_mm '
                    "dependency): pip install seaborn 'pandas<2.3' (pandas "
                    '>= 3 needs numpy 2, which mmdet 3.3 cannot use); or '
                    'draw tracks with tools/demo/video_demo.py') from None
        vis['draw'] = True
        vis['test_out_dir'] = args.show_dir
    check_data_paths(cfg, loaders=('test_dataloader', ))
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
        # mmengine 0.10.7 cannot load checkpoints under torch >= 2.6
        # without it (vcl_mm/utils/checkpoint.py)
        register_checkpoint_loader()
        from mmengine.evaluator import DumpResults

        from vcl_mm.apis.inference import load_weights_strictly
        from vcl_mm.utils.launch import build_runner
        runner = build_runner(build_test_cfg(args))
        # mmengine loads load_from non-strictly (a checkpoint of another
        # model would be evaluated with random weights): load it here
        # instead, once, refusing a mismatch; the hooks and the log line are
        # those of mmengine's Runner.load_checkpoint
        model = getattr(runner.model, 'module', runner.model)
        load_weights_strictly(
            model,
            args.checkpoint,
            f'model of {args.config}',
            before_load=lambda ckpt: runner.call_hook(
                'after_load_checkpoint', checkpoint=ckpt))
        runner.logger.info(f'Load checkpoint from {args.checkpoint}')
        if args.out is not None:
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))
        return runner.test()

    run()


if __name__ == '__main__':
    main()
