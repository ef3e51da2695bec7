"""The README's main job: a short real train + test run on generated videos.

Steps (each one a real tool invocation, so this doubles as an end-to-end
check of the installation):

1. ``tools/misc/generate_toy_data.py``: toy training and test videos;
2. ``tools/train.py``: the smoke variant of the video model;
3. ``tools/test.py``: class-agnostic YouTube-VIS metrics on the test videos.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'smoke', 'video_smoke_generated.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs',
                                                       'quickstart'))
    parser.add_argument('--iters', type=int, default=40,
                        help='training iterations')
    parser.add_argument('--num-videos', type=int, default=8)
    return parser.parse_args(argv)


def run(step, cmd):
    print(f'\n=== {step}\n$ {" ".join(cmd)}', flush=True)
    start = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT)
    print(f'--- {step}: {time.time() - start:.0f} s', flush=True)


def main(argv=None):
    args = parse_args(argv)
    py = sys.executable
    train_data = osp.join(args.work_dir, 'data', 'train_videos')
    test_data = osp.join(args.work_dir, 'data', 'test_videos')
    run('generate training videos', [
        py, 'tools/misc/generate_toy_data.py', 'videos', train_data, '--num',
        str(args.num_videos), '--seed', '0'
    ])
    run('generate test videos', [
        py, 'tools/misc/generate_toy_data.py', 'videos', test_data, '--num',
        str(max(2, args.num_videos // 2)), '--seed', '1'
    ])
    train_dir = osp.join(args.work_dir, 'train')
    run('train', [
        py, 'tools/train.py', CONFIG, '--work-dir', train_dir,
        '--cfg-options', f'train_dataloader.dataset.data_root={train_data}',
        f'train_cfg.max_iters={args.iters}',
        f'param_scheduler.end={args.iters}',
        f'default_hooks.checkpoint.interval={args.iters}'
    ])
    ckpt = osp.join(train_dir, f'iter_{args.iters}.pth')
    test_dir = osp.join(args.work_dir, 'test')
    run('test', [
        py, 'tools/test.py', CONFIG, ckpt, '--work-dir', test_dir,
        '--cfg-options', f'test_dataloader.dataset.data_root={test_data}'
    ])
    runs = sorted(d for d in os.listdir(test_dir)
                  if osp.isdir(osp.join(test_dir, d)))
    metrics_file = osp.join(test_dir, runs[-1], f'{runs[-1]}.json')
    with open(metrics_file) as f:
        metrics = json.load(f)
    print('\n=== results on generated test videos')
    for key, value in metrics.items():
        print(f'{key:>40s}: {value}')
    print(f'\ncheckpoint: {ckpt}\nmetrics: {metrics_file}')


if __name__ == '__main__':
    main()
