"""Self-train a VideoCutLER model on a folder of unlabeled videos.

Each round tracks the videos with the current model, keeps the good tracks
as YouTube-VIS pseudo-labels and fine-tunes on a mix of ImageCut2Video
clips and real clips of those videos (vcl_mm/apis/self_training.py);
every round's JSON, checkpoint and metrics stay in WORK_DIR/round_k/. Rerun
the same command after an interruption: finished steps are skipped.

Examples::

    python tools/self_train.py configs/videocutler/selftrain_r50_8xb2-10k_mix.py \\
        --videos my_videos/ --rounds 2 --work-dir work_dirs/selftrain \\
        --checkpoint checkpoints/videocutler_r50.pth \\
        --test-config configs/videocutler/eval_davis2017_val.py
    python tools/self_train.py configs/toy/self_train_quickstart.py \\
        --videos data/train_videos/JPEGImages --rounds 1 --work-dir W \\
        --checkpoint work_dirs/quickstart/train/iter_1500.pth \\
        --eval-videos work_dirs/quickstart/data/test_videos \\
        --cfg-options train_dataloader.dataset.datasets.0.dataset.data_root=IMAGES/
"""
import argparse

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='self-training config')
    parser.add_argument('--videos', required=True,
                        help='folder of video files and/or frame folders')
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--checkpoint',
                        help='the round-0 model (default: load_from)')
    parser.add_argument('--test-config',
                        help='config with a test set: metrics per round')
    parser.add_argument(
        '--eval-videos',
        help='test set root (test_dataloader.dataset.data_root) of '
        '--test-config (default: CONFIG)')
    parser.add_argument(
        '--replace-videos', action='store_true',
        help='WORK_DIR was prepared from other videos (another --videos '
        'set): prepare these instead (finished rounds are kept); without '
        'it such a work dir is refused')
    parser.add_argument('--device', help='tracking device (default: cuda '
                        'if available, else cpu)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of CONFIG')
    parser.add_argument('--test-cfg-options', nargs='+', action=DictAction,
                        help='overrides of the test config')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.utils.launch import cli_main

    @cli_main
    def run():
        from vcl_mm.utils import (register_all_modules,
                                  register_checkpoint_loader)
        register_all_modules()
        register_checkpoint_loader()
        from vcl_mm.apis.self_training import SelfTraining
        test_config, test_options = args.test_config, dict(
            args.test_cfg_options or {})
        if args.eval_videos is not None:
            test_config = test_config or args.config
            test_options['test_dataloader.dataset.data_root'] = \
                args.eval_videos.rstrip('/') + '/'
        summary = SelfTraining(
            args.config, args.videos, args.work_dir, args.rounds,
            checkpoint=args.checkpoint, cfg_options=args.cfg_options,
            test_config=test_config, test_cfg_options=test_options or None,
            device=args.device, replace_videos=args.replace_videos).run()
        print(f'self-training done: {len(summary["rounds"])} rounds in '
              f'{args.work_dir} (summary.json)')

    run()


if __name__ == '__main__':
    main()
