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
results the mask areas), ``mask_areas`` ((T,) int64 per-frame mask
areas, 0 where absent) and ``rle_rows`` ((T,) int64 rows of the API's
``rle_table``, -1 where absent: the masks' strings, areas and extents in
one buffer, :class:`.rle_table.RLETable`, for the compiled video IoU).
Files read by the compiled readers (:mod:`.ytvis_files`) hold their
``segmentations`` as :class:`.rle_table.TrackRLEs` (the same RLE dicts,
built on access). Bad input raises :class:`vcl_mm.utils.InputError`
naming the annotation or result and frame, where the official code
asserts, prints, silently truncates or scores undefined pixels.
numpy + pycocotools (+ numba).
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
from .rle_json import resolve_counts
from .rle_table import HAVE_NUMBA, RLETable, TrackRLEs
from .ytvis_files import (ResultsFile, load_json, result_areas,
                          scanned_result_anns)

__all__ = ['load_json', 'ResultsFile', 'CheckedYTVIS']


def _measure(tracks, own):
    """Runs' totals and areas of the present RLEs of ``tracks`` (track by
    track, frame by frame), and with numba the :class:`.rle_table.RLETable`
    of their strings (row k: the k-th present RLE) with its extents, in
    one compiled pass (numpy + pycocotools without numba). When the RLE
    dicts are ``own`` (read from a file here), str counts become bytes on
    the way (encoded once here, not at every IoU)."""
    present = [r for rles in tracks for r in rles if r is not None]
    counts = [r['counts'] for r in present]
    if not HAVE_NUMBA:
        totals = rle_run_totals(counts)
        ok = np.flatnonzero(totals >= 0)
        areas = np.zeros(len(present), np.int64)
        areas[ok] = rle_areas([present[k] for k in ok.tolist()])
        return totals, areas, None
    table, bad = RLETable.from_counts(counts)
    table.measure()
    table.totals[bad] = -1
    if own:
        for r, c in zip(present, table.all_counts()):
            r['counts'] = c
    return table.totals, table.areas, table


def _rows(tracks):
    """Per track, (T,) int64 rows of the :func:`_measure` table (-1 where
    absent)."""
    lens = [len(rles) for rles in tracks]
    here = np.fromiter((r is not None for rles in tracks for r in rles),
                       bool, sum(lens))
    rows = np.full(len(here), -1, np.int64)
    rows[here] = np.arange(np.count_nonzero(here))
    return np.split(rows, np.cumsum(lens)[:-1]) if tracks else []


def _video_length(video):
    if 'length' in video:
        return int(video['length'])
    if 'file_names' in video:
        return len(video['file_names'])
    return None


def _table_rows(segs, size):
    """The table rows of one track's frames (:func:`.rle_json.
    scan_rle_json` left each counts list as its row), -1 where null; None
    unless every frame is null or ``{"size": size, "counts": row}``."""
    rows = []
    for seg in segs:
        if seg is None:
            rows.append(-1)
        elif (type(seg) is dict and len(seg) == 2
              and type(seg.get('counts')) is int
              and seg.get('size') == size):
            rows.append(seg['counts'])
        else:
            return None
    return rows


def _mean_areas(values):
    """:func:`.masks.mean_area` of each list of ``values``, in a few numpy
    calls when all are ints or None (exact: integer sums below 2^53, as
    numpy's mean), else one call per list."""
    kinds = {type(a) for vals in values for a in vals}
    lens = np.fromiter(map(len, values), np.int64, len(values))
    if not kinds <= {int, type(None)}:
        return [mean_area(vals) for vals in values]
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
        #: :class:`.rle_table.RLETable` of the masks (None without numba);
        #: each annotation's ``rle_rows`` ((T,) int64, -1 where absent)
        #: index it
        self.rle_table = None
        if annotation_file is not None:
            gt, table = load_json(annotation_file, 'ground-truth JSON', True)
            self.dataset = self._checked_gt(
                gt, isinstance(annotation_file, (str, os.PathLike)), table)
            self.createIndex()

    def createIndex(self):
        """The official index, without its progress prints."""
        with contextlib.redirect_stdout(io.StringIO()):
            super().createIndex()

    def _checked_gt(self, gt, own, table=None):
        """The checked ground truth; with the ``table`` of
        :func:`.rle_json.scan_rle_json` (``gt``'s counts are its rows),
        the masks become :class:`.rle_table.TrackRLEs` of it when every
        frame is a plain RLE of the video size or null and the runs cover
        the frames; else the counts are resolved and checked one by one."""
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
        parsed, fast = [], table is not None
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
            if fast:
                rows = _table_rows(segs, [video['height'], video['width']])
                if rows is not None:
                    parsed.append((ann, rows, video))
                    continue
                fast = False
                resolve_counts(gt, table)
                return self._checked_gt(gt, own)
            parsed.append((ann,
                           segs_to_rles(segs, video['height'],
                                        video['width'], where), where))
        if fast:
            anns = self._table_anns(parsed, table)
            if anns is None:  # runs not covering a frame: name it
                resolve_counts(gt, table)
                return self._checked_gt(gt, own)
            self.lengths = {k: v['length'] for k, v in videos.items()}
            return dict(gt, annotations=anns)
        tracks = [rles for _, rles, _ in parsed]
        totals, flat, self.rle_table = _measure(tracks, own)
        check_rle_runs(tracks, [where for _, _, where in parsed], totals, [
            videos[ann['video_id']]['height'] *
            videos[ann['video_id']]['width'] for ann, _, _ in parsed
        ])
        anns = []
        for (ann, rles, _), areas, rows in zip(parsed,
                                               track_areas(tracks, flat),
                                               _rows(tracks)):
            json_areas = ann.get('areas')
            ann = dict(ann, segmentations=rles, mask_areas=areas,
                       rle_rows=rows)
            ann['avg_area'] = mean_area(
                json_areas if json_areas is not None else areas.tolist())
            anns.append(ann)
        self.lengths = {k: v['length'] for k, v in videos.items()}
        return dict(gt, annotations=anns)

    def _table_anns(self, parsed, table):
        """Ground-truth annotations with TrackRLEs of ``table``; None
        unless the rows are the table's, in order, and the runs cover
        every frame."""
        if not parsed:
            return None
        lens = [len(rows) for _, rows, _ in parsed]
        rows = np.fromiter((r for _, rs, _ in parsed for r in rs), np.int64,
                           sum(lens))
        here = rows >= 0
        if not np.array_equal(rows[here], np.arange(len(table))):
            return None
        pixels = np.repeat([v['height'] * v['width'] for _, _, v in parsed],
                           lens)
        if not np.array_equal(table.totals, pixels[here]):
            return None
        every = np.where(here, table.areas[np.maximum(rows, 0)], 0)
        self.rle_table = table
        anns = []
        cuts = np.cumsum(lens)[:-1]
        split = np.split(every, cuts)
        avg = _mean_areas([
            ann['areas'] if ann.get('areas') is not None else a.tolist()
            for (ann, _, _), a in zip(parsed, split)
        ])
        for (ann, _, video), r, areas, mean in zip(parsed,
                                                   np.split(rows, cuts),
                                                   split, avg):
            ann = dict(
                ann,
                segmentations=TrackRLEs(table, r, video['height'],
                                        video['width']),
                mask_areas=areas,
                rle_rows=r,
                avg_area=mean)
            anns.append(ann)
        return anns

    def loadRes(self, resFile):
        """Results (path, :class:`ResultsFile` or list) as a result API
        object, checked.

        As the official ``loadRes``: ids are the 1-based positions in the
        file, ``areas`` the per-frame mask areas (None where absent),
        ``iscrowd`` 0; ``bboxes`` are not computed (the mask evaluation
        does not use them). A scanned :class:`ResultsFile` is checked on
        its arrays (:meth:`_scanned_anns`); ``segmentations`` are then
        :class:`.rle_table.TrackRLEs` (the same RLE dicts, built on
        access).
        """
        if isinstance(resFile, ResultsFile):
            found = scanned_result_anns(resFile.scanned, resFile.table, self)
            if found is not None:
                return self._result_api(*found)
            results, own = resFile.data, True
        else:
            results = load_json(resFile, 'results JSON')
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
        totals, flat, table = _measure(tracks, own)
        check_rle_runs(
            tracks,
            [f'result {i} (video {res["video_id"]})' for i, res, _ in parsed],
            totals, [
                int(self.vids[res['video_id']]['height']) *
                int(self.vids[res['video_id']]['width'])
                for _, res, _ in parsed
            ])
        lens = np.fromiter(map(len, tracks), np.int64, len(tracks))
        here = np.fromiter((r is not None for rles in tracks for r in rles),
                           bool, int(lens.sum()))
        anns = []
        for (i, res, rles), areas, per_frame, avg, rows in zip(
                parsed, *result_areas(lens, here, flat), _rows(tracks)):
            anns.append(
                dict(
                    res,
                    segmentations=rles,
                    score=float(res['score']),
                    id=i + 1,
                    iscrowd=0,
                    areas=per_frame,
                    avg_area=avg,
                    mask_areas=areas,
                    rle_rows=rows))
        return self._result_api(anns, table)

    def _result_api(self, anns, table):
        out = CheckedYTVIS()
        out.lengths = self.lengths
        out.rle_table = table
        out.dataset = dict(
            videos=list(self.dataset['videos']),
            categories=list(self.dataset.get('categories', [])),
            annotations=anns)
        out.createIndex()
        return out
