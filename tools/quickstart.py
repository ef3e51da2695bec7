"""The README's main job: VideoCutLER end to end on generated data, on CPU.

Cut, synthesize, learn, then evaluate zero-shot, each step a real tool run:

1. generate unlabeled still images (textured objects on textured
   backgrounds) and, for testing, videos with moving objects (translation,
   scaling, occlusion, entering and leaving) and their true tracks;
2. ``tools/maskcut.py``: MaskCut pseudo-masks of the images (the real NCut,
   CRF and JSON writer; sharded over 2 processes with torchrun). DINO
   weights cannot ship with vcl_mm, so the features are weight-free patch
   statistics (``configs/toy/maskcut_patch-stats.py``); pseudo-mask
   quality is measured against the generated truth;
3. ``tools/train.py``: the video model (``configs/toy/
   quickstart_videocutler.py``, a CPU-sized video recipe) on ImageCut2Video
   clips of those images and pseudo-masks (the image stage is skipped for
   the toy);
4. ``tools/test.py``: class-agnostic YouTube-VIS AP/AR and DAVIS J&F on the
   generated videos;
5. the per-frame MaskCut baseline (no tracking model), scored with the
   offline tools ``tools/analysis_tools/eval_ytvis.py`` / ``eval_davis.py``;
6. ``tools/demo/video_demo.py``: an overlay video of one test video;
7. a table of the numbers, all measured in this run.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN_CONFIG = 'configs/toy/quickstart_videocutler.py'
MASKCUT_CONFIG = 'configs/toy/maskcut_patch-stats.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir',
                        default=osp.join(ROOT, 'work_dirs', 'quickstart'))
    parser.add_argument('--num-images', type=int, default=160)
    parser.add_argument('--num-videos', type=int, default=8)
    parser.add_argument('--iters', type=int, default=1500,
                        help='training iterations of the video model')
    parser.add_argument('--procs', type=int, default=2,
                        help='MaskCut processes (torchrun)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


class Steps:
    """Runs the tools as subprocesses and keeps their wall times."""

    def __init__(self):
        self.times = {}

    def run(self, name, cmd):
        print(f'\n=== {name}\n$ {" ".join(cmd)}', flush=True)
        start = time.time()
        env = dict(os.environ, PYTHONPATH=ROOT)
        # One thread per process: on small CPUs, torch's thread pools
        # oversubscribe the cores whenever anything else runs (measured:
        # 0.27 s/iteration instead of 5-11 s next to another job).
        for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            env.setdefault(var, '1')
        proc = subprocess.run(cmd, cwd=ROOT, env=env)
        if proc.returncode != 0:
            sys.exit(f'quickstart: step "{name}" failed '
                     f'(exit status {proc.returncode})')
        self.times[name] = time.time() - start


def latest_metrics(test_dir):
    """The metrics JSON the last tools/test.py run wrote into test_dir."""
    runs = sorted(d for d in os.listdir(test_dir)
                  if osp.isfile(osp.join(test_dir, d, f'{d}.json')))
    with open(osp.join(test_dir, runs[-1], f'{runs[-1]}.json')) as f:
        return json.load(f)


def pick(metrics, name):
    """A metric by its name, whatever prefix its evaluator gave it."""
    for key, value in metrics.items():
        if key.split('/')[-1] == name:
            return value
    raise KeyError(f'{name} not in {sorted(metrics)}')


def main(argv=None):
    args = parse_args(argv)
    py = sys.executable
    work = osp.abspath(args.work_dir)
    data = osp.join(work, 'data')
    images_root = osp.join(data, 'images')
    videos_root = osp.join(data, 'test_videos')
    shutil.rmtree(work, ignore_errors=True)
    steps = Steps()
    start = time.time()

    # 1. data
    steps.run('generate images', [
        py, 'tools/misc/generate_toy_data.py', 'images', images_root,
        '--num', str(args.num_images), '--seed', str(args.seed), '--size',
        '160', '160'
    ])
    steps.run('generate test videos', [
        py, 'tools/misc/generate_toy_data.py', 'videos', videos_root,
        '--num', str(args.num_videos), '--seed', str(args.seed + 1),
        '--size', '120', '160', '--frames', '8', '16'
    ])

    # 2. cut
    maskcut = [
        'tools/maskcut.py', '--config', MASKCUT_CONFIG, '--device', 'cpu',
        '--no-progress'
    ]
    if args.procs > 1:
        launcher = [
            py, '-m', 'torch.distributed.run', '--nproc_per_node',
            str(args.procs), '--master_port', '29561'
        ]
        maskcut_cmd = launcher + maskcut + ['--launcher', 'pytorch']
    else:
        maskcut_cmd = [py] + maskcut
    pseudo = osp.join(images_root, 'pseudo_masks.json')
    steps.run('MaskCut pseudo-masks',
              maskcut_cmd + ['--input', osp.join(images_root, 'images'),
                             '--out', pseudo])
    from vcl_mm.apis.baselines import per_frame_tracks, pseudo_mask_quality
    quality = pseudo_mask_quality(osp.join(images_root, 'gt_masks.json'),
                                  pseudo)

    # 3. synthesize + learn
    train_dir = osp.join(work, 'train')
    steps.run('train on ImageCut2Video clips', [
        py, 'tools/train.py', TRAIN_CONFIG, '--work-dir', train_dir,
        '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={images_root}/',
        f'test_dataloader.dataset.data_root={videos_root}/',
        f'train_cfg.max_iters={args.iters}',
        f'param_scheduler.end={args.iters}',
        f'param_scheduler.milestones=[{int(args.iters * 0.8)}]',
        f'default_hooks.checkpoint.interval={args.iters}',
        f'randomness.seed={args.seed}'
    ])
    ckpt = osp.join(train_dir, f'iter_{args.iters}.pth')

    # 4. zero-shot test of the video model
    test_dir = osp.join(work, 'test')
    steps.run('test the video model', [
        py, 'tools/test.py', TRAIN_CONFIG, ckpt, '--work-dir', test_dir,
        '--cfg-options', f'test_dataloader.dataset.data_root={videos_root}/'
    ])
    model_metrics = latest_metrics(test_dir)

    # 5. per-frame MaskCut baseline
    base_dir = osp.join(work, 'baseline')
    frame_pseudo = osp.join(base_dir, 'frame_masks.json')
    steps.run('MaskCut per frame (baseline)',
              maskcut_cmd + ['--input', osp.join(videos_root, 'JPEGImages'),
                             '--out', frame_pseudo])
    base_results = osp.join(base_dir, 'ytvis_results.json')
    per_frame_tracks(frame_pseudo, osp.join(videos_root,
                                            'ytvis_official.json'),
                     osp.join(base_dir, 'davis_pngs'), base_results)
    steps.run('evaluate baseline (YouTube-VIS)', [
        py, 'tools/analysis_tools/eval_ytvis.py',
        osp.join(videos_root, 'ytvis_official.json'), base_results,
        '--class-agnostic', '--out', osp.join(base_dir, 'ytvis.json')
    ])
    steps.run('evaluate baseline (DAVIS)', [
        py, 'tools/analysis_tools/eval_davis.py', '--davis-root', videos_root,
        '--results-dir', osp.join(base_dir, 'davis_pngs'), '--resolution',
        '', '--ann-dir', 'Annotations', '--out',
        osp.join(base_dir, 'davis.json')
    ])
    with open(osp.join(base_dir, 'ytvis.json')) as f:
        base_metrics = json.load(f)
    with open(osp.join(base_dir, 'davis.json')) as f:
        base_metrics.update(json.load(f))

    # 6. look at it
    demo_dir = osp.join(work, 'demo')
    with open(osp.join(videos_root, 'ImageSets', '2017', 'val.txt')) as f:
        first_video = f.readline().strip()
    steps.run('overlay video', [
        py, 'tools/demo/video_demo.py',
        osp.join(videos_root, 'JPEGImages', first_video), TRAIN_CONFIG, ckpt,
        '--out', demo_dir, '--short-side', '128', '--window', '8'
    ])

    # 7. the table
    rows = [('AP', 'AP'), ('AP50', 'AP50'), ('AR10', 'AR10'),
            ('J&F', 'J&F-Mean'), ('J', 'J-Mean'), ('F', 'F-Mean')]
    lines = [
        '', '=== VideoCutLER quickstart: results of this run', '',
        f'pseudo-masks (MaskCut, {quality["num_pseudo_masks"]} masks on '
        f'{args.num_images} images): mean IoU {quality["mean_iou"]:.3f} '
        f'with the {quality["num_objects"]} true objects, '
        f'{100 * quality["recall50"]:.1f}% found at IoU >= 0.5', '',
        f'zero-shot on {args.num_videos} generated videos '
        '(class-agnostic, %):',
        f'{"method":<34s}' + ''.join(f'{name:>8s}' for name, _ in rows)
    ]
    model_row = [pick(model_metrics, key) for _, key in rows]
    base_row = [base_metrics[key] for _, key in rows]
    for name, values in ((f'VideoCutLER ({args.iters} iters)', model_row),
                         ('MaskCut per frame, no tracking', base_row)):
        lines.append(f'{name:<34s}' +
                     ''.join(f'{100 * v:8.1f}' for v in values))
    lines += [
        '', 'wall time per step (s): ' + ', '.join(
            f'{k} {v:.0f}' for k, v in steps.times.items()),
        f'total {time.time() - start:.0f} s', '',
        f'overlay video: {demo_dir}/overlay.mp4',
        f'checkpoint:    {ckpt}', f'all outputs:   {work}'
    ]
    table = '\n'.join(lines)
    print(table)
    summary = dict(pseudo_masks=quality, video_model=model_metrics,
                   per_frame_baseline=base_metrics, seconds=steps.times)
    with open(osp.join(work, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    with open(osp.join(work, 'summary.txt'), 'w') as f:
        f.write(table + '\n')


if __name__ == '__main__':
    main()
