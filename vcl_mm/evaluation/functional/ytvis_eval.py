"""YouTube-VIS video instance segmentation evaluation (YTVOSeval protocol).

Our own implementation of the official ``YTVOSeval`` semantics (the
YouTube-VIS fork of ``pycocotools``), used class-agnostically
(``useCats=0``) by VideoCutLER and class-aware by supervised VIS:

* a *track* is one object over a whole video: one segmentation per frame,
  absent frames are ``None``;
* video IoU between a prediction and a ground-truth track is the sum over
  frames of the intersections divided by the sum over frames of the unions;
  frames where both are absent contribute nothing;
* the S/M/L size of a track is the mean of its per-frame areas over the
  frames where the area is non-zero (ground truth: the JSON ``areas``;
  predictions: the mask areas), S < 128^2 <= M <= 256^2 < L (bounds
  inclusive on both sides as in COCOeval);
* greedy matching in descending score order (stable for ties) at 10 IoU
  thresholds 0.50:0.05:0.95, ground truth sorted with ignored (crowd or out
  of the area range) last, a better-or-equal IoU replaces the current
  match, crowd ground truth can absorb several predictions; 101-point
  interpolated precision, maxDets 1/10/100, the 12 standard statistics.

What is faster than the official design: the video IoU of all prediction /
ground-truth pairs of a video is computed with one ``pycocotools`` call per
frame (all pairs at once, in C) instead of two ``merge`` and two ``area``
calls per pair and frame, and ``accumulate`` is vectorised over IoU
thresholds. Evaluation is per video, so callers can evaluate videos as they
come and keep only the small per-video matching records.

Differences from the official code (on valid input the numbers are
identical): bad input raises :class:`vcl_mm.utils.InputError` (results for
unknown videos or categories, frame-count or mask-size mismatches, empty
result lists) where the official code asserts, prints or silently truncates.
"""
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from vcl_mm.utils import InputError

__all__ = [
    'STAT_NAMES', 'YTVISParams', 'Track', 'VideoMatch', 'YTVISGroundTruth',
    'load_json', 'to_rles', 'parse_ytvis_gt', 'parse_ytvis_results',
    'video_iou', 'evaluate_video', 'accumulate', 'summarize', 'evaluate_ytvis',
    'format_stats'
]

#: Names of the 12 statistics, in the official order.
STAT_NAMES = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10',
              'AR100', 'ARs', 'ARm', 'ARl')


@dataclass(frozen=True)
class YTVISParams:
    """Evaluation parameters; the defaults are the official ones.

    Attributes:
        iou_thrs (np.ndarray): (10,) IoU thresholds 0.50:0.05:0.95.
        rec_thrs (np.ndarray): (101,) recall points 0:0.01:1.
        max_dets (tuple[int]): detections kept per video, ascending.
        area_rngs (tuple): [lo, hi] mean-area bounds in pixels^2 for
            'all', 'small', 'medium', 'large'.
        area_labels (tuple[str]): names of ``area_rngs``.
    """
    iou_thrs: np.ndarray = field(default_factory=lambda: np.linspace(
        .5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True))
    rec_thrs: np.ndarray = field(default_factory=lambda: np.linspace(
        .0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True))
    max_dets: tuple = (1, 10, 100)
    area_rngs: tuple = ((0**2, 1e5**2), (0**2, 128**2), (128**2, 256**2),
                        (256**2, 1e5**2))
    area_labels: tuple = ('all', 'small', 'medium', 'large')


@dataclass
class Track:
    """One ground-truth or predicted object track of a video.

    Attributes:
        id (int): annotation id (ground truth) or 1-based result index.
        video_id (int): the video.
        category_id (int): the category.
        rles (list): per frame a compressed RLE dict, or None when absent.
        avg_area (float): mean non-zero per-frame area (pixels^2), 0 if none;
            decides the S/M/L bucket.
        score (float): prediction confidence (0 for ground truth).
        iscrowd (bool): crowd ground truth (ignored, may match many).
        areas (np.ndarray): (T,) int64 mask area per frame (0 if absent).
    """
    id: int
    video_id: int
    category_id: int
    rles: list
    avg_area: float
    score: float = 0.
    iscrowd: bool = False
    areas: Optional[np.ndarray] = None

    def __post_init__(self):
        if self.areas is None:
            self.areas = _mask_areas(self.rles)


@dataclass
class VideoMatch:
    """Matching of one video (and category key) in one area range.

    Attributes:
        scores (np.ndarray): (D,) float64 scores, descending (stable).
        matched (np.ndarray): (T, D) bool, prediction matched per IoU thr.
        dt_ignore (np.ndarray): (T, D) bool, prediction ignored per IoU thr.
        gt_ignore (np.ndarray): (G,) bool, ground truth ignored.
    """
    scores: np.ndarray
    matched: np.ndarray
    dt_ignore: np.ndarray
    gt_ignore: np.ndarray


@dataclass
class YTVISGroundTruth:
    """Parsed ground truth.

    Attributes:
        videos (dict): video id -> dict(height, width, length, name).
        cat_ids (list[int]): sorted category ids.
        tracks (dict): video id -> list of :class:`Track` in file order.
    """
    videos: Dict[int, dict]
    cat_ids: List[int]
    tracks: Dict[int, List[Track]]

    @property
    def video_ids(self):
        """Sorted video ids (the official evaluation order)."""
        return sorted(self.videos)


def load_json(obj, what='JSON file'):
    """Return ``obj`` parsed from JSON if it is a path, else ``obj``."""
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.isfile(path):
            raise InputError(f'{what} not found: {path}')
        try:
            with open(path) as f:
                return json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f'{what} {path} is not valid JSON: {e}')
    return obj


def _mask_areas(rles):
    """(T,) int64 areas of a per-frame RLE list (0 where None)."""
    areas = np.zeros(len(rles), np.int64)
    idx = [i for i, r in enumerate(rles) if r is not None]
    if idx:
        areas[idx] = mask_utils.area([rles[i] for i in idx])
    return areas


def _avg_area(values):
    """Official ``avg_area``: mean of the truthy values, 0 if there are none.

    Args:
        values (Sequence): per-frame areas, None where absent.
    """
    nonzero = [a for a in values if a]
    return float(np.array(nonzero).mean()) if nonzero else 0


def _rle_size_ok(rle, h, w):
    size = rle.get('size')
    return size is not None and list(size) == [h, w]


def to_rles(segs, h, w, where):
    """Per-frame segmentations (polygons, RLE or None) to compressed RLEs.

    Args:
        segs (list): one entry per frame; falsy means absent (official
            ``if seg`` test).
        h, w (int): the video size; every mask must have it.
        where (str): names the track in error messages.

    Returns:
        list: compressed RLE dicts (``counts`` bytes or str) or None.
    """
    out = [None] * len(segs)
    uncompressed = []
    for t, seg in enumerate(segs):
        if not seg:
            continue
        if isinstance(seg, list):  # polygons
            try:
                out[t] = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
            except Exception as e:
                raise InputError(f'{where}, frame {t}: bad polygon ({e})')
            continue
        if not isinstance(seg, dict) or 'counts' not in seg:
            raise InputError(f'{where}, frame {t}: segmentation must be an '
                             'RLE dict, a polygon list or null')
        if not _rle_size_ok(seg, h, w):
            raise InputError(
                f'{where}, frame {t}: mask size {seg.get("size")} differs '
                f'from the video size [{h}, {w}]')
        if isinstance(seg['counts'], list):
            uncompressed.append(t)
        else:
            out[t] = seg
    if uncompressed:
        for t, rle in zip(
                uncompressed,
                mask_utils.frPyObjects([segs[t] for t in uncompressed], h, w)):
            out[t] = rle
    return out


def _video_length(video):
    if 'length' in video:
        return int(video['length'])
    if 'file_names' in video:
        return len(video['file_names'])
    return None


def parse_ytvis_gt(gt):
    """Parse YouTube-VIS ground truth in the official layout.

    Args:
        gt (str | dict): path to, or content of, the official JSON:
            ``videos`` (``id``, ``height``, ``width``, ``length`` or
            ``file_names``), ``annotations`` (``id``, ``video_id``,
            ``category_id``, ``segmentations``, ``areas``, ``iscrowd``) and
            ``categories``. Without ``areas`` the mask areas are used.

    Returns:
        YTVISGroundTruth
    """
    gt = load_json(gt, 'ground-truth JSON')
    if not isinstance(gt, dict) or 'videos' not in gt:
        raise InputError('ground truth must be the official YouTube-VIS JSON '
                         '(a dict with "videos", "annotations", '
                         '"categories")')
    videos = {}
    for v in gt['videos']:
        videos[v['id']] = dict(
            height=int(v['height']),
            width=int(v['width']),
            length=_video_length(v),
            name=v.get('name', ''))
    cat_ids = sorted({c['id'] for c in gt.get('categories', [])})
    tracks = {vid: [] for vid in videos}
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
            raise InputError(f'{where}: {len(segs)} frames, the video has '
                             f'{video["length"]}')
        rles = to_rles(segs, video['height'], video['width'], where)
        track = Track(
            id=ann['id'],
            video_id=vid,
            category_id=ann['category_id'],
            rles=rles,
            avg_area=0,
            iscrowd=bool(ann.get('iscrowd', 0)))
        areas = ann.get('areas')
        track.avg_area = _avg_area(
            areas if areas is not None else track.areas.tolist())
        tracks[vid].append(track)
    return YTVISGroundTruth(videos=videos, cat_ids=cat_ids, tracks=tracks)


def parse_ytvis_results(results, gt):
    """Parse and check results in the official YouTube-VIS format.

    Args:
        results (str | list): path to, or content of, a list of
            ``{video_id, score, category_id, segmentations}`` with one
            RLE (or null) per frame.
        gt (YTVISGroundTruth): the ground truth the results refer to.

    Returns:
        dict: video id -> list of :class:`Track` in file order (ids are the
        1-based positions in ``results``, as the official ``loadRes``).
    """
    results = load_json(results, 'results JSON')
    if not isinstance(results, list):
        raise InputError('results must be a JSON list of '
                         '{video_id, score, category_id, segmentations}')
    if not results:
        raise InputError('the results list is empty: nothing to evaluate')
    cats = set(gt.cat_ids)
    dts = {vid: [] for vid in gt.videos}
    for i, res in enumerate(results):
        if not isinstance(res, dict) or 'segmentations' not in res:
            raise InputError(f'result {i}: needs "video_id", "score", '
                             '"category_id" and "segmentations"')
        vid = res.get('video_id')
        if vid not in gt.videos:
            raise InputError(f'result {i}: video id {vid!r} is not in the '
                             'ground truth')
        video = gt.videos[vid]
        where = f'result {i} (video {vid})'
        for key in ('score', 'category_id'):
            if key not in res:
                raise InputError(f'{where}: missing "{key}"')
        if res['category_id'] not in cats:
            raise InputError(f'{where}: category id {res["category_id"]!r} '
                             'is not a ground-truth category')
        segs = res['segmentations']
        if not isinstance(segs, list) or len(segs) != video['length']:
            n = len(segs) if isinstance(segs, list) else type(segs).__name__
            raise InputError(f'{where}: {n} segmentations for a video of '
                             f'{video["length"]} frames')
        rles = to_rles(segs, video['height'], video['width'], where)
        track = Track(
            id=i + 1,
            video_id=vid,
            category_id=res['category_id'],
            rles=rles,
            avg_area=0,
            score=float(res['score']))
        track.avg_area = _avg_area([
            a if r is not None else None
            for a, r in zip(track.areas.tolist(), rles)
        ])
        dts[vid].append(track)
    return dts


def video_iou(dts, gts):
    """Video IoU of every prediction / ground-truth pair of one video.

    IoU = sum_t |d_t & g_t| / sum_t |d_t | g_t|, 0 when the union is empty.
    One ``pycocotools`` IoU call per frame gives all pairs; the per-frame
    intersections are recovered exactly from IoU and areas (integers well
    below 2^53, so rounding removes the float error).

    Args:
        dts (list[Track]): D predictions.
        gts (list[Track]): G ground-truth tracks, same number of frames.

    Returns:
        np.ndarray: (D, G) float64.
    """
    D, G = len(dts), len(gts)
    if D == 0 or G == 0:
        return np.zeros((D, G))
    T = len(gts[0].rles)
    inter = np.zeros((D, G), np.int64)
    d_present = np.array([[r is not None for r in d.rles] for d in dts])
    g_present = np.array([[r is not None for r in g.rles] for g in gts])
    d_areas = np.stack([d.areas for d in dts])
    g_areas = np.stack([g.areas for g in gts])
    both = d_present.any(0) & g_present.any(0)
    for t in np.flatnonzero(both[:T]):
        di = np.flatnonzero(d_present[:, t])
        gi = np.flatnonzero(g_present[:, t])
        ious = np.asarray(
            mask_utils.iou([dts[i].rles[t] for i in di],
                           [gts[j].rles[t] for j in gi], [0] * len(gi)))
        if not ious.any():
            continue
        sums = d_areas[di, t][:, None] + g_areas[gi, t][None, :]
        # iou = i / (a + b - i)  =>  i = iou * (a + b) / (1 + iou)
        inter[np.ix_(di, gi)] += np.rint(ious * sums / (1. + ious)).astype(
            np.int64)
    union = d_areas.sum(1)[:, None] + g_areas.sum(1)[None, :] - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0,
                        inter.astype(np.float64) / union.astype(np.float64),
                        0.)


def _match(ious, dts, gts, area_rng, iou_thrs):
    """Greedy COCO matching of one video in one area range.

    Args:
        ious (np.ndarray): (D, G) with predictions already in score order.
        dts (list[Track]): D predictions, descending score (stable).
        gts (list[Track]): G ground-truth tracks in evaluation order.
        area_rng (tuple): (lo, hi) mean-area bounds, inclusive.
        iou_thrs (np.ndarray): (T,) thresholds.

    Returns:
        VideoMatch
    """
    lo, hi = area_rng
    gt_ig = np.array(
        [bool(g.iscrowd) or g.avg_area < lo or g.avg_area > hi for g in gts],
        bool)
    order = np.argsort(gt_ig, kind='mergesort')
    gt_ig = gt_ig[order]
    crowd = [bool(gts[i].iscrowd) for i in order]
    ious = ious[:, order] if len(gts) else ious
    T, D, G = len(iou_thrs), len(dts), len(gts)
    matched = np.zeros((T, D), bool)
    dt_ig = np.zeros((T, D), bool)
    if D and G:
        ig = gt_ig.tolist()
        rows = ious.tolist()
        # candidates with IoU >= the lowest threshold; skipping the others
        # cannot change the official loop's outcome (they never match, and
        # the ignored-gt break only depends on the current best match).
        cands = [[
            g for g in range(G) if row[g] >= min(iou_thrs[0], 1 - 1e-10)
        ] for row in rows]
        for ti, thr in enumerate(iou_thrs.tolist()):
            gt_taken = [False] * G
            thr = min(thr, 1 - 1e-10)
            for d in range(D):
                best, m = thr, -1
                row = rows[d]
                for g in cands[d]:
                    if gt_taken[g] and not crowd[g]:
                        continue
                    if m > -1 and not ig[m] and ig[g]:
                        break
                    if row[g] < best:
                        continue
                    best, m = row[g], g
                if m == -1:
                    continue
                matched[ti, d] = True
                dt_ig[ti, d] = ig[m]
                gt_taken[m] = True
    out_of_rng = np.array([d.avg_area < lo or d.avg_area > hi for d in dts],
                          bool)
    dt_ig |= ~matched & out_of_rng[None, :]
    return VideoMatch(
        scores=np.array([d.score for d in dts], np.float64),
        matched=matched,
        dt_ignore=dt_ig,
        gt_ignore=gt_ig)


def evaluate_video(gts, dts, cat_ids, class_agnostic=True, params=None):
    """Match the tracks of one video, for every category key and area range.

    Args:
        gts (list[Track]): ground-truth tracks of the video, file order.
        dts (list[Track]): predicted tracks of the video, file order.
        cat_ids (Sequence[int]): sorted ground-truth category ids.
        class_agnostic (bool): official ``useCats=0`` (one key, -1) if True,
            else one key per category.
        params (YTVISParams, optional): evaluation parameters.

    Returns:
        dict: key (category id, or -1) -> list over area ranges of
        :class:`VideoMatch`, or None when the key has neither ground truth
        nor predictions in this video (the official ``None`` record).
    """
    params = params or YTVISParams()
    by_cat_g, by_cat_d = {}, {}
    for g in gts:
        by_cat_g.setdefault(g.category_id, []).append(g)
    for d in dts:
        by_cat_d.setdefault(d.category_id, []).append(d)
    keys = [-1] if class_agnostic else list(cat_ids)
    out = {}
    for key in keys:
        cats = cat_ids if key == -1 else [key]
        g = [t for c in cats for t in by_cat_g.get(c, ())]
        d = [t for c in cats for t in by_cat_d.get(c, ())]
        if not g and not d:
            out[key] = None
            continue
        order = np.argsort([-t.score for t in d], kind='mergesort')
        d = [d[i] for i in order[:params.max_dets[-1]]]
        ious = video_iou(d, g)
        out[key] = [
            _match(ious, d, g, rng, params.iou_thrs)
            for rng in params.area_rngs
        ]
    return out


def accumulate(video_evals, keys, params=None):
    """Precision / recall over all videos (official ``accumulate``).

    Args:
        video_evals (list[dict]): :func:`evaluate_video` outputs in
            ascending video id order (it decides how score ties are broken).
        keys (list[int]): ``[-1]`` (class-agnostic) or the category ids.
        params (YTVISParams, optional)

    Returns:
        tuple: precision (T, R, K, A, M) and recall (T, K, A, M), -1 where
        there is no ground truth.
    """
    params = params or YTVISParams()
    T, R = len(params.iou_thrs), len(params.rec_thrs)
    K, A, M = len(keys), len(params.area_rngs), len(params.max_dets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for k, key in enumerate(keys):
        for a in range(A):
            E = [ve[key][a] for ve in video_evals if ve[key] is not None]
            if not E:
                continue
            gt_ig = np.concatenate([e.gt_ignore for e in E])
            npig = np.count_nonzero(gt_ig == 0)
            if npig == 0:
                continue
            for m, max_det in enumerate(params.max_dets):
                scores = np.concatenate([e.scores[:max_det] for e in E])
                inds = np.argsort(-scores, kind='mergesort')
                dtm = np.concatenate([e.matched[:, :max_det] for e in E],
                                     axis=1)[:, inds]
                dt_ig = np.concatenate([e.dt_ignore[:, :max_det] for e in E],
                                       axis=1)[:, inds]
                tps = dtm & ~dt_ig
                fps = ~dtm & ~dt_ig
                tp_sum = np.cumsum(tps, axis=1).astype(np.float64)
                fp_sum = np.cumsum(fps, axis=1).astype(np.float64)
                nd = tp_sum.shape[1]
                rc = tp_sum / npig
                pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
                if nd == 0:
                    recall[:, k, a, m] = 0
                    precision[:, :, k, a, m] = 0
                    continue
                recall[:, k, a, m] = rc[:, -1]
                # precision envelope: running max from the right
                pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
                for t in range(T):
                    idx = np.searchsorted(rc[t], params.rec_thrs, side='left')
                    q = np.zeros(R)
                    ok = idx < nd
                    q[ok] = pr[t, idx[ok]]
                    precision[t, :, k, a, m] = q
    return precision, recall


def _summarize_one(precision,
                   recall,
                   params,
                   ap,
                   iou_thr=None,
                   area='all',
                   max_dets=100):
    aind = [i for i, lbl in enumerate(params.area_labels) if lbl == area]
    mind = [i for i, m in enumerate(params.max_dets) if m == max_dets]
    if ap:
        s = precision
        if iou_thr is not None:
            s = s[np.where(iou_thr == params.iou_thrs)[0]]
        s = s[:, :, :, aind, mind]
    else:
        s = recall
        if iou_thr is not None:
            s = s[np.where(iou_thr == params.iou_thrs)[0]]
        s = s[:, :, aind, mind]
    valid = s[s > -1]
    return -1. if len(valid) == 0 else float(np.mean(valid))


def summarize(precision, recall, params=None):
    """The 12 official statistics as fractions (-1 when undefined).

    Returns:
        dict: :data:`STAT_NAMES` -> float.
    """
    p = params or YTVISParams()
    md = p.max_dets
    s = _summarize_one
    vals = [
        s(precision, recall, p, 1, max_dets=md[-1]),
        s(precision, recall, p, 1, iou_thr=.5, max_dets=md[2]),
        s(precision, recall, p, 1, iou_thr=.75, max_dets=md[2]),
        s(precision, recall, p, 1, area='small', max_dets=md[2]),
        s(precision, recall, p, 1, area='medium', max_dets=md[2]),
        s(precision, recall, p, 1, area='large', max_dets=md[2]),
        s(precision, recall, p, 0, max_dets=md[0]),
        s(precision, recall, p, 0, max_dets=md[1]),
        s(precision, recall, p, 0, max_dets=md[2]),
        s(precision, recall, p, 0, area='small', max_dets=md[2]),
        s(precision, recall, p, 0, area='medium', max_dets=md[2]),
        s(precision, recall, p, 0, area='large', max_dets=md[2]),
    ]
    return dict(zip(STAT_NAMES, vals))


def evaluate_ytvis(gt, results, class_agnostic=True, params=None):
    """Evaluate official-format results against official ground truth.

    Args:
        gt (str | dict | YTVISGroundTruth): ground truth.
        results (str | list): results in the official format.
        class_agnostic (bool): ``useCats=0`` (VideoCutLER) or class-aware.
        params (YTVISParams, optional)

    Returns:
        dict: the 12 statistics (:data:`STAT_NAMES`) as fractions, plus
        ``'precision'`` and ``'recall'`` arrays.
    """
    params = params or YTVISParams()
    if not isinstance(gt, YTVISGroundTruth):
        gt = parse_ytvis_gt(gt)
    dts = parse_ytvis_results(results, gt)
    evals = [
        evaluate_video(gt.tracks[vid], dts[vid], gt.cat_ids, class_agnostic,
                       params) for vid in gt.video_ids
    ]
    keys = [-1] if class_agnostic else gt.cat_ids
    precision, recall = accumulate(evals, keys, params)
    stats = summarize(precision, recall, params)
    stats['precision'] = precision
    stats['recall'] = recall
    return stats


def format_stats(stats, params=None):
    """The official 12-line summary for ``stats`` (see :func:`summarize`)."""
    p = params or YTVISParams()
    rows = [('Precision', '(AP)', None, 'all', p.max_dets[-1]),
            ('Precision', '(AP)', .5, 'all', p.max_dets[2]),
            ('Precision', '(AP)', .75, 'all', p.max_dets[2]),
            ('Precision', '(AP)', None, 'small', p.max_dets[2]),
            ('Precision', '(AP)', None, 'medium', p.max_dets[2]),
            ('Precision', '(AP)', None, 'large', p.max_dets[2]),
            ('Recall', '(AR)', None, 'all', p.max_dets[0]),
            ('Recall', '(AR)', None, 'all', p.max_dets[1]),
            ('Recall', '(AR)', None, 'all', p.max_dets[2]),
            ('Recall', '(AR)', None, 'small', p.max_dets[2]),
            ('Recall', '(AR)', None, 'medium', p.max_dets[2]),
            ('Recall', '(AR)', None, 'large', p.max_dets[2])]
    lines = []
    for name, (kind, short, thr, area, md) in zip(STAT_NAMES, rows):
        iou = (f'{p.iou_thrs[0]:0.2f}:{p.iou_thrs[-1]:0.2f}'
               if thr is None else f'{thr:0.2f}')
        lines.append(f' Average {kind:<10} {short} @[ IoU={iou:<9} | '
                     f'area={area:>6s} | maxDets={md:>3d} ] = '
                     f'{stats[name]:0.3f}')
    return '\n'.join(lines)
