"""YouTube-VIS evaluation in one call, and the official summary text.

The protocol is mmdet's official ``YTVISeval`` (:class:`.FastYTVISeval`),
used class-agnostically (``useCats=0``) by VideoCutLER and class-aware by
supervised VIS; the files are read by
:class:`vcl_mm.datasets.api_wrappers.ytvis_api.CheckedYTVIS`. In short:

* a *track* is one object over a whole video: one segmentation per frame,
  absent frames are ``None``;
* video IoU = sum over frames of the intersections / sum over frames of
  the unions; frames where both are absent contribute nothing;
* the S/M/L size of a track is the mean of its truthy per-frame areas
  (ground truth: the JSON ``areas``, else the mask areas; predictions: the
  mask areas), S < 128^2 <= M <= 256^2 < L (bounds inclusive on both sides
  as in COCOeval);
* greedy matching in descending score order (stable for ties) at 10 IoU
  thresholds 0.50:0.05:0.95, 101-point interpolated precision, maxDets
  1/10/100, the 12 standard statistics.
"""
import gc
import os
from concurrent.futures import ThreadPoolExecutor

from vcl_mm.datasets.api_wrappers.ytvis_api import CheckedYTVIS, ResultsFile
from .fast_ytviseval import STAT_NAMES, FastYTVISeval

__all__ = ['STAT_NAMES', 'evaluate_ytvis', 'format_stats']


def evaluate_ytvis(gt, results, class_agnostic=True):
    """Evaluate official-format results against official ground truth.

    Args:
        gt (str | dict | CheckedYTVIS): ground truth (path, content, or an
            already loaded API object).
        results (str | list): results in the official format.
        class_agnostic (bool): ``useCats=0`` (VideoCutLER) or class-aware.

    Returns:
        dict: the 12 statistics (:data:`STAT_NAMES`) as fractions (-1 when
        undefined), plus ``'precision'`` and ``'recall'`` arrays.
    """
    # millions of acyclic JSON objects: the cyclic collector would rescan
    # them again and again while they are built (a quarter of the time)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if isinstance(gt, (str, os.PathLike)) and isinstance(
                results, (str, os.PathLike)):
            gt_api, results = _load_both(gt, results)
        else:
            gt_api = gt if isinstance(gt, CheckedYTVIS) else CheckedYTVIS(gt)
        dt_api = gt_api.loadRes(results)
        ev = FastYTVISeval(gt_api, dt_api, use_cats=not class_agnostic)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        return ev.stats_dict()
    finally:
        if was_enabled:
            gc.enable()


def _load_both(gt_path, results_path):
    """Load the ground truth in a thread while the results file is
    parsed here (the ground truth's scan releases the GIL); a ground-truth
    error is reported first, as when loading one after the other."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(CheckedYTVIS, gt_path)
        try:
            results = ResultsFile(results_path)
        except BaseException:
            future.result()  # raises the ground truth's error, if any
            raise
        return future.result(), results


def format_stats(stats, max_dets=(1, 10, 100), iou_range=(0.5, 0.95)):
    """The official 12-line summary for ``stats`` (see
    :func:`evaluate_ytvis`)."""
    md = max_dets
    rows = [('Precision', '(AP)', None, 'all', md[-1]),
            ('Precision', '(AP)', .5, 'all', md[2]),
            ('Precision', '(AP)', .75, 'all', md[2]),
            ('Precision', '(AP)', None, 'small', md[2]),
            ('Precision', '(AP)', None, 'medium', md[2]),
            ('Precision', '(AP)', None, 'large', md[2]),
            ('Recall', '(AR)', None, 'all', md[0]),
            ('Recall', '(AR)', None, 'all', md[1]),
            ('Recall', '(AR)', None, 'all', md[2]),
            ('Recall', '(AR)', None, 'small', md[2]),
            ('Recall', '(AR)', None, 'medium', md[2]),
            ('Recall', '(AR)', None, 'large', md[2])]
    lines = []
    for name, (kind, short, thr, area, m) in zip(STAT_NAMES, rows):
        iou = (f'{iou_range[0]:0.2f}:{iou_range[1]:0.2f}'
               if thr is None else f'{thr:0.2f}')
        lines.append(f' Average {kind:<10} {short} @[ IoU={iou:<9} | '
                     f'area={area:>6s} | maxDets={m:>3d} ] = '
                     f'{stats[name]:0.3f}')
    return '\n'.join(lines)
