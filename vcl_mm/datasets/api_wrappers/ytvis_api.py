"""The YouTube-VIS JSON format, read into mmdet's ``YTVIS`` API, checked.

Ground truth (official layout): ``videos`` (``id``, ``height``, ``width``,
``length`` or ``file_names``), ``annotations`` (``id``, ``video_id``,
``category_id``, ``segmentations`` one per frame, ``areas``, ``iscrowd``),
``categories``. Results: a list of ``{video_id, score, category_id,
segmentations}`` with one RLE (or null) per frame.

:class:`CheckedYTVIS` is mmdet's (= the official) ``YTVIS`` with a loader
that checks its input and converts and measures every mask of a file in a
few vectorised calls, one path for ground truth and results, files and
in-memory content: every mask becomes a compressed RLE
(:func:`.masks.segs_to_rles`), all of them one
:class:`.rle_table.RLETable`, measured in one compiled pass. After
loading, each annotation holds ``segmentations`` as
:class:`.rle_table.TrackRLEs` (the official list of compressed RLE dicts,
built on access; the official API converts them later, in
``YTVISeval._prepare``), ``avg_area`` (the official mean of the truthy
per-frame areas: the JSON ``areas`` of the ground truth, else and for
results the mask areas), ``mask_areas`` ((T,) int64 per-frame mask areas,
0 where absent) and ``rle_rows`` ((T,) int64 rows of the API's
``rle_table``, -1 where absent, for the compiled video IoU). Bad input
raises :class:`vcl_mm.utils.InputError` naming the annotation or result
and frame, where the official code asserts, prints, silently truncates or
scores undefined pixels.
"""
import contextlib
import io
import json
import math
import os

import numpy as np
from mmdet.evaluation.functional.ytvis import YTVIS

from vcl_mm.utils.errors import InputError
from .masks import check_rle_runs, mean_area, segs_to_rles
from .rle_json import load_rle_json
from .rle_table import RLETable, TrackRLEs

__all__ = ['load_json', 'CheckedYTVIS']


def load_json(obj, what='JSON file'):
    """``obj`` parsed (:func:`.rle_json.load_rle_json`) if it is a path,
    else ``obj``."""
    if not isinstance(obj, (str, os.PathLike)):
        return obj
    path = os.fspath(obj)
    if not os.path.isfile(path):
        raise InputError(f'{what} not found: {path}')
    try:
        return load_rle_json(path)
    except ValueError:  # orjson.JSONDecodeError, UnicodeDecodeError
        pass
    try:  # NaN / Infinity, which Python's json writes: checked later
        with open(path, 'rb') as f:
            return json.load(f)
    except ValueError as e:
        raise InputError(f'{what} {path} is not valid JSON: {e}')


def _track_masks(tracks, sizes, wheres):
    """Checked compressed RLEs of many tracks, measured in one table.

    Args:
        tracks (list[list]): per track, per frame a segmentation (falsy:
            absent).
        sizes (list[tuple]): per track the video's (h, w).
        wheres (list[str]): per track, its name in error messages.

    Returns:
        tuple: the :class:`.rle_table.RLETable` of the present masks
        (track by track, frame by frame), per track the (T,) int64 rows
        (-1 where absent), the (T,) int64 mask areas (0 where absent) and
        the (T,) bool presence.
    """
    rles = [
        segs_to_rles(segs, h, w, where)
        for segs, (h, w), where in zip(tracks, sizes, wheres)
    ]
    lens = np.fromiter(map(len, rles), np.int64, len(rles))
    here = np.fromiter((r is not None for rs in rles for r in rs), bool,
                       int(lens.sum()))
    table, bad = RLETable.from_counts(
        [r['counts'] for rs in rles for r in rs if r is not None])
    table.measure()
    table.totals[bad] = -1
    pixels = [h * w for h, w in sizes]
    if not np.array_equal(table.totals,
                          np.repeat(pixels, lens)[here]):  # name it
        check_rle_runs(rles, wheres, table.totals, pixels)
    rows = np.full(len(here), -1, np.int64)
    rows[here] = np.arange(len(table))
    areas = np.zeros(len(here), np.int64)
    areas[here] = table.areas
    cuts = np.cumsum(lens)[:-1]
    return (table, np.split(rows, cuts), np.split(areas, cuts),
            np.split(here, cuts))


def _mean_areas(values):
    """:func:`.masks.mean_area` of each list of ``values``, in a few numpy
    calls when all are ints or None (exact: integer sums below 2^53, as
    numpy's mean), else one call per list."""
    kinds = {type(a) for vals in values for a in vals}
    if not kinds <= {int, type(None)}:
        return [mean_area(vals) for vals in values]
    lens = np.fromiter(map(len, values), np.int64, len(values))
    try:
        flat = np.array([a or 0 for vals in values for a in vals], np.int64)
    except OverflowError:
        return [mean_area(vals) for vals in values]
    if len(flat) and np.abs(flat).sum(dtype=np.float64) >= 2.**52:
        return [mean_area(vals) for vals in values]
    owner = np.repeat(np.arange(len(values)), lens)
    sums = np.bincount(owner, flat, len(values))
    nums = np.bincount(owner, flat != 0, len(values))
    with np.errstate(invalid='ignore', divide='ignore'):
        means = (sums / nums).tolist()
    return [m if n else 0 for m, n in zip(means, nums.tolist())]


def _video_length(video):
    if 'length' in video:
        return int(video['length'])
    if 'file_names' in video:
        return len(video['file_names'])
    return None


def _known(key, table):
    """``key in table``, False for unhashable keys (a JSON list or dict
    where an id belongs)."""
    try:
        return key in table
    except TypeError:
        return False


class CheckedYTVIS(YTVIS):
    """mmdet's ``YTVIS``, loaded with checks and batched mask conversion.

    Subclassed because the official loader converts and measures masks one
    pycocotools call per frame (in ``loadRes`` and ``YTVISeval._prepare``)
    and checks nothing; indexing and queries are the official ones.

    Args:
        annotation_file (str | dict, optional): path to, or content of, the
            official ground-truth JSON.
    """

    def __init__(self, annotation_file=None):
        with contextlib.redirect_stdout(io.StringIO()):
            super().__init__(None)
        self.lengths = {}
        #: :class:`.rle_table.RLETable` of the masks; each annotation's
        #: ``rle_rows`` ((T,) int64, -1 where absent) index it
        self.rle_table = None
        if annotation_file is not None:
            gt = load_json(annotation_file, 'ground-truth JSON')
            self.dataset = self._checked_gt(gt)
            self.createIndex()

    def createIndex(self):
        """The official index, without its progress prints."""
        with contextlib.redirect_stdout(io.StringIO()):
            super().createIndex()

    def _checked_gt(self, gt):
        if not isinstance(gt, dict) or 'videos' not in gt:
            raise InputError('ground truth must be the official YouTube-VIS'
                             ' JSON (a dict with "videos", "annotations", '
                             '"categories")')
        videos = {}
        for v in gt['videos']:
            videos[v['id']] = dict(
                height=int(v['height']),
                width=int(v['width']),
                length=_video_length(v))
        anns, wheres = list(gt.get('annotations', [])), []
        for ann in anns:
            vid = ann['video_id']
            where = f'ground-truth annotation {ann.get("id")} of video {vid}'
            if vid not in videos:
                raise InputError(f'{where}: unknown video id')
            video, segs = videos[vid], ann['segmentations']
            if video['length'] is None:
                video['length'] = len(segs)
            if len(segs) != video['length']:
                raise InputError(f'{where}: {len(segs)} frames, the video '
                                 f'has {video["length"]}')
            wheres.append(where)
        sizes = [(videos[a['video_id']]['height'],
                  videos[a['video_id']]['width']) for a in anns]
        self.rle_table, rows, areas, _ = _track_masks(
            [a['segmentations'] for a in anns], sizes, wheres)
        avg = _mean_areas([
            a['areas'] if a.get('areas') is not None else m.tolist()
            for a, m in zip(anns, areas)
        ])
        self.lengths = {k: v['length'] for k, v in videos.items()}
        return dict(
            gt,
            annotations=[
                dict(
                    ann,
                    segmentations=TrackRLEs(self.rle_table, r, *size),
                    mask_areas=m,
                    rle_rows=r,
                    avg_area=mean)
                for ann, r, m, mean, size in zip(anns, rows, areas, avg,
                                                 sizes)
            ])

    def _checked_result(self, i, res):
        """(video id, score) of result ``i``, checked but for its masks."""
        if not isinstance(res, dict) or 'segmentations' not in res:
            raise InputError(f'result {i}: needs "video_id", "score", '
                             '"category_id" and "segmentations"')
        vid = res.get('video_id')
        if not _known(vid, self.vids):
            raise InputError(f'result {i}: video id {vid!r} is not in '
                             'the ground truth')
        where = f'result {i} (video {vid})'
        for key in ('score', 'category_id'):
            if key not in res:
                raise InputError(f'{where}: missing "{key}"')
        score = res['score']
        if (isinstance(score, bool) or not isinstance(score, (int, float))
                or not math.isfinite(score)):
            raise InputError(f'{where}: score {score!r} is not a finite '
                             'number; write each score as a JSON number '
                             '(e.g. 0.87)')
        if not _known(res['category_id'], self.cats):
            raise InputError(f'{where}: category id '
                             f'{res["category_id"]!r} is not a '
                             'ground-truth category')
        segs, length = res['segmentations'], self.lengths[vid]
        if not isinstance(segs, list) or len(segs) != length:
            n = len(segs) if isinstance(segs, list) else type(segs).__name__
            raise InputError(f'{where}: {n} segmentations for a video '
                             f'of {length} frames')
        return vid, float(score)

    def loadRes(self, resFile):
        """Results (path or list) as a result API object, checked.

        As the official ``loadRes``: ids are the 1-based positions in the
        file, ``areas`` the per-frame mask areas (None where absent),
        ``iscrowd`` 0; ``bboxes`` are not computed (the mask evaluation
        does not use them).
        """
        results = load_json(resFile, 'results JSON')
        if not isinstance(results, list):
            raise InputError('results must be a JSON list of '
                             '{video_id, score, category_id, segmentations}')
        if not results:
            raise InputError('the results list is empty: nothing to '
                             'evaluate')
        checked = [self._checked_result(i, r) for i, r in enumerate(results)]
        sizes = [(int(self.vids[v]['height']), int(self.vids[v]['width']))
                 for v, _ in checked]
        table, rows, areas, here = _track_masks(
            [r['segmentations'] for r in results], sizes,
            [f'result {i} (video {v})' for i, (v, _) in enumerate(checked)])
        avg = _mean_areas([m.tolist() for m in areas])
        anns = []
        for i, (res, (_, score), r, m, h, mean, size) in enumerate(
                zip(results, checked, rows, areas, here, avg, sizes)):
            per_frame = m.tolist()
            for t in np.flatnonzero(~h).tolist():
                per_frame[t] = None
            anns.append(
                dict(
                    res,
                    segmentations=TrackRLEs(table, r, *size),
                    score=score,
                    id=i + 1,
                    iscrowd=0,
                    areas=per_frame,
                    avg_area=mean,
                    mask_areas=m,
                    rle_rows=r))
        out = CheckedYTVIS()
        out.lengths = self.lengths
        out.rle_table = table
        out.dataset = dict(
            videos=list(self.dataset['videos']),
            categories=list(self.dataset.get('categories', [])),
            annotations=anns)
        out.createIndex()
        return out
