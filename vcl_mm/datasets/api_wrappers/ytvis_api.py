"""The YouTube-VIS JSON format, read into mmdet's ``YTVIS`` API, checked.

Ground truth (official layout): ``videos`` (``id``, ``height``, ``width``,
``length`` or ``file_names``), ``annotations`` (``id``, ``video_id``,
``category_id``, ``segmentations`` one per frame, ``areas``, ``iscrowd``),
``categories``. Results: a list of ``{video_id, score, category_id,
segmentations}`` with one compressed RLE (or null) per frame.

:class:`CheckedYTVIS` is mmdet's (= the official) ``YTVIS`` with a loader
that checks its input and converts and measures every mask of a file in a
few vectorised calls. After loading, each annotation holds
``segmentations`` as compressed RLEs (the official API converts them later,
in ``YTVISeval._prepare``), ``avg_area`` (the official mean of the truthy
per-frame areas: the JSON ``areas`` of the ground truth, else and for
results the mask areas) and ``mask_areas`` ((T,) int64 per-frame mask
areas, 0 where absent). Bad input raises :class:`vcl_mm.utils.InputError`
naming the annotation or result and frame, where the official code
asserts, prints, silently truncates or scores undefined pixels.
numpy + pycocotools only.
"""
import contextlib
import io
import math
import os

import numpy as np

from vcl_mm.utils.errors import InputError
from .masks import (check_rle_runs, mean_area, rle_areas, rle_run_totals,
                    segs_to_rles, track_areas)
from .mmdet_ytvis import YTVIS
from .rle_json import load_rle_json, rle_string_stats

__all__ = ['load_json', 'ResultsFile', 'CheckedYTVIS']


def load_json(obj, what='JSON file', known=None):
    """Return ``obj`` parsed from JSON if it is a path, else ``obj``.

    Args:
        known (dict, optional): filled with ``index`` (id(rle dict) ->
            row) and ``table`` (:class:`.rle_json.RLETable`: runs' totals
            and areas by row) for the RLEs whose counts
            :func:`.rle_json.load_rle_json` read and measured.
    """
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.isfile(path):
            raise InputError(f'{what} not found: {path}')
        try:
            data, table, index = load_rle_json(path)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f'{what} {path} is not valid JSON: {e}')
        if known is not None and table is not None:
            known.update(index=index, table=table)
        return data
    return obj


class ResultsFile:
    """A results JSON file, parsed (not checked): for
    :meth:`CheckedYTVIS.loadRes`, so that the parsing can run while the
    ground truth loads (its scan releases the GIL).

    Args:
        path (str): the results JSON.
    """

    def __init__(self, path):
        self.known = {}
        self.data = load_json(path, 'results JSON', self.known)


def _measure(tracks, known, own):
    """Runs' totals and areas of the present RLEs of ``tracks`` (track by
    track, frame by frame): from ``known``, else in one compiled pass over
    the strings (numpy + pycocotools without numba). When the RLE dicts
    are ``own`` (read from a file here), str counts become bytes on the way
    (encoded once here, not at every IoU)."""
    present = [r for rles in tracks for r in rles if r is not None]
    n = len(present)
    totals, areas = np.zeros(n, np.int64), np.zeros(n, np.int64)
    if known:
        index, table = known['index'], known['table']
        rows = np.fromiter((index.get(id(r), -1) for r in present),
                           np.int64, n)
        hit = rows >= 0
        totals[hit] = table.totals[rows[hit]]
        areas[hit] = table.areas[rows[hit]]
        todo = np.flatnonzero(~hit).tolist()
    else:
        todo = range(n)
    if not len(todo):
        return totals, areas
    counts = [present[k]['counts'] for k in todo]
    stats = rle_string_stats(counts)
    if stats is None:  # no numba
        t = rle_run_totals(counts)
        ok = [k for k, v in zip(todo, t) if v >= 0]
        totals[todo] = t
        areas[ok] = rle_areas([present[k] for k in ok])
        return totals, areas
    totals[todo], areas[todo], encoded = stats
    if own:
        for k, c in zip(todo, encoded):
            present[k]['counts'] = c
    return totals, areas


def _result_areas(tracks, flat):
    """Per track: (T,) int64 mask areas (0 where absent), the official
    per-frame ``areas`` (None where absent) and :func:`.masks.mean_area`
    of them, for all tracks at once (areas are integers, so the mean is
    exactly numpy's)."""
    lens = np.fromiter(map(len, tracks), np.int64, len(tracks))
    here = np.fromiter((r is not None for rles in tracks for r in rles),
                       bool, int(lens.sum()))
    every = np.zeros(len(here), np.int64)
    every[here] = flat
    ends = np.cumsum(lens)
    starts = (ends - lens).tolist()
    owner = np.repeat(np.arange(len(tracks)), lens)
    sums = np.bincount(owner, every, len(tracks))
    nums = np.bincount(owner, every > 0, len(tracks))
    with np.errstate(invalid='ignore', divide='ignore'):
        means = (sums / nums).tolist()
    values = every.tolist()
    mask_areas, per_frame, avg = [], [], []
    for k, rles in enumerate(tracks):
        s, e = starts[k], starts[k] + len(rles)
        mask_areas.append(every[s:e])
        frame = values[s:e]
        if None in rles:
            frame = [None if r is None else a for r, a in zip(rles, frame)]
        per_frame.append(frame)
        avg.append(means[k] if nums[k] else 0)
    return mask_areas, per_frame, avg


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
        if annotation_file is not None:
            known = {}
            self.dataset = self._checked_gt(
                load_json(annotation_file, 'ground-truth JSON', known),
                known, isinstance(annotation_file, (str, os.PathLike)))
            self.createIndex()

    def createIndex(self):
        """The official index, without its progress prints."""
        with contextlib.redirect_stdout(io.StringIO()):
            super().createIndex()

    def _checked_gt(self, gt, known, own):
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
        parsed = []
        for ann in gt.get('annotations', []):
            vid = ann['video_id']
            where = f'ground-truth annotation {ann.get("id")} of video {vid}'
            if vid not in videos:
                raise InputError(f'{where}: unknown video id')
            video = videos[vid]
            segs = ann['segmentations']
            if video['length'] is None:
                video['length'] = len(segs)
            if len(segs) != video['length']:
                raise InputError(f'{where}: {len(segs)} frames, the video '
                                 f'has {video["length"]}')
            parsed.append((ann,
                           segs_to_rles(segs, video['height'],
                                        video['width'], where), where))
        tracks = [rles for _, rles, _ in parsed]
        totals, flat = _measure(tracks, known, own)
        check_rle_runs(tracks, [where for _, _, where in parsed], totals, [
            videos[ann['video_id']]['height'] *
            videos[ann['video_id']]['width'] for ann, _, _ in parsed
        ])
        anns = []
        for (ann, rles, _), areas in zip(parsed, track_areas(tracks, flat)):
            json_areas = ann.get('areas')
            ann = dict(ann, segmentations=rles, mask_areas=areas)
            ann['avg_area'] = mean_area(
                json_areas if json_areas is not None else areas.tolist())
            anns.append(ann)
        self.lengths = {k: v['length'] for k, v in videos.items()}
        return dict(gt, annotations=anns)

    def loadRes(self, resFile):
        """Results (path, :class:`ResultsFile` or list) as a result API
        object, checked.

        As the official ``loadRes``: ids are the 1-based positions in the
        file, ``areas`` the per-frame mask areas (None where absent),
        ``iscrowd`` 0; ``bboxes`` are not computed (the mask evaluation
        does not use them).
        """
        if isinstance(resFile, ResultsFile):
            known, results, own = resFile.known, resFile.data, True
        else:
            known = {}
            results = load_json(resFile, 'results JSON', known)
            own = isinstance(resFile, (str, os.PathLike))
        if not isinstance(results, list):
            raise InputError('results must be a JSON list of '
                             '{video_id, score, category_id, segmentations}')
        if not results:
            raise InputError('the results list is empty: nothing to '
                             'evaluate')
        cats = set(self.cats)
        parsed = []
        for i, res in enumerate(results):
            if not isinstance(res, dict) or 'segmentations' not in res:
                raise InputError(f'result {i}: needs "video_id", "score", '
                                 '"category_id" and "segmentations"')
            vid = res.get('video_id')
            if not _known(vid, self.vids):
                raise InputError(f'result {i}: video id {vid!r} is not in '
                                 'the ground truth')
            video = self.vids[vid]
            length = self.lengths[vid]
            where = f'result {i} (video {vid})'
            for key in ('score', 'category_id'):
                if key not in res:
                    raise InputError(f'{where}: missing "{key}"')
            score = res['score']
            if (isinstance(score, bool)
                    or not isinstance(score, (int, float))
                    or not math.isfinite(score)):
                raise InputError(f'{where}: score {score!r} is not a finite '
                                 'number; write each score as a JSON number '
                                 '(e.g. 0.87)')
            if not _known(res['category_id'], cats):
                raise InputError(f'{where}: category id '
                                 f'{res["category_id"]!r} is not a '
                                 'ground-truth category')
            segs = res['segmentations']
            if not isinstance(segs, list) or len(segs) != length:
                n = (len(segs)
                     if isinstance(segs, list) else type(segs).__name__)
                raise InputError(f'{where}: {n} segmentations for a video '
                                 f'of {length} frames')
            parsed.append((i, res,
                           segs_to_rles(segs, int(video['height']),
                                        int(video['width']), where)))
        tracks = [rles for _, _, rles in parsed]
        totals, flat = _measure(tracks, known, own)
        check_rle_runs(
            tracks,
            [f'result {i} (video {res["video_id"]})' for i, res, _ in parsed],
            totals, [
                int(self.vids[res['video_id']]['height']) *
                int(self.vids[res['video_id']]['width'])
                for _, res, _ in parsed
            ])
        anns = []
        for (i, res, rles), areas, per_frame, avg in zip(
                parsed, *_result_areas(tracks, flat)):
            anns.append(
                dict(
                    res,
                    segmentations=rles,
                    score=float(res['score']),
                    id=i + 1,
                    iscrowd=0,
                    areas=per_frame,
                    avg_area=avg,
                    mask_areas=areas))
        out = CheckedYTVIS()
        out.lengths = self.lengths
        out.dataset = dict(
            videos=list(self.dataset['videos']),
            categories=list(self.dataset.get('categories', [])),
            annotations=anns)
        out.createIndex()
        return out
