"""The official YouTube-VIS / COCO greedy matching of one (video,
category, area range), in compiled code (numba; the same function runs as
plain Python without it), and the precision / recall of one accumulation
cell vectorised over the IoU thresholds. numpy + numba only."""
import numpy as np

from vcl_mm.utils.compiled import njit_cached

try:
    import numba as _nb
except ImportError:  # pragma: no cover
    _nb = None

__all__ = ['greedy_match', 'evaluate_area_ranges', 'precision_recall']


def _greedy_match(ious, gt_ig, crowd, thrs, dt_ids, gt_ids, dtm, gtm,
                  dt_ig):  # pragma: no cover (compiled)
    """``YTVISeval.evaluateVid``'s loops, statement for statement: at each
    threshold, each detection (score order) takes the best still free (or
    crowd) ground truth, regular ground truth before ignored ones."""
    T, D, G = len(thrs), dtm.shape[1], gtm.shape[1]
    for t in range(T):
        for d in range(D):
            iou = min(thrs[t], 1 - 1e-10)
            m = -1
            for g in range(G):
                if gtm[t, g] > 0 and not crowd[g]:
                    continue
                if m > -1 and gt_ig[m] == 0 and gt_ig[g] == 1:
                    break
                if ious[d, g] < iou:
                    continue
                iou = ious[d, g]
                m = g
            if m == -1:
                continue
            dt_ig[t, d] = gt_ig[m]
            dtm[t, d] = gt_ids[m]
            gtm[t, m] = dt_ids[d]


if _nb is not None:
    _greedy_match = njit_cached(
        'void(float64[:, :], int64[:], int64[:], float64[:], float64[:], '
        'float64[:], float64[:, :], float64[:, :], float64[:, :])',
        nogil=True)(
            _greedy_match)


def greedy_match(ious, gt_ig, crowd, thrs, dt_ids, gt_ids):
    """Match D detections (score order) to G ground truths (ignored last).

    Args:
        ious (np.ndarray): (D, G) float64 video IoU.
        gt_ig (np.ndarray): (G,) int64 ignore flags (0 / 1).
        crowd (np.ndarray): (G,) int64 iscrowd flags.
        thrs (np.ndarray): (T,) float64 IoU thresholds.
        dt_ids, gt_ids (np.ndarray): (D,), (G,) float64 ids.

    Returns:
        tuple: ``dtMatches`` (T, D), ``gtMatches`` (T, G) and the matched
        part of ``dtIgnore`` (T, D), float64 as the official arrays.
    """
    T, D, G = len(thrs), len(dt_ids), len(gt_ids)
    dtm, gtm, dt_ig = np.zeros((T, D)), np.zeros((T, G)), np.zeros((T, D))
    if D and G:
        _greedy_match(
            np.ascontiguousarray(ious, np.float64), gt_ig, crowd,
            np.asarray(thrs, np.float64), dt_ids, gt_ids, dtm, gtm, dt_ig)
    return dtm, gtm, dt_ig


def evaluate_area_ranges(vidId, catId, gt, dt, ious, p, maxDet):
    """The official ``evaluateVid`` records of one (video, category key)
    for every area range of ``p.areaRng`` at once.

    Args:
        gt, dt (list[dict]): ground truth (``ignore``, ``avg_area``,
            ``iscrowd``, ``id``) and detections (``score``, ``avg_area``,
            ``id``) in the official order.
        ious (np.ndarray | list): ``computeIoU``'s (D', G) matrix (the top
            detections by score), or [] when both lists are empty.
        p (Params): ``iouThrs`` and ``areaRng``.
        maxDet (int): detections kept per video.

    Returns:
        list: per area range, the record dict (None when ``gt`` and ``dt``
        are both empty), equal to the official one.
    """
    if len(gt) == 0 and len(dt) == 0:
        return [None] * len(p.areaRng)
    dtind = np.argsort([-d['score'] for d in dt], kind='mergesort')
    dt = [dt[i] for i in dtind[0:maxDet]]
    D, G, T = len(dt), len(gt), len(p.iouThrs)
    dt_ids_l = [d['id'] for d in dt]
    dt_scores = [d['score'] for d in dt]
    dt_ids = np.array(dt_ids_l, np.float64).reshape(D)
    dt_area = np.array([d['avg_area'] for d in dt], np.float64).reshape(D)
    gt_ids_l = [g['id'] for g in gt]
    gt_ids = np.array(gt_ids_l, np.float64).reshape(G)
    g_area = np.array([g['avg_area'] for g in gt], np.float64).reshape(G)
    g_ign = np.array([bool(g['ignore']) for g in gt], bool).reshape(G)
    crowd = np.array([int(g['iscrowd']) for g in gt], np.int64).reshape(G)
    has_ious = len(ious) > 0
    if has_ious:
        ious = np.asarray(ious, np.float64)[:D]
    out = []
    for aRng in p.areaRng:
        gt_ig = (g_ign | (g_area < aRng[0]) | (g_area > aRng[1])).astype(
            np.int64)
        gtind = np.argsort(gt_ig, kind='mergesort')
        gt_ig = gt_ig[gtind] if G else np.zeros(0)  # official dtypes
        if has_ious:
            dtm, gtm, dt_ig = greedy_match(ious[:, gtind], gt_ig, crowd[gtind],
                                           p.iouThrs, dt_ids, gt_ids[gtind])
        else:
            dtm, gtm, dt_ig = np.zeros((T, D)), np.zeros((T, G)), np.zeros(
                (T, D))
        a = ((dt_area < aRng[0]) | (dt_area > aRng[1])).reshape((1, D))
        dt_ig = np.logical_or(dt_ig,
                              np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        out.append({
            'video_id': vidId,
            'category_id': catId,
            'aRng': aRng,
            'maxDet': maxDet,
            'dtIds': dt_ids_l,
            'gtIds': [gt_ids_l[i] for i in gtind.tolist()],
            'dtMatches': dtm,
            'gtMatches': gtm,
            'dtScores': dt_scores,
            'gtIgnore': gt_ig,
            'dtIgnore': dt_ig,
        })
    return out


def precision_recall(tps, fps, npig, scores_sorted, rec_thrs):
    """The official ``accumulate`` inner loop for all thresholds at once.

    Args:
        tps, fps (np.ndarray): (T, N) bool true / false positives in score
            order.
        npig (int): number of non-ignored ground truths (> 0).
        scores_sorted (np.ndarray): (N,) detection scores, sorted.
        rec_thrs (np.ndarray): (R,) recall thresholds.

    Returns:
        tuple: (T, R) interpolated precision, (T,) recall, (T, R) scores,
        equal to the official ones bit for bit (same operations per
        element; the envelope is a suffix maximum).
    """
    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
    T, N = tp_sum.shape
    R = len(rec_thrs)
    rc = tp_sum / npig
    pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
    q, ss = np.zeros((T, R)), np.zeros((T, R))
    if N == 0:
        return q, np.zeros(T), ss
    recall = rc[:, -1].copy()
    pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
    for t in range(T):
        inds = np.searchsorted(rc[t], rec_thrs, side='left')
        ok = inds < N  # the official loop stops at the first miss
        q[t, ok] = pr[t, inds[ok]]
        ss[t, ok] = scores_sorted[inds[ok]]
    return q, recall, ss
