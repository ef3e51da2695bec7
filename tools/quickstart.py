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

``--self-train --seeds 0 1 2`` adds, per seed (in ``WORK_DIR/seed_<s>/``;
a seed whose quickstart ``summary.json`` exists is reused as round 0):

8. unlabeled training videos (another seed than the test videos; their
   ground truth is never read);
9. ``tools/self_train.py``: one round of self-training from the quickstart
   model (pseudo-labels of those videos, fine-tuned on ImageCut2Video +
   pseudo-labelled clips), without and with DropLoss; as a control, the
   same number of iterations on ImageCut2Video clips alone;
10. a table of round 0 vs round 1 on the test videos: mean and spread
   (sample std) over the seeds, gains paired by seed, a gain called real
   only if it exceeds the spread (``self_train_table.txt``).
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN_CONFIG = 'configs/toy/quickstart_videocutler.py'
SELF_TRAIN_CONFIG = 'configs/toy/self_train_quickstart.py'
METRICS = [('AP', 'AP'), ('AP50', 'AP50'), ('AR10', 'AR10'),
           ('J&F', 'J&F-Mean')]
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
    parser.add_argument('--self-train', action='store_true',
                        help='also one round of self-training per seed '
                        '(steps 8-10 of the docstring)')
    parser.add_argument('--seeds', type=int, nargs='+',
                        help='with --self-train: seeds (default: --seed)')
    parser.add_argument('--st-iters', type=int, default=300,
                        help='fine-tuning iterations of the round')
    parser.add_argument('--num-train-videos', type=int, default=16,
                        help='unlabeled training videos')
    parser.add_argument('--table-out', help='also write the self-training '
                        'table here')
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
    if args.self_train:
        return self_train_main(args)
    return quickstart(args)


def quickstart(args):
    """Steps 1-7 in ``args.work_dir``; returns ``summary.json``'s dict."""
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
    return summary


def _schedule(iters, seed):
    """--cfg-options of a fine-tuning run of ``iters`` iterations."""
    return [
        f'train_cfg.max_iters={iters}', f'param_scheduler.end={iters}',
        f'param_scheduler.milestones=[{int(iters * 0.8)}]',
        f'default_hooks.checkpoint.interval={iters}',
        f'randomness.seed={seed}'
    ]


def self_train_seed(args, seed, steps):
    """Steps 8-9 for one seed; returns its rows (cached in
    ``seed_<s>/self_train_rows.json``)."""
    py = sys.executable
    work = osp.join(osp.abspath(args.work_dir), f'seed_{seed}')
    cache = osp.join(work, 'self_train_rows.json')
    if osp.isfile(cache):
        with open(cache) as f:
            return json.load(f)
    if not osp.isfile(osp.join(work, 'summary.json')):
        quickstart(argparse.Namespace(**dict(
            vars(args), seed=seed, work_dir=work)))
    with open(osp.join(work, 'summary.json')) as f:
        base = json.load(f)
    ckpt = osp.join(work, 'train', f'iter_{args.iters}.pth')
    images_root = osp.join(work, 'data', 'images')
    test_root = osp.join(work, 'data', 'test_videos')
    train_videos = osp.join(work, 'data', 'train_videos')
    if not osp.isdir(train_videos):
        steps.run(f'seed {seed}: generate unlabeled training videos', [
            py, 'tools/misc/generate_toy_data.py', 'videos', train_videos,
            '--num', str(args.num_train_videos), '--seed',
            str(seed + 1000), '--size', '120', '160', '--frames', '8', '16'
        ])
    data = [f'train_dataloader.dataset.datasets.0.dataset.data_root='
            f'{images_root}/']
    rows = dict(round0=base['video_model'])
    variants = [('round1', []),
                ('round1_droploss',
                 ['model.track_head.drop_loss_iou_thr=0.01'])]
    for name, extra in variants:
        st_dir = osp.join(work, f'self_train_{name}')
        steps.run(f'seed {seed}: self-training ({name})', [
            py, 'tools/self_train.py', SELF_TRAIN_CONFIG, '--videos',
            osp.join(train_videos, 'JPEGImages'), '--rounds', '1',
            '--work-dir', st_dir, '--checkpoint', ckpt, '--eval-videos',
            test_root, '--device', 'cpu', '--cfg-options'
        ] + data + _schedule(args.st_iters, seed) + extra)
        with open(osp.join(st_dir, 'summary.json')) as f:
            summary = json.load(f)
        rows[name] = summary['rounds'][0]['metrics']
        rows[f'{name}_pseudo'] = summary['rounds'][0]['pseudo_stats']
    # control: as many iterations on ImageCut2Video clips alone
    cont = osp.join(work, 'continue')
    steps.run(f'seed {seed}: control, ImageCut2Video only', [
        py, 'tools/train.py', TRAIN_CONFIG, '--work-dir', cont,
        '--cfg-options', f'load_from={ckpt}',
        'optim_wrapper.optimizer.lr=1e-4',
        f'train_dataloader.dataset.dataset.data_root={images_root}/',
        f'test_dataloader.dataset.data_root={test_root}/'
    ] + _schedule(args.st_iters, seed))
    steps.run(f'seed {seed}: test the control', [
        py, 'tools/test.py', TRAIN_CONFIG,
        osp.join(cont, f'iter_{args.st_iters}.pth'), '--work-dir',
        osp.join(cont, 'test'), '--cfg-options',
        f'test_dataloader.dataset.data_root={test_root}/'
    ])
    rows['control'] = latest_metrics(osp.join(cont, 'test'))
    with open(cache, 'w') as f:
        json.dump(rows, f, indent=1)
    return rows


def _mean_std(values):
    values = np.asarray(values, np.float64)
    std = values.std(ddof=1) if len(values) > 1 else float('nan')
    return values.mean(), std


def self_train_table(args, per_seed):
    """Step 10: the table (str)."""
    seeds = sorted(per_seed)
    names = [('round0', f'round 0: quickstart model ({args.iters} it)'),
             ('control', f'+{args.st_iters} it ImageCut2Video only'),
             ('round1', f'round 1: +{args.st_iters} it self-trained'),
             ('round1_droploss', 'round 1 + DropLoss (IoU 0.01)')]
    n = len(seeds)
    lines = [
        '', f'=== self-training on generated data: {n} seeds {seeds}, '
        f'{args.num_videos} test videos (seed+1), {args.num_train_videos} '
        'unlabeled training videos (seed+1000)', '',
        '% on the test videos, mean +- sample std over seeds '
        '(per-seed values in brackets)',
        f'{"model":<40s}' + ''.join(f'{m:>22s}' for m, _ in METRICS)
    ]
    values = {}
    for key, label in names:
        cells = ''
        for metric, mkey in METRICS:
            v = [100 * pick(per_seed[s][key], mkey) for s in seeds]
            values[key, metric] = v
            mean, std = _mean_std(v)
            cells += f'{mean:8.1f} +-{std:4.1f} '.rjust(14) + \
                ('[' + ' '.join(f'{x:.1f}' for x in v) + ']').rjust(8)
        lines.append(f'{label:<40s}{cells}')
    lines += ['', 'gain vs round 0, paired by seed (mean +- std); "real" '
              'only if |mean gain| exceeds the larger spread of the two '
              'rows:']
    for key, label in names[1:]:
        cells = []
        for metric, _ in METRICS:
            gain = np.subtract(values[key, metric], values['round0', metric])
            mean, std = _mean_std(gain)
            spread = max(_mean_std(values[key, metric])[1],
                         _mean_std(values['round0', metric])[1])
            verdict = 'real' if abs(mean) > spread else 'within spread'
            cells.append(f'{metric} {mean:+.1f} +-{std:.1f} ({verdict})')
        lines.append(f'  {label}: ' + '; '.join(cells))
    lines += ['', 'pseudo-labels kept (tracks kept / tracked, per seed): ' +
              ', '.join(f'{per_seed[s]["round1_pseudo"]["kept"]}/'
                        f'{per_seed[s]["round1_pseudo"]["tracks"]}'
                        for s in seeds)]
    return '\n'.join(lines)


def self_train_main(args):
    seeds = args.seeds if args.seeds else [args.seed]
    steps = Steps()
    per_seed = {s: self_train_seed(args, s, steps) for s in seeds}
    table = self_train_table(args, per_seed)
    print(table)
    outs = [osp.join(osp.abspath(args.work_dir), 'self_train_table.txt')]
    if args.table_out:
        outs.append(args.table_out)
    for out in outs:
        with open(out, 'w') as f:
            f.write(table + '\n')
    return per_seed


if __name__ == '__main__':
    main()
