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
unknown videos or categories, frame-count or mask-size mismatches, RLEs
whose runs do not cover exactly height x width pixels, scores that are not
finite numbers, empty result lists) where the official code asserts,
prints, silently truncates or scores undefined pixels.
"""
import json
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
from pycocotools import mask as mask_utils

from vcl_mm.utils import InputError

__all__ = [
    'STAT_NAMES', 'YTVISParams', 'Track', 'VideoMatch', 'YTVISGroundTruth',
    'load_json', 'to_rles', 'mask_areas', 'rle_run_totals', 'check_rle_runs',
    'parse_ytvis_gt', 'parse_ytvis_results', 'video_iou', 'evaluate_video',
    'accumulate', 'summarize', 'evaluate_ytvis', 'format_stats'
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
        areas (np.ndarray): (T,) int64 mask area per frame (0 if absent);
            computed from ``rles`` when not given.
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
            self.areas = mask_areas([self.rles])[0]


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


def mask_areas(tracks):
    """Per-frame mask areas of many tracks with one ``pycocotools`` call.

    Args:
        tracks (list[list]): per track, per frame an RLE dict or None.

    Returns:
        list[np.ndarray]: per track (T,) int64 areas, 0 where absent.
    """
    present = [r for rles in tracks for r in rles if r is not None]
    # pycocotools' area() builds a placeholder np.array((n, ), np.uint8):
    # keep n < 256 (numpy warns, numpy 2 would raise)
    flat = np.zeros(len(present), np.int64)
    for k in range(0, len(present), 255):
        flat[k:k + 255] = mask_utils.area(present[k:k + 255])
    out, k = [], 0
    for rles in tracks:
        areas = np.zeros(len(rles), np.int64)
        idx = [t for t, r in enumerate(rles) if r is not None]
        areas[idx] = flat[k:k + len(idx)]
        k += len(idx)
        out.append(areas)
    return out


def rle_run_totals(counts):
    """Pixels covered by all runs of compressed RLE strings, vectorised.

    Decodes as ``pycocotools``' ``rleFrString`` does (5 bits per character
    from ``'0'``, continuation bit 0x20, sign bit 0x10 on a number's last
    character, counts from the third on stored as differences to the count
    two back, unsigned 32-bit counts) and sums the counts of each string.

    Args:
        counts (list[bytes | str]): compressed ``counts`` strings.

    Returns:
        np.ndarray: (N,) int64 sum of the runs per string, -1 where the
        string is not valid compressed RLE.
    """
    n = len(counts)
    bad = np.zeros(n, bool)
    strs = []
    for k, cnt in enumerate(counts):
        if isinstance(cnt, str):
            try:
                cnt = cnt.encode('ascii')
            except UnicodeEncodeError:
                bad[k], cnt = True, b''
        strs.append(cnt)
    lens = np.fromiter(map(len, strs), np.int64, n)
    totals = np.zeros(n, np.int64)
    if lens.sum():
        c = np.frombuffer(b''.join(strs), np.uint8).astype(np.int64) - 48
        owner = np.repeat(np.arange(n), lens)  # string of each character
        bad[owner[(c < 0) | (c > 63)]] = True
        end = (c & 0x20) == 0  # the last character of a number
        last = np.cumsum(lens)[lens > 0] - 1
        bad[owner[last[~end[last]]]] = True  # unfinished last number
        end[last] = True  # so no number runs into the next string
        ends = np.flatnonzero(end)
        starts = np.r_[0, ends[:-1] + 1]
        length = ends - starts + 1
        bad[owner[ends[length > 12]]] = True  # beyond 64 bits (valid: <= 7)
        length = np.minimum(length, 12)
        pos = np.minimum(
            np.arange(len(c)) - np.repeat(starts, ends - starts + 1), 11)
        x = np.add.reduceat((c & 0x1f) << (5 * pos), starts)
        sign = (c[ends] & 0x10) != 0
        x[sign] |= np.int64(-1) << (5 * length[sign])
        string = owner[ends]  # string of each number, non-decreasing
        first = np.flatnonzero(np.r_[True, string[1:] != string[:-1]])
        j = np.arange(len(x)) - np.repeat(first, np.diff(np.r_[first, len(x)]))
        # count j >= 3 is x_j + count j-2: a running sum along j = 1, 3, 5,
        # ... and j = 2, 4, ... of each string (mod 2^32, as uint)
        cnts = x.copy()
        for parity in (0, 1):
            sel = np.flatnonzero((j >= 1) & (j % 2 == parity))
            if not len(sel):
                continue
            cum = np.cumsum(x[sel])
            new = np.flatnonzero(np.r_[True,
                                       string[sel][1:] != string[sel][:-1]])
            before = np.r_[0, cum[:-1]][new]
            cnts[sel] = cum - np.repeat(before, np.diff(np.r_[new, len(sel)]))
        cnts &= 0xffffffff
        totals[string[first]] = np.add.reduceat(cnts, first)
    totals[bad] = -1
    return totals


def check_rle_runs(tracks, wheres):
    """Raise :class:`InputError` unless the runs of every RLE cover exactly
    its height x width pixels (``pycocotools`` would read past the mask, or
    leave pixels undefined, and score the result).

    Args:
        tracks (list[list]): per track, per frame a compressed RLE dict
            (``size`` already checked) or None.
        wheres (list[str]): names the tracks in the message.
    """
    present = [(k, t, r) for k, rles in enumerate(tracks)
               for t, r in enumerate(rles) if r is not None]
    if not present:
        return
    totals = rle_run_totals([r['counts'] for _, _, r in present])
    sizes = np.array(
        [int(r['size'][0]) * int(r['size'][1]) for _, _, r in present],
        np.int64)
    wrong = np.flatnonzero(totals != sizes)
    if len(wrong):
        k, t, r = present[wrong[0]]
        h, w = r['size']
        got = ('is not valid compressed RLE' if totals[wrong[0]] < 0 else
               f'has runs covering {totals[wrong[0]]} pixels')
        raise InputError(
            f'{wheres[k]}, frame {t}: the RLE {got}, the mask has {h}x{w}'
            f' = {h * w}; encode each mask with pycocotools.mask.encode '
            'at the video size')


def _avg_area(values):
    """Official ``avg_area``: mean of the truthy values, 0 if there are none.

    Args:
        values (Sequence): per-frame areas, None where absent.
    """
    nonzero = [a for a in values if a]
    return float(np.array(nonzero).mean()) if nonzero else 0


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
    size = [h, w]
    uncompressed = []
    for t, seg in enumerate(segs):
        if not seg:
            continue
        if type(seg) is dict:
            counts, sz = seg.get('counts'), seg.get('size')
            if sz != size and (sz is None or list(sz) != size):
                raise InputError(
                    f'{where}, frame {t}: mask size {sz} differs from the '
                    f'video size [{h}, {w}]')
            if type(counts) is list:
                uncompressed.append(t)
            elif isinstance(counts, (str, bytes)):
                out[t] = seg
            else:
                raise InputError(f'{where}, frame {t}: RLE without valid '
                                 '"counts"')
        elif isinstance(seg, list):  # polygons
            try:
                out[t] = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
            except Exception as e:
                raise InputError(f'{where}, frame {t}: bad polygon ({e})')
        else:
            raise InputError(f'{where}, frame {t}: segmentation must be an '
                             'RLE dict, a polygon list or null')
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
            raise InputError(f'{where}: {len(segs)} frames, the video has '
                             f'{video["length"]}')
        parsed.append(
            (ann, to_rles(segs, video['height'], video['width'],
                          where), where))
    check_rle_runs([rles for _, rles, _ in parsed],
                   [where for _, _, where in parsed])
    all_areas = mask_areas([rles for _, rles, _ in parsed])
    for (ann, rles, _), areas in zip(parsed, all_areas):
        json_areas = ann.get('areas')
        tracks[ann['video_id']].append(
            Track(
                id=ann['id'],
                video_id=ann['video_id'],
                category_id=ann['category_id'],
                rles=rles,
                avg_area=_avg_area(
                    json_areas if json_areas is not None else areas.tolist()),
                iscrowd=bool(ann.get('iscrowd', 0)),
                areas=areas))
    return YTVISGroundTruth(videos=videos, cat_ids=cat_ids, tracks=tracks)


def _known(key, table):
    """``key in table``, False for unhashable keys (a JSON list or
    dict where an id belongs)."""
    try:
        return key in table
    except TypeError:
        return False


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
    parsed = []
    for i, res in enumerate(results):
        if not isinstance(res, dict) or 'segmentations' not in res:
            raise InputError(f'result {i}: needs "video_id", "score", '
                             '"category_id" and "segmentations"')
        vid = res.get('video_id')
        if not _known(vid, gt.videos):
            raise InputError(f'result {i}: video id {vid!r} is not in the '
                             'ground truth')
        video = gt.videos[vid]
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
        if not _known(res['category_id'], cats):
            raise InputError(f'{where}: category id {res["category_id"]!r} '
                             'is not a ground-truth category')
        segs = res['segmentations']
        if not isinstance(segs, list) or len(segs) != video['length']:
            n = len(segs) if isinstance(segs, list) else type(segs).__name__
            raise InputError(f'{where}: {n} segmentations for a video of '
                             f'{video["length"]} frames')
        parsed.append(
            (i, res, to_rles(segs, video['height'], video['width'], where)))
    check_rle_runs(
        [rles for _, _, rles in parsed],
        [f'result {i} (video {res["video_id"]})' for i, res, _ in parsed])
    all_areas = mask_areas([rles for _, _, rles in parsed])
    for (i, res, rles), areas in zip(parsed, all_areas):
        dts[res['video_id']].append(
            Track(
                id=i + 1,
                video_id=res['video_id'],
                category_id=res['category_id'],
                rles=rles,
                avg_area=_avg_area(areas.tolist()),
                score=float(res['score']),
                areas=areas))
    return dts


_TAGGING_OK = []


def _frame_tagging_ok():
    """Check once that pycocotools keeps pairs of differently tagged frames
    apart (see :func:`_pair_intersections`)."""
    if not _TAGGING_OK:
        a = np.zeros((6, 5), np.uint8, order='F')
        b = np.zeros((6, 5), np.uint8, order='F')
        a[1:4, 1:3] = 1
        b[2:5, 2:4] = 1
        ra, rb = mask_utils.encode(a), mask_utils.encode(b)
        tag = [dict(size=[6, 5 + k], counts=rb['counts']) for k in (1, 2)]
        got = mask_utils.iou([dict(size=[6, 6], counts=ra['counts'])], tag,
                             [0, 0])
        _TAGGING_OK.append(
            np.allclose(got, [[0.2, -1.]])
            and np.allclose(mask_utils.toBbox(tag), [[2, 2, 2, 3]] * 2))
    return _TAGGING_OK[0]


try:  # compiled RLE kernels (decode + run merge); pycocotools otherwise
    import numba as _nb
except ImportError:  # pragma: no cover
    _nb = None

if _nb is not None:

    # explicit signatures: compiled (or loaded from the cache) at import,
    # not inside the first evaluation
    @_nb.njit('Tuple((int64[:], int64[:]))(uint8[:], int64[:])',
              cache=True, nogil=True)
    def _nb_decode(buf, offs):  # pragma: no cover (compiled)
        """Decode compressed RLE strings (pycocotools' ``rleFrString``).

        ``buf[offs[k]:offs[k + 1]]`` is string k; returns the flat counts
        and their offsets (k's counts are ``cnts[coff[k]:coff[k + 1]]``).
        """
        n = len(offs) - 1
        cnts = np.empty(len(buf), np.int64)
        coff = np.empty(n + 1, np.int64)
        m = 0
        for k in range(n):
            coff[k] = m
            p, e, j = offs[k], offs[k + 1], 0
            while p < e:
                x, sh, more = 0, 0, True
                while more:
                    c = np.int64(buf[p]) - 48
                    x |= (c & 0x1f) << sh
                    more = (c & 0x20) != 0
                    p += 1
                    sh += 5
                    if not more and (c & 0x10):
                        x |= np.int64(-1) << sh
                if j > 2:
                    x += cnts[m - 2]
                cnts[m] = x & 0xffffffff  # uint as in pycocotools
                m += 1
                j += 1
        coff[n] = m
        return cnts, coff

    @_nb.njit('int64[:](int64[:], int64[:], int64[:], int64[:])',
              cache=True, nogil=True)
    def _nb_intersect(cnts, coff, qa, qb):  # pragma: no cover (compiled)
        """|a & b| in pixels for each pair (qa[k], qb[k]) of decoded RLEs."""
        out = np.zeros(len(qa), np.int64)
        for k in range(len(qa)):
            ia, ea = coff[qa[k]], coff[qa[k] + 1]
            ib, eb = coff[qb[k]], coff[qb[k] + 1]
            if ia == ea or ib == eb:
                continue
            fa, fb = False, False  # inside a foreground run
            ra, rb = cnts[ia], cnts[ib]
            tot = 0
            while True:
                step = ra if ra < rb else rb
                if fa and fb:
                    tot += step
                ra -= step
                rb -= step
                if ra == 0:
                    ia += 1
                    if ia == ea:
                        break
                    ra = cnts[ia]
                    fa = not fa
                if rb == 0:
                    ib += 1
                    if ib == eb:
                        break
                    rb = cnts[ib]
                    fb = not fb
            out[k] = tot
        return out


def _as_bytes(counts):
    return counts if type(counts) is bytes else counts.encode('ascii')


def _pair_intersections_nb(dts, gts, work):
    """:func:`_pair_intersections` with the compiled kernels: each wanted
    mask is decoded once, then the run lists of the wanted pairs merged."""
    D, G = len(dts), len(gts)
    i, j, t = np.nonzero(work)
    dd, dt_ = np.nonzero(work.any(1))  # wanted prediction masks (d, t)
    gg, gt_ = np.nonzero(work.any(0))  # wanted ground-truth masks (g, t)
    T = work.shape[2]
    strs = [
        _as_bytes(dts[a].rles[b]['counts'])
        for a, b in zip(dd.tolist(), dt_.tolist())
    ]
    strs += [
        _as_bytes(gts[a].rles[b]['counts'])
        for a, b in zip(gg.tolist(), gt_.tolist())
    ]
    offs = np.zeros(len(strs) + 1, np.int64)
    np.cumsum([len(x) for x in strs], out=offs[1:])
    buf = np.frombuffer(bytearray(b''.join(strs)), np.uint8)
    cnts, coff = _nb_decode(buf, offs)
    d_id = np.full((D, T), -1, np.int64)
    d_id[dd, dt_] = np.arange(len(dd))
    g_id = np.full((G, T), -1, np.int64)
    g_id[gg, gt_] = np.arange(len(gg)) + len(dd)
    v = _nb_intersect(cnts, coff, d_id[i, t], g_id[j, t])
    inter = np.zeros((D, G), np.int64)
    np.add.at(inter, (i, j), v)
    return inter


def _pair_intersections(dts, gts, work, d_areas, g_areas):
    """Summed per-frame intersections of the (d, g, t) in ``work``.

    One ``pycocotools`` IoU call per video computes exactly the wanted
    pairs: each ground-truth mask (g, t) is declared with its own width
    W + 1 + t * G + g, and each prediction mask d_t once per wanted (g, t)
    with that width. pycocotools reads pixel rows with the height only
    (boxes stay exact), skips pairs with disjoint boxes and refuses pairs
    of different declared sizes (-1), so it walks the RLEs of wanted,
    overlapping pairs only. Falls back to one call per frame if
    :func:`_frame_tagging_ok` fails.

    Returns:
        np.ndarray: (D, G) int64.
    """
    D, G = len(dts), len(gts)
    di, dg, dt_ = np.nonzero(work)  # wanted (d, g, t)
    if _frame_tagging_ok():
        gj, gt_ = np.nonzero(work.any(0))  # ground-truth pieces (g, t)
        gp = []
        for j, t in zip(gj.tolist(), gt_.tolist()):
            r = gts[j].rles[t]
            gp.append(
                dict(
                    size=[r['size'][0], r['size'][1] + 1 + t * G + j],
                    counts=r['counts']))
        dp = []
        for i, j, t in zip(di.tolist(), dg.tolist(), dt_.tolist()):
            r = dts[i].rles[t]
            dp.append(
                dict(
                    size=[r['size'][0], r['size'][1] + 1 + t * G + j],
                    counts=r['counts']))
        ious = np.asarray(mask_utils.iou(dp, gp, [0] * len(gp)))
        pi, pj = np.nonzero(ious > 0)  # only same-tag pairs can be > 0
        i, j, t = di[pi], dg[pi], dt_[pi]
        v = ious[pi, pj]
    else:  # one call per frame, all pairs of the frame
        i, j, t, v = [], [], [], []
        for f in np.unique(dt_).tolist():
            dl = np.flatnonzero(work[:, :, f].any(1))
            gl = np.flatnonzero(work[:, :, f].any(0))
            res = np.asarray(
                mask_utils.iou([dts[k].rles[f] for k in dl.tolist()],
                               [gts[k].rles[f] for k in gl.tolist()],
                               [0] * len(gl)))
            a, b = np.nonzero(res > 0)
            i.append(dl[a])
            j.append(gl[b])
            t.append(np.full(len(a), f))
            v.append(res[a, b])
        i, j, t, v = map(np.concatenate, (i, j, t, v))
    # iou = i / (a + b - i)  =>  i = iou (a + b) / (1 + iou), exact after
    # rounding (integers far below 2^53)
    sums = d_areas[i, t] + g_areas[j, t]
    inter = np.zeros((D, G), np.int64)
    np.add.at(inter, (i, j), np.rint(v * sums / (1. + v)).astype(np.int64))
    return inter


def video_iou(dts, gts, min_iou=None, allowed=None):
    """Video IoU of every prediction / ground-truth pair of one video.

    IoU = sum_t |d_t & g_t| / sum_t |d_t | g_t|, 0 when the union is empty
    (|d_t | g_t| = |d_t| + |g_t| - |d_t & g_t|, absent masks are empty).
    Per-frame intersections come from ``pycocotools`` in one call per video
    (:func:`_pair_intersections`). With ``min_iou``, pairs whose bound
    sum_t min(|d_t|, |g_t|) / (union lower bound) is below it are not
    computed and get 0: they could not match at a threshold >= ``min_iou``.

    Args:
        dts (list[Track]): D predictions.
        gts (list[Track]): G ground-truth tracks, same number of frames.
        min_iou (float, optional): skip pairs that cannot reach it.
        allowed (np.ndarray, optional): (D, G) bool, only these pairs are
            computed (the others get 0).

    Returns:
        np.ndarray: (D, G) float64 (exact, or 0 for skipped pairs).
    """
    D, G = len(dts), len(gts)
    if D == 0 or G == 0:
        return np.zeros((D, G))
    d_areas = np.stack([d.areas for d in dts])  # (D, T)
    g_areas = np.stack([g.areas for g in gts])  # (G, T)
    both = np.minimum(d_areas[:, None], g_areas[None])  # (D, G, T)
    total = d_areas.sum(1)[:, None] + g_areas.sum(1)[None, :]  # (D, G)
    cand = np.ones((D, G), bool)
    if min_iou is not None:
        bound = both.sum(2)
        # I / (A - I) grows with I: prune when even the bound fails
        cand = bound >= min_iou * (total - bound) * (1 - 1e-9)
    if allowed is not None:
        cand &= allowed
    work = (both > 0) & cand[:, :, None]
    inter = np.zeros((D, G), np.int64)
    if work.any():
        if _nb is not None:
            inter = _pair_intersections_nb(dts, gts, work)
        else:
            inter = _pair_intersections(dts, gts, work, d_areas, g_areas)
    union = total - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        ious = np.where(union > 0,
                        inter.astype(np.float64) / union.astype(np.float64),
                        0.)
    ious[~cand] = 0.
    return ious


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
    thrs = np.minimum(iou_thrs, 1 - 1e-10)
    cand = ious >= thrs.min() if D and G else np.zeros((D, G), bool)
    if cand.any() and (cand.sum(0).max() > 1 or cand.sum(1).max() > 1):
        ig = gt_ig.tolist()
        rows = ious.tolist()
        # candidates with IoU >= the lowest threshold; skipping the others
        # cannot change the official loop's outcome (they never match, and
        # the ignored-gt break only depends on the current best match).
        cands = [np.flatnonzero(c).tolist() for c in cand]
        for ti, thr in enumerate(thrs.tolist()):
            gt_taken = [False] * G
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
    elif cand.any():
        # every prediction has at most one candidate and vice versa: the
        # greedy loop reduces to "IoU >= threshold" for those pairs
        d_idx, g_idx = np.nonzero(cand)
        hit = ious[d_idx, g_idx][None, :] >= thrs[:, None]  # (T, K)
        matched[:, d_idx] = hit
        dt_ig[:, d_idx] = hit & gt_ig[g_idx][None, :]
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
    min_iou = float(np.min(params.iou_thrs))
    by_cat_g, by_cat_d = {}, {}
    for k, g in enumerate(gts):
        by_cat_g.setdefault(g.category_id, []).append(k)
    for k, d in enumerate(dts):
        by_cat_d.setdefault(d.category_id, []).append(k)
    full = None
    if not class_agnostic and dts and gts:
        # one IoU computation for all categories, same-category pairs only
        full = video_iou(
            dts,
            gts,
            min_iou,
            allowed=np.array([d.category_id
                              for d in dts])[:, None] == np.array(
                                  [g.category_id for g in gts])[None, :])
    keys = [-1] if class_agnostic else list(cat_ids)
    out = {}
    for key in keys:
        cats = cat_ids if key == -1 else [key]
        gi = [k for c in cats for k in by_cat_g.get(c, ())]
        di = [k for c in cats for k in by_cat_d.get(c, ())]
        if not gi and not di:
            out[key] = None
            continue
        order = np.argsort([-dts[k].score for k in di], kind='mergesort')
        di = [di[i] for i in order[:params.max_dets[-1]]]
        d = [dts[k] for k in di]
        g = [gts[k] for k in gi]
        if full is None:
            ious = video_iou(d, g, min_iou)
        else:
            ious = full[np.ix_(di, gi)]
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
