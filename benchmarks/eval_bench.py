"""Evaluation speed, exactness and memory: ours vs the official designs.

On generated data (moving ellipses entering/leaving the frame, S/M/L
sizes, crowd ground truth, score ties; predictions = perturbed ground truth,
duplicates and false positives), measured side by side in one run:

* YouTube-VIS (default 300 videos x 10-36 frames at 720x1280, the usual
  YouTube-VIS size, 10 predictions each): ``evaluate_ytvis`` vs the
  official code (mmdet's copy of YTVOS/YTVOSeval: ``YTVIS``, ``loadRes``,
  ``YTVISeval``, loaded by ``api_wrappers.mmdet_ytvis`` without importing
  mmdet) in both class-agnostic and class-aware modes, split into the load
  stage (parsing, RLE conversion, areas) and the evaluation stage (video
  IoU, matching, accumulation); the 12 statistics must be bit-identical.
  Target: >= 10x faster.
* YouTube-VIS whole command (``--command-videos 2238``, the size of
  YouTube-VIS-2019 train, ~480 MB of JSON): the two JSON files are written
  to disk, then each evaluator runs as its own process from the command
  line, timed wall-clock (start, imports, reading the files, evaluating):
  ``tools/analysis_tools/eval_ytvis.py GT RES --class-agnostic`` vs the official
  API code path (``YTVIS(gt)``, ``loadRes``, ``YTVISeval`` with
  ``useCats=0``, ``evaluate``/``accumulate``/``summarize``) on the
  unmodified official classes as mmdet ships them (loaded from mmdet's
  files without importing mmdet, as the standalone official package
  imports no torch; ``np.float`` restored for numpy >= 1.24). The 12
  statistics must be identical. Target: >= 10x.
* DAVIS unsupervised (default 6 sequences x 30 frames at 480x854, 3
  objects, 10 proposals, void pixels): the streaming evaluator
  (``evaluate_davis_folder``) vs the official per-frame design
  (``davis_reference.davis_reference``), each in its own process for peak
  memory (ru_maxrss; the increment over the process after imports is
  reported too). Target: >= 3x faster, ours < 1 GB whatever the number of
  sequences.

Usage::

    python benchmarks/eval_bench.py [--videos 300] [--davis-seqs 6]
        [--davis-frames 30] [--skip-ytvis] [--skip-davis]
        [--command-videos 2238 [--work-dir DIR] [--keep-files DIR]]
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
from pycocotools import mask as mask_utils

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)

# --------------------------------------------------------------------------
# generated cases
# --------------------------------------------------------------------------


def ellipse_rle(h, w, cy, cx, ry, rx):
    """Uncompressed RLE (column-major counts) of a filled ellipse.

    Built from the per-column run [y0, y1) of the ellipse, so no (h, w)
    array is rendered. Returns None when the ellipse misses the frame.
    """
    xs = np.arange(w)
    dx = (xs - cx) / max(rx, 1e-6)
    inside = np.abs(dx) <= 1
    if not inside.any():
        return None
    half = ry * np.sqrt(np.clip(1 - dx[inside]**2, 0, None))
    y0 = np.clip(np.ceil(cy - half), 0, h).astype(np.int64)
    y1 = np.clip(np.floor(cy + half) + 1, 0, h).astype(np.int64)
    cols = xs[inside]
    keep = y1 > y0
    if not keep.any():
        return None
    starts = cols[keep] * h + y0[keep]
    ends = cols[keep] * h + y1[keep]
    # merge runs that touch across columns
    cut = np.flatnonzero(starts[1:] != ends[:-1])
    starts = np.r_[starts[0], starts[1:][cut]]
    ends = np.r_[ends[:-1][cut], ends[-1]]
    counts = np.empty(2 * len(starts) + 1, np.int64)
    counts[0] = starts[0]
    counts[1::2] = ends - starts
    counts[2:-1:2] = starts[1:] - ends[:-1]
    counts[-1] = h * w - ends[-1]
    return dict(counts=counts.tolist(), size=[h, w])


def _compress(rle):
    out = mask_utils.frPyObjects(rle, *rle['size'])
    out['counts'] = out['counts'].decode('ascii')
    return out


def _object_path(rng, h, w, T):
    """Per-frame ellipse parameters (cy, cx, ry, rx) of a moving object.

    Sizes relative to a 720-pixel-high frame: mean areas fall in the S, M
    and L buckets (< 128^2, 128^2-256^2, > 256^2).
    """
    size = rng.choice(['s', 'm', 'l'], p=[0.3, 0.35, 0.35])
    lo, hi = {'s': (15, 60), 'm': (85, 140), 'l': (170, 330)}[size]
    scale = h / 720.
    ry = rng.uniform(lo, hi) * rng.uniform(0.6, 1.0) * scale
    rx = rng.uniform(lo, hi) * scale
    cy, cx = rng.uniform(0, h), rng.uniform(-0.2 * w, 1.2 * w)
    vy, vx = rng.normal(0, 4) * scale, rng.normal(0, 10) * scale
    growth = rng.uniform(0.98, 1.02)
    return [(cy + vy * t, cx + vx * t, ry * growth**t, rx * growth**t)
            for t in range(T)]


def make_ytvis_case(seed=0,
                    num_videos=300,
                    frames=(10, 36),
                    size=(720, 1280),
                    preds=10,
                    objects=(0, 5)):
    """Official-format ground truth and results.

    Returns:
        tuple: (gt dict, results list); ground truth as uncompressed RLE
        (as the official files), results as compressed RLE.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    gt = dict(
        videos=[],
        annotations=[],
        categories=[dict(id=c, name=f'c{c}') for c in (1, 2, 3)])
    results = []
    for v in range(num_videos):
        vid = v + 1
        T = int(rng.integers(frames[0], frames[1] + 1))
        gt['videos'].append(
            dict(
                id=vid,
                height=h,
                width=w,
                length=T,
                file_names=[f'{vid}/{t:05d}.jpg' for t in range(T)]))
        paths = []
        for _ in range(int(rng.integers(objects[0], objects[1] + 1))):
            path = _object_path(rng, h, w, T)
            segs = [ellipse_rle(h, w, *p) for p in path]
            if rng.random() < 0.15:  # occluded for a while
                a = int(rng.integers(0, T))
                for t in range(a, min(T, a + int(rng.integers(1, 6)))):
                    segs[t] = None
            if all(s is None for s in segs):
                continue
            areas = [
                None if s is None else float(mask_utils.area(_compress(s)))
                for s in segs
            ]
            gt['annotations'].append(
                dict(
                    id=len(gt['annotations']) + 1,
                    video_id=vid,
                    category_id=int(rng.integers(1, 4)),
                    iscrowd=int(rng.random() < 0.05),
                    segmentations=segs,
                    areas=areas,
                    bboxes=[None] * T,
                    height=h,
                    width=w,
                    length=T))
            paths.append((path, segs, gt['annotations'][-1]['category_id']))
        for _ in range(preds):
            r = rng.random()
            if paths and r < 0.7:  # a perturbed ground-truth track
                path, segs, cat = paths[int(rng.integers(len(paths)))]
                jit = rng.normal(
                    0, [2, 2, 0.05, 0.05], size=4) * rng.uniform(0.2, 3)
                out = []
                for t, (cy, cx, ry, rx) in enumerate(path):
                    if segs[t] is None and rng.random() < 0.8:
                        out.append(None)
                        continue
                    rle = ellipse_rle(h, w, cy + jit[0] * ry / 10,
                                      cx + jit[1] * rx / 10, ry * (1 + jit[2]),
                                      rx * (1 + jit[3]))
                    out.append(None if rle is None else _compress(rle))
                if rng.random() < 0.1:
                    cat = int(rng.integers(1, 4))
            else:  # a false positive
                path = _object_path(rng, h, w, T)
                out = []
                for p in path:
                    rle = ellipse_rle(h, w, *p)
                    out.append(None if rle is None else _compress(rle))
                cat = int(rng.integers(1, 4))
            results.append(
                dict(
                    video_id=vid,
                    score=round(float(rng.random()), 2),
                    category_id=cat,
                    segmentations=out))
    return gt, results


def _draw(label, value, cy, cx, ry, rx):
    cv2.ellipse(label, (int(round(cx)), int(round(cy))),
                (max(int(rx), 1), max(int(ry), 1)), 0, 0, 360, int(value), -1)


def make_davis_case(root,
                    seed=0,
                    num_seqs=6,
                    frames=30,
                    size=(480, 854),
                    objects=3,
                    proposals=10):
    """Write DAVIS-layout ground truth and indexed-PNG results.

    Layout: ``<root>/gt/<seq>/<frame>.png`` (palette, 255 = void rim around
    objects) and ``<root>/res/<seq>/<frame>.png`` (proposals 1..P).

    Returns:
        tuple: (gt dir, results dir, sequence names).
    """
    from PIL import Image
    sys.path.insert(0, ROOT)
    from vcl_mm.datasets.api_wrappers.davis_format import davis_palette
    palette = davis_palette()
    rng = np.random.default_rng(seed)
    h, w = size
    names = [f'seq{i:03d}' for i in range(num_seqs)]
    for seq in names:
        objs = []
        for k in range(objects):
            cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
            ry, rx = rng.uniform(30, 140), rng.uniform(30, 200)
            v = rng.normal(0, 3, 2)
            objs.append((cy, cx, ry, rx, v))
        props = []
        for p in range(proposals):
            if p < objects + 2:
                cy, cx, ry, rx, v = objs[p % objects]
                j = rng.normal(0, 1, 4) * [6, 6, 0.1, 0.1] * (1 + p // objects)
                props.append((cy + j[0], cx + j[1], ry * (1 + j[2]),
                              rx * (1 + j[3]), v + rng.normal(0, 0.5, 2)))
            else:
                props.append(
                    (rng.uniform(0, h), rng.uniform(0, w), rng.uniform(10, 80),
                     rng.uniform(10, 80), rng.normal(0, 3, 2)))
        for sub in ('gt', 'res'):
            os.makedirs(osp.join(root, sub, seq), exist_ok=True)
        for t in range(frames):
            gt = np.zeros((h, w), np.uint8)
            for k, (cy, cx, ry, rx, v) in enumerate(objs):
                _draw(gt, 255, cy + v[0] * t, cx + v[1] * t, ry + 3, rx + 3)
                _draw(gt, k + 1, cy + v[0] * t, cx + v[1] * t, ry, rx)
            res = np.zeros((h, w), np.uint8)
            for k in range(len(props) - 1, -1, -1):
                cy, cx, ry, rx, v = props[k]
                _draw(res, k + 1, cy + v[0] * t, cx + v[1] * t, ry, rx)
            for sub, lab in (('gt', gt), ('res', res)):
                img = Image.fromarray(lab, mode='P')
                img.putpalette(palette)
                img.save(osp.join(root, sub, seq, f'{t:05d}.png'))
    return osp.join(root, 'gt'), osp.join(root, 'res'), names


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------


def _rss_mb():
    """Peak resident memory of this process (VmHWM; ru_maxrss would carry
    the parent's peak over fork/exec)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024.
    raise RuntimeError('no VmHWM in /proc/self/status')


def _current_rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _davis_child(which, gt_dir, res_dir, names):
    """Run one DAVIS evaluator in this process; print JSON stats."""
    sys.path.insert(0, ROOT)
    sys.path.insert(0, HERE)
    if which == 'ours':
        from vcl_mm.evaluation.functional.davis_folder import \
            evaluate_davis_folder
    else:
        from davis_reference import davis_reference
    base = _current_rss_mb()
    start = time.perf_counter()
    if which == 'ours':
        out = evaluate_davis_folder(
            osp.dirname(gt_dir), res_dir, ann_dir=gt_dir, sequences=names)
        out = {k: out[k] for k in out if k[0] in 'JF'}
    else:
        out = davis_reference(gt_dir, res_dir, names)
        out = {k: float(v) for k, v in out.items()}
    sec = time.perf_counter() - start
    print(
        json.dumps(
            dict(stats=out, seconds=sec, peak_mb=_rss_mb(), base_mb=base)))


def _run_child(which, gt_dir, res_dir, names):
    cmd = [
        sys.executable, __file__, '--child', which, gt_dir, res_dir,
        ','.join(names)
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ours_ytvis(gt, results, agnostic):
    """Our evaluation split into stages; returns (stats, timings)."""
    from vcl_mm.datasets.api_wrappers.ytvis_api import CheckedYTVIS
    from vcl_mm.evaluation.functional import FastYTVISeval
    t0 = time.perf_counter()
    g = CheckedYTVIS(gt)
    d = g.loadRes(results)
    t1 = time.perf_counter()
    ev = FastYTVISeval(g, d, use_cats=not agnostic)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    stats = ev.stats_dict()
    t2 = time.perf_counter()
    return stats, dict(load=t1 - t0, eval=t2 - t1)


def _official_ytvis(gt, results, agnostic):
    """The official code (mmdet's YTVIS + YTVISeval) on copies of the
    inputs (it edits them), split into stages; returns (stats, timings)."""
    import contextlib
    import copy
    import io

    from vcl_mm.datasets.api_wrappers.mmdet_ytvis import YTVIS, YTVISeval
    gt, results = copy.deepcopy(gt), copy.deepcopy(results)
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        g = YTVIS(gt)
        d = g.loadRes(results)
        t1 = time.perf_counter()
        ev = YTVISeval(g, d, 'segm')
        ev.params.useCats = int(not agnostic)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        t2 = time.perf_counter()
    return np.asarray(ev.stats), dict(load=t1 - t0, eval=t2 - t1)


def bench_ytvis(num_videos):
    sys.path.insert(0, ROOT)
    from vcl_mm.evaluation.functional.ytvis_eval import (STAT_NAMES,
                                                         evaluate_ytvis)
    t = time.perf_counter()
    gt, results = make_ytvis_case(0, num_videos)
    n_frames = sum(v['length'] for v in gt['videos'])
    print(f'YouTube-VIS case: {num_videos} videos, {n_frames} frames at '
          f'720x1280, {len(gt["annotations"])} ground-truth tracks, '
          f'{len(results)} predictions (generated in '
          f'{time.perf_counter() - t:.1f} s)')
    print('  stages: load = parse ground truth and results (RLE conversion,'
          ' areas); eval = video IoU + matching + accumulate/summarize')
    rows = []
    for agnostic in (True, False):
        stats, ours_t = _ours_ytvis(gt, results, agnostic)
        ref, ref_t = _official_ytvis(gt, results, agnostic)
        vals = np.array([stats[k] for k in STAT_NAMES])
        same = np.array_equal(vals, ref)
        # the one-call API gives the same numbers
        same &= np.array_equal(
            vals,
            np.array([
                evaluate_ytvis(gt, results, class_agnostic=agnostic)[k]
                for k in STAT_NAMES
            ]))
        mode = 'class-agnostic' if agnostic else 'class-aware'
        tot_r = ref_t['load'] + ref_t['eval']
        tot_o = ours_t['load'] + ours_t['eval']
        rows.append((mode, ref_t, ours_t, same))
        print(f'  {mode:<15} eval: official code {ref_t["eval"]:6.2f} s, '
              f'ours {ours_t["eval"]:5.2f} s, '
              f'{ref_t["eval"] / ours_t["eval"]:5.1f}x | load: '
              f'{ref_t["load"]:5.2f} s vs {ours_t["load"]:5.2f} s | total: '
              f'{tot_r:6.2f} s vs {tot_o:5.2f} s, {tot_r / tot_o:4.1f}x | '
              f'12 stats identical: {same}')
        print('    ' + '  '.join(f'{k}={v:.4f}'
                                 for k, v in zip(STAT_NAMES, vals)))
        if not same:
            print('    official: ' + '  '.join(f'{v:.6f}' for v in ref))
    return rows


_OFFICIAL_CMD = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from vcl_mm.datasets.api_wrappers.mmdet_ytvis import mmdet_ytvis_module
YTVIS = mmdet_ytvis_module('ytvis').YTVIS
YTVISeval = mmdet_ytvis_module('ytviseval').YTVISeval
gt = YTVIS({gt!r})
dt = gt.loadRes({res!r})
ev = YTVISeval(gt, dt, 'segm')
ev.params.useCats = 0
ev.evaluate()
ev.accumulate()
ev.summarize()
print('STATS ' + json.dumps([float(v) for v in ev.stats]))
"""


def _vm_hwm_mb(pid):
    """Peak resident set (VmHWM) of a running process, MB; 0 if gone."""
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.


def _timed(cmd):
    """(wall-clock seconds, stdout + stderr, peak RSS in MB) of a child.

    The peak is the child's VmHWM, read every 20 ms while it runs (its
    ``ru_maxrss`` would count this process's pages from before the exec).
    """
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT)
        peak = 0.
        while proc.poll() is None:
            peak = max(peak, _vm_hwm_mb(proc.pid))
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        log.seek(0)
        out = log.read().decode()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out)
    return seconds, out, peak


def _command_files(folder, num_videos):
    """Write the generated case of ``num_videos`` videos to ``folder``
    (gt.json, results.json), or reuse it if a run with the same count
    left it there (case.json records the count and the summary line)."""
    gt_path = osp.join(folder, 'gt.json')
    res_path = osp.join(folder, 'results.json')
    case_path = osp.join(folder, 'case.json')
    if osp.isfile(case_path):
        with open(case_path) as f:
            case = json.load(f)
        if (case.get('num_videos') == num_videos and osp.isfile(gt_path)
                and osp.isfile(res_path)):
            return gt_path, res_path, case['summary'] + ' (reused)'
    t = time.perf_counter()
    gt, results = make_ytvis_case(0, num_videos)
    with open(gt_path, 'w') as f:
        json.dump(gt, f)
    with open(res_path, 'w') as f:
        json.dump(results, f)
    n_frames = sum(v['length'] for v in gt['videos'])
    mb = (osp.getsize(gt_path) + osp.getsize(res_path)) / 2**20
    summary = (f'YouTube-VIS whole command: {num_videos} videos, {n_frames} '
               f'frames at 720x1280, {len(gt["annotations"])} ground-truth '
               f'tracks, {len(results)} predictions, {mb:.0f} MB of JSON')
    with open(case_path, 'w') as f:
        json.dump(dict(num_videos=num_videos, summary=summary), f)
    return gt_path, res_path, (
        f'{summary} (generated in {time.perf_counter() - t:.0f} s)')


def bench_ytvis_command(num_videos, work_dir=None, keep_dir=None):
    """Whole command, official API code path vs tools/analysis_tools/eval_ytvis.py
    (each its own process, files on disk; in ``keep_dir`` they are kept
    and reused by the next run with the same number of videos)."""
    from vcl_mm.evaluation.functional import STAT_NAMES
    if keep_dir:
        os.makedirs(keep_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        gt_path, res_path, summary = _command_files(keep_dir or tmp,
                                                    num_videos)
        print(summary)
        load = os.getloadavg()[0]
        official_s, out, official_mb = _timed([
            sys.executable, '-c',
            _OFFICIAL_CMD.format(root=ROOT, gt=gt_path, res=res_path)
        ])
        official = json.loads(out.split('STATS ')[-1].splitlines()[0])
        stats_path = osp.join(tmp, 'stats.json')
        ours_s, _, ours_mb = _timed([
            sys.executable,
            osp.join(ROOT, 'tools', 'analysis_tools', 'eval_ytvis.py'),
            gt_path, res_path, '--class-agnostic', '--out', stats_path
        ])
        with open(stats_path) as f:
            ours = json.load(f)
    same = [ours[k] for k in STAT_NAMES] == official
    print(f'  class-agnostic, wall-clock of the whole command: official API '
          f'{official_s:6.1f} s | ours (tools/analysis_tools/eval_ytvis.py) '
          f'{ours_s:5.1f} s | {official_s / ours_s:4.1f}x | 12 stats '
          f'identical: {same}')
    print(f'    peak RSS (VmHWM sampled every 20 ms): official API '
          f'{official_mb:.0f} MB | ours {ours_mb:.0f} MB')
    print('    ' + '  '.join(f'{k}={ours[k]:.4f}' for k in STAT_NAMES))
    print(f'    1-minute load average before / after the two commands: '
          f'{load:.1f} / {os.getloadavg()[0]:.1f} (on {os.cpu_count()} '
          'CPUs)')
    return official_s, ours_s, same


def bench_davis(num_seqs, frames):
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        gt_dir, res_dir, names = make_davis_case(tmp, 0, num_seqs, frames)
        print(f'DAVIS case: {num_seqs} sequences x {frames} frames at '
              f'480x854, 3 objects, 10 proposals, void rims (generated in '
              f'{time.perf_counter() - t:.1f} s)')
        ref = _run_child('reference', gt_dir, res_dir, names)
        ours = _run_child('ours', gt_dir, res_dir, names)
        # the same sequences 4 times over: streaming memory must not grow
        ours4 = _run_child('ours', gt_dir, res_dir, names * 4)
    same = all(ours['stats'][k] == ref['stats'][k] for k in ref['stats'])
    print(f'  official design {ref["seconds"]:7.2f} s | ours '
          f'{ours["seconds"]:6.2f} s | speed-up '
          f'{ref["seconds"] / ours["seconds"]:5.1f}x | J&F stats identical: '
          f'{same}')
    print(f'  peak RSS (VmHWM): official design {ref["peak_mb"]:.0f} MB '
          f'= {ref["base_mb"]:.0f} MB after imports '
          f'+{ref["peak_mb"] - ref["base_mb"]:.0f} MB evaluating; ours '
          f'{ours["peak_mb"]:.0f} MB = {ours["base_mb"]:.0f} MB after '
          'imports (import vcl_mm loads torch and mmdet) '
          f'+{ours["peak_mb"] - ours["base_mb"]:.0f} MB evaluating; ours on '
          f'{4 * num_seqs} sequences: '
          f'+{ours4["peak_mb"] - ours4["base_mb"]:.0f} MB')
    print('    ' + '  '.join(f'{k}={v:.4f}' for k, v in ours['stats'].items()))
    return ref, ours, same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--videos', type=int, default=300)
    parser.add_argument('--davis-seqs', type=int, default=6)
    parser.add_argument('--davis-frames', type=int, default=30)
    parser.add_argument('--skip-ytvis', action='store_true')
    parser.add_argument('--skip-davis', action='store_true')
    parser.add_argument(
        '--command-videos',
        type=int,
        default=0,
        help='also time the whole YouTube-VIS command at this many videos '
        '(2238 = YouTube-VIS-2019 train)')
    parser.add_argument('--work-dir', help='where to write its JSON files')
    parser.add_argument(
        '--keep-files',
        metavar='DIR',
        help='write the whole-command JSON files to DIR and keep them; a '
        'later run with the same --command-videos reuses them')
    parser.add_argument('--child', nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        which, gt_dir, res_dir, names = args.child
        _davis_child(which, gt_dir, res_dir, names.split(','))
        return
    if not args.skip_ytvis:
        bench_ytvis(args.videos)
    if not args.skip_davis:
        bench_davis(args.davis_seqs, args.davis_frames)
    if args.command_videos:
        bench_ytvis_command(args.command_videos, args.work_dir,
                            args.keep_files)


if __name__ == '__main__':
    main()
