"""mmdet's (the official) ``YTVISeval`` with our video-IoU kernel.

The protocol is mmdet's copy of the official YouTube-VIS evaluator
(``YTVOSeval``); ``summarize`` runs unchanged. These give the same records
and numbers, faster:

* ``evaluateVid`` (greedy matching) is :mod:`.ytvis_match`'s compiled
  loop, run once per video for all area ranges by ``evaluate``;
  ``accumulate`` computes each cell's precision / recall vectorised over
  the IoU thresholds;
* ``computeIoU``, the hot path (two pycocotools ``merge`` and two ``area``
  calls per pair and frame), is :func:`.rle_iou.video_iou`, and
  ``evaluate`` computes all videos at once from the loaded mask tables
  (:func:`.rle_iou.videos_iou`); pairs that cannot reach the lowest IoU
  threshold get 0 instead of their (smaller) IoU, which changes no match
  and no statistic;
* ``_prepare`` takes the masks and ``avg_area`` as
  :class:`vcl_mm.datasets.api_wrappers.ytvis_api.CheckedYTVIS` loaded them
  (converted in batches, checked) instead of converting per frame;
* ``use_cats`` is a constructor argument (VideoCutLER evaluates with
  ``useCats=0``), and nothing is printed;
* :meth:`FastYTVISeval.evaluate_video` / :meth:`accumulate_videos` match
  videos one at a time, for metrics that see one video at a time.

``np.float`` in ``accumulate`` (removed in numpy 1.24) is fixed where the
official module is loaded (:mod:`vcl_mm.datasets.api_wrappers.mmdet_ytvis`).
numpy + pycocotools + numba only.
"""
import contextlib
import copy
import datetime
import io
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vcl_mm.datasets.api_wrappers.mmdet_ytvis import YTVISeval
from .rle_iou import HAVE_VIDEOS_IOU, video_iou, videos_iou
from .ytvis_match import evaluate_area_ranges, precision_recall

__all__ = ['STAT_NAMES', 'FastYTVISeval']

#: Names of the 12 statistics, in the official order.
STAT_NAMES = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10',
              'AR100', 'ARs', 'ARm', 'ARl')


def _quiet():
    return contextlib.redirect_stdout(io.StringIO())


def _areas(anns):
    return np.stack([a['mask_areas'] for a in anns]) if anns else None


class FastYTVISeval(YTVISeval):
    """Official YouTube-VIS evaluation, fast video IoU, ``useCats`` switch.

    Args:
        cocoGt (CheckedYTVIS, optional): ground truth.
        cocoDt (CheckedYTVIS, optional): results (``cocoGt.loadRes``).
        use_cats (bool): class-aware (official default) or ``useCats=0``.
    """

    def __init__(self, cocoGt=None, cocoDt=None, use_cats=True):
        super().__init__(cocoGt, cocoDt, iouType='segm')
        self.params.useCats = int(bool(use_cats))

    def _anns(self, vidId, catId):
        """Ground truth and detections of one (video, category key), in the
        official order (categories ascending under ``useCats=0``)."""
        p = self.params
        gts, dts = self._gts, self._dts  # read only: no defaultdict insert
        if p.useCats:
            return gts.get((vidId, catId), []), dts.get((vidId, catId), [])
        return ([g for c in p.catIds for g in gts.get((vidId, c), ())],
                [d for c in p.catIds for d in dts.get((vidId, c), ())])

    def _prepare(self):
        """The official ``_prepare`` minus the per-frame mask conversion
        (done, and ``avg_area`` set, when the APIs were loaded)."""
        p = self.params
        gt_api, dt_api = self.cocoGt, self.cocoDt
        if p.useCats:
            gts = gt_api.loadAnns(
                gt_api.getAnnIds(vidIds=p.vidIds, catIds=p.catIds))
            dts = dt_api.loadAnns(
                dt_api.getAnnIds(vidIds=p.vidIds, catIds=p.catIds))
        else:
            gts = gt_api.loadAnns(gt_api.getAnnIds(vidIds=p.vidIds))
            dts = dt_api.loadAnns(dt_api.getAnnIds(vidIds=p.vidIds))
        self._index(gts, dts)
        self.evalVids = defaultdict(list)
        self.eval = {}

    def _index(self, gts, dts):
        self._gts, self._dts = defaultdict(list), defaultdict(list)
        for gt in gts:
            gt['ignore'] = 'iscrowd' in gt and gt['iscrowd']
            self._gts[gt['video_id'], gt['category_id']].append(gt)
        for dt in dts:
            self._dts[dt['video_id'], dt['category_id']].append(dt)

    def computeIoU(self, vidId, catId):
        """(D, G) video IoU of the top ``maxDets[-1]`` detections (score
        order, stable) and the ground truth, as the official method."""
        p = self.params
        gt, dt = self._anns(vidId, catId)
        if len(gt) == 0 and len(dt) == 0:
            return []
        inds = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in inds[:p.maxDets[-1]]]
        if not dt or not gt:
            return np.zeros([len(dt), len(gt)])
        return video_iou([d['segmentations'] for d in dt],
                         [g['segmentations'] for g in gt], _areas(dt),
                         _areas(gt), float(np.min(p.iouThrs)))

    def _tables(self):
        """The two APIs' mask tables, when both have one (as
        ``CheckedYTVIS`` loads them with numba), else None."""
        if not HAVE_VIDEOS_IOU:
            return None
        d = getattr(self.cocoDt, 'rle_table', None)
        g = getattr(self.cocoGt, 'rle_table', None)
        return None if d is None or g is None else (d, g)

    def _all_ious(self, pairs, threads):
        """``computeIoU`` of all (video, category key) ``pairs`` from the
        mask tables, in one compiled call per thread (same matrices for
        every IoU that can reach the lowest threshold, 0 for the others,
        as ``computeIoU``)."""
        p = self.params
        ious, todo, d_rows, g_rows = {}, [], [], []
        for vc in pairs:
            gt, dt = self._anns(*vc)
            if len(gt) == 0 and len(dt) == 0:
                ious[vc] = []
                continue
            inds = np.argsort([-d['score'] for d in dt], kind='mergesort')
            dt = [dt[i] for i in inds[:p.maxDets[-1]]]
            if not dt or not gt:
                ious[vc] = np.zeros([len(dt), len(gt)])
                continue
            todo.append(vc)
            d_rows.append(np.stack([d['rle_rows'] for d in dt]))
            g_rows.append(np.stack([g['rle_rows'] for g in gt]))
        d_table, g_table = self._tables()
        ious.update(
            zip(
                todo,
                videos_iou(d_table, g_table, d_rows, g_rows,
                           float(np.min(p.iouThrs)), threads)))
        return ious

    def evaluate(self):
        """The official ``evaluate`` (``segm``), without its prints; the
        matching of a video is done once for all area ranges."""
        p = self.params
        p.vidIds = list(np.unique(p.vidIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self._prepare()
        keys = p.catIds if p.useCats else [-1]
        pairs = [(v, c) for v in p.vidIds for c in keys]
        threads = min(2, os.cpu_count() or 1)  # the kernels release the GIL
        if self._tables() is not None:
            self.ious = self._all_ious(pairs, threads)
        else:
            with ThreadPoolExecutor(threads) as pool:
                self.ious = dict(
                    zip(
                        pairs,
                        pool.map(
                            lambda vc: self.computeIoU(*vc),
                            pairs,
                            chunksize=16)))
        maxDet = p.maxDets[-1]
        per = {
            (v, c): self._evaluate_key(v, c, maxDet)
            for c in keys
            for v in p.vidIds
        }
        self.evalImgs = [
            per[v, c][a] for c in keys for a in range(len(p.areaRng))
            for v in p.vidIds
        ]
        self._paramsEval = copy.deepcopy(self.params)

    def _evaluate_key(self, vidId, catId, maxDet):
        """The ``evaluateVid`` records of every area range of one (video,
        category key)."""
        gt, dt = self._anns(vidId, catId)
        return evaluate_area_ranges(vidId, catId, gt, dt, self.ious[vidId,
                                                                    catId],
                                    self.params, maxDet)

    def evaluateVid(self, vidId, catId, aRng, maxDet):
        """The official record of one (video, category key, area range).

        Overridden because the official loops are pure Python per video x
        area range x threshold x detection x ground truth (compiled here,
        with the same result dict)."""
        gt, dt = self._anns(vidId, catId)
        p = copy.copy(self.params)
        p.areaRng = [aRng]
        return evaluate_area_ranges(vidId, catId, gt, dt,
                                    self.ious[vidId, catId], p, maxDet)[0]

    def accumulate(self, p=None):
        """The official ``accumulate``, without its prints.

        Overridden because the official one runs the precision envelope
        as a Python loop per threshold and detection (vectorised here,
        :func:`.ytvis_match.precision_recall`, same numbers) and gathers
        the detections of every video again for each maxDet (once per
        cell here)."""
        if p is None:
            p = self.params
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        T, R = len(p.iouThrs), len(p.recThrs)
        K = len(p.catIds) if p.useCats else 1
        A, M = len(p.areaRng), len(p.maxDets)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        scores = -np.ones((T, R, K, A, M))
        _pe = self._paramsEval
        setK = set(_pe.catIds if _pe.useCats else [-1])
        setA = set(map(tuple, _pe.areaRng))
        setM = set(_pe.maxDets)
        setI = set(_pe.vidIds)
        k_list = [n for n, k in enumerate(p.catIds) if k in setK]
        m_list = [m for n, m in enumerate(p.maxDets) if m in setM]
        a_list = [n for n, a in enumerate(map(tuple, p.areaRng)) if a in setA]
        i_list = [n for n, i in enumerate(p.vidIds) if i in setI]
        I0, A0 = len(_pe.vidIds), len(_pe.areaRng)
        for k, k0 in enumerate(k_list):
            for a, a0 in enumerate(a_list):
                base = k0 * A0 * I0 + a0 * I0
                E = [self.evalImgs[base + i] for i in i_list]
                E = [e for e in E if e is not None]
                if len(E) == 0:
                    continue
                gtIg = np.concatenate([e['gtIgnore'] for e in E])
                npig = np.count_nonzero(gtIg == 0)
                if npig == 0:
                    continue
                # all detections once; each maxDet keeps the first maxDet
                # of every video (the same arrays as concatenating the
                # slices), and a maxDet keeping the same ones reuses the
                # cell before it
                lens = np.fromiter((len(e['dtScores']) for e in E), np.int64,
                                   len(E))
                scores_all = np.concatenate([e['dtScores'] for e in E])
                dtm_all = np.concatenate([e['dtMatches'] for e in E], axis=1)
                dtIg_all = np.concatenate([e['dtIgnore'] for e in E], axis=1)
                rank = np.arange(len(scores_all)) - np.repeat(
                    np.cumsum(lens) - lens, lens)
                last_keep = last = None
                for m, maxDet in enumerate(m_list):
                    keep = rank < maxDet
                    if last_keep is None or not np.array_equal(
                            keep, last_keep):
                        dtScores = scores_all[keep]
                        inds = np.argsort(-dtScores, kind='mergesort')
                        dtm = dtm_all[:, keep][:, inds]
                        dtIg = dtIg_all[:, keep][:, inds]
                        tps = np.logical_and(dtm, np.logical_not(dtIg))
                        fps = np.logical_and(
                            np.logical_not(dtm), np.logical_not(dtIg))
                        last = precision_recall(tps, fps, npig, dtScores[inds],
                                                p.recThrs)
                        last_keep = keep
                    q, rc, ss = last
                    precision[:, :, k, a, m] = q
                    recall[:, k, a, m] = rc
                    scores[:, :, k, a, m] = ss
        self.eval = {
            'params': p,
            'counts': [T, R, K, A, M],
            'date': datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S'),
            'precision': precision,
            'recall': recall,
            'scores': scores,
        }

    def summarize(self):
        """The official ``summarize`` (``self.stats``), without printing
        (:func:`vcl_mm.evaluation.functional.format_stats` prints it)."""
        with _quiet():
            super().summarize()

    def stats_dict(self):
        """The 12 statistics as fractions (-1 when undefined), plus the
        ``precision`` (T, R, K, A, M) and ``recall`` (T, K, A, M) arrays."""
        out = {k: float(v) for k, v in zip(STAT_NAMES, self.stats)}
        out['precision'] = self.eval['precision']
        out['recall'] = self.eval['recall']
        return out

    def evaluate_video(self, vidId, gts, dts):
        """Match one video now (``params.catIds`` must be set).

        Args:
            vidId (int): the video.
            gts (list[dict]): its ground-truth annotations, as
                ``CheckedYTVIS`` holds them (``segmentations`` RLEs,
                ``mask_areas``, ``avg_area``, ``id``, ``category_id``,
                ``iscrowd``).
            dts (list[dict]): its detections, likewise plus ``score``.

        Returns:
            list[list]: per category key (``[-1]`` under ``useCats=0``), per
            area range, the official ``evaluateVid`` record (None when the
            key has neither ground truth nor detections).
        """
        p = self.params
        p.maxDets = sorted(p.maxDets)
        self._index(gts, dts)
        keys = p.catIds if p.useCats else [-1]
        self.ious = {(vidId, c): self.computeIoU(vidId, c) for c in keys}
        out = [self._evaluate_key(vidId, c, p.maxDets[-1]) for c in keys]
        self._gts, self._dts, self.ious = defaultdict(list), defaultdict(
            list), {}
        return out

    def accumulate_videos(self, records):
        """Accumulate and summarize :meth:`evaluate_video` records.

        Args:
            records (dict): video id -> record; the official order (video
                ids ascending) decides how score ties are broken.
        """
        p = self.params
        p.vidIds = sorted(records)
        keys = p.catIds if p.useCats else [-1]
        self.evalImgs = [
            records[v][k][a] for k in range(len(keys))
            for a in range(len(p.areaRng)) for v in p.vidIds
        ]
        self._paramsEval = copy.deepcopy(p)
        self.accumulate()
        self.summarize()
        return self.stats_dict()
