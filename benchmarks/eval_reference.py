"""Straightforward re-statements of the official evaluators' *design*.

Used by ``benchmarks/eval_bench.py`` (speed and memory baselines) and by the
tests (exactness cross-checks on random cases). Deliberately written the way
the official tools work, not fast:

* :func:`ytvis_reference`: YTVOSeval (YouTube-VIS fork of pycocotools):
  dict annotations, per pair of tracks and per frame two RLE ``merge`` and
  ``area`` calls, per-detection Python matching loops, per-threshold
  accumulation with Python lists.
* :func:`davis_reference`: davis2017-evaluation, unsupervised task: every
  mask of a sequence loaded as float64 arrays, one binary array per object
  and per proposal (all frames), per pair and per frame ``seg2bmap`` and
  two disk dilations.

Neither official package installs from a package registry, so these
re-statements stand in for them.
"""
import os
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils
from scipy.optimize import linear_sum_assignment

# --------------------------------------------------------------------------
# YouTube-VIS (YTVOSeval design)
# --------------------------------------------------------------------------


def _ref_to_rle(seg, h, w):
    if isinstance(seg, list):
        return mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
    if isinstance(seg['counts'], list):
        return mask_utils.frPyObjects(seg, h, w)
    return seg


def _ref_avg(values):
    kept = [a for a in values if a]
    return 0 if len(kept) == 0 else np.array(kept).mean()


def ytvis_reference(gt, results, use_cats=False, timings=None):
    """Official-design YouTube-VIS evaluation.

    Args:
        gt (dict): official ground-truth JSON content (not modified).
        results (list): official results (not modified).
        use_cats (bool): class-aware (True) or ``useCats=0`` (False).
        timings (dict, optional): filled with seconds spent in 'load'
            (loadRes + _prepare), 'iou' (computeIoU), 'match'
            (evaluateVid) and 'accumulate' (accumulate + summarize).

    Returns:
        np.ndarray: (12,) statistics in the official order.
    """
    import copy
    import time
    clock = [time.perf_counter()]

    def lap(name):
        now = time.perf_counter()
        if timings is not None:
            timings[name] = now - clock[0]
        clock[0] = now

    gt = copy.deepcopy(gt)
    results = copy.deepcopy(results)
    lap('copy')
    videos = {v['id']: v for v in gt['videos']}
    vid_ids = sorted(videos)
    cat_ids = sorted(c['id'] for c in gt['categories'])
    iou_thrs = np.linspace(
        .5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
    rec_thrs = np.linspace(
        .0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
    max_dets = [1, 10, 100]
    area_rng = [[0**2, 1e5**2], [0**2, 128**2], [128**2, 256**2],
                [256**2, 1e5**2]]
    area_lbl = ['all', 'small', 'medium', 'large']

    # loadRes
    for i, ann in enumerate(results):
        ann['areas'] = []
        for seg in ann['segmentations']:
            ann['areas'].append(mask_utils.area(seg) if seg else None)
        ann['id'] = i + 1
        ann['avg_area'] = _ref_avg(ann['areas'])
        ann['iscrowd'] = 0
    # _prepare
    gts_by_vid = defaultdict(list)
    for ann in gt['annotations']:
        gts_by_vid[ann['video_id']].append(ann)
    dts_by_vid = defaultdict(list)
    for ann in results:
        dts_by_vid[ann['video_id']].append(ann)
    gts = [a for v in vid_ids for a in gts_by_vid[v]]
    dts = [a for v in vid_ids for a in dts_by_vid[v]]
    if use_cats:
        gts = [a for a in gts if a['category_id'] in cat_ids]
        dts = [a for a in dts if a['category_id'] in cat_ids]
    for anns in (gts, dts):
        for ann in anns:
            v = videos[ann['video_id']]
            for i, s in enumerate(ann['segmentations']):
                if s:
                    ann['segmentations'][i] = _ref_to_rle(
                        s, v['height'], v['width'])
            ann['avg_area'] = _ref_avg(ann['areas'])
    for g in gts:
        g['ignore'] = 'iscrowd' in g and g['iscrowd']
    _gts, _dts = defaultdict(list), defaultdict(list)
    for g in gts:
        _gts[g['video_id'], g['category_id']].append(g)
    for d in dts:
        _dts[d['video_id'], d['category_id']].append(d)

    def gather(vid, cat):
        if use_cats:
            return _gts[vid, cat], _dts[vid, cat]
        return ([a for c in cat_ids
                 for a in _gts[vid,
                               c]], [a for c in cat_ids for a in _dts[vid, c]])

    def iou_seq(d_seq, g_seq):
        i = u = .0
        for d, g in zip(d_seq, g_seq):
            if d and g:
                i += mask_utils.area(mask_utils.merge([d, g], True))
                u += mask_utils.area(mask_utils.merge([d, g], False))
            elif not d and g:
                u += mask_utils.area(g)
            elif d and not g:
                u += mask_utils.area(d)
        return i / u if u > .0 else .0

    def compute_iou(vid, cat):
        g, d = gather(vid, cat)
        if len(g) == 0 and len(d) == 0:
            return []
        inds = np.argsort([-x['score'] for x in d], kind='mergesort')
        d = [d[i] for i in inds][:max_dets[-1]]
        ious = np.zeros([len(d), len(g)])
        for i, j in np.ndindex(ious.shape):
            ious[i, j] = iou_seq(d[i]['segmentations'], g[j]['segmentations'])
        return ious

    lap('load')
    cats = cat_ids if use_cats else [-1]
    all_ious = {(v, c): compute_iou(v, c) for v in vid_ids for c in cats}
    lap('iou')

    def evaluate_vid(vid, cat, a_rng, max_det):
        g, d = gather(vid, cat)
        if len(g) == 0 and len(d) == 0:
            return None
        for x in g:
            x['_ignore'] = 1 if (x['ignore'] or x['avg_area'] < a_rng[0]
                                 or x['avg_area'] > a_rng[1]) else 0
        gtind = np.argsort([x['_ignore'] for x in g], kind='mergesort')
        g = [g[i] for i in gtind]
        dtind = np.argsort([-x['score'] for x in d], kind='mergesort')
        d = [d[i] for i in dtind[0:max_det]]
        iscrowd = [int(x.get('iscrowd', 0)) for x in g]
        ious = all_ious[vid, cat]
        ious = ious[:, gtind] if len(ious) > 0 else ious
        T, G, D = len(iou_thrs), len(g), len(d)
        gtm, dtm = np.zeros((T, G)), np.zeros((T, D))
        gt_ig = np.array([x['_ignore'] for x in g])
        dt_ig = np.zeros((T, D))
        if not len(ious) == 0:
            for ti, t in enumerate(iou_thrs):
                for di, dd in enumerate(d):
                    iou = min([t, 1 - 1e-10])
                    m = -1
                    for gi, gg in enumerate(g):
                        if gtm[ti, gi] > 0 and not iscrowd[gi]:
                            continue
                        if m > -1 and gt_ig[m] == 0 and gt_ig[gi] == 1:
                            break
                        if ious[di, gi] < iou:
                            continue
                        iou = ious[di, gi]
                        m = gi
                    if m == -1:
                        continue
                    dt_ig[ti, di] = gt_ig[m]
                    dtm[ti, di] = g[m]['id']
                    gtm[ti, m] = dd['id']
        a = np.array([
            x['avg_area'] < a_rng[0] or x['avg_area'] > a_rng[1] for x in d
        ]).reshape((1, len(d)))
        dt_ig = np.logical_or(dt_ig,
                              np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return dict(
            dtMatches=dtm,
            dtScores=[x['score'] for x in d],
            gtIgnore=gt_ig,
            dtIgnore=dt_ig)

    eval_imgs = [
        evaluate_vid(v, c, a, max_dets[-1]) for c in cats for a in area_rng
        for v in vid_ids
    ]
    lap('match')
    # accumulate
    T, R, K, A, M = (len(iou_thrs), len(rec_thrs), len(cats), len(area_rng),
                     len(max_dets))
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    n_v = len(vid_ids)
    for k in range(K):
        for a in range(A):
            for m, max_det in enumerate(max_dets):
                E = [eval_imgs[k * A * n_v + a * n_v + i] for i in range(n_v)]
                E = [e for e in E if e is not None]
                if len(E) == 0:
                    continue
                scores = np.concatenate([e['dtScores'][0:max_det] for e in E])
                inds = np.argsort(-scores, kind='mergesort')
                dtm = np.concatenate([e['dtMatches'][:, 0:max_det] for e in E],
                                     axis=1)[:, inds]
                dt_ig = np.concatenate(
                    [e['dtIgnore'][:, 0:max_det] for e in E], axis=1)[:, inds]
                gt_ig = np.concatenate([e['gtIgnore'] for e in E])
                npig = np.count_nonzero(gt_ig == 0)
                if npig == 0:
                    continue
                tps = np.logical_and(dtm, np.logical_not(dt_ig))
                fps = np.logical_and(
                    np.logical_not(dtm), np.logical_not(dt_ig))
                tp_sum = np.cumsum(tps, axis=1).astype(dtype=np.float64)
                fp_sum = np.cumsum(fps, axis=1).astype(dtype=np.float64)
                for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                    nd = len(tp)
                    rc = tp / npig
                    pr = tp / (fp + tp + np.spacing(1))
                    q = np.zeros((R, ))
                    recall[t, k, a, m] = rc[-1] if nd else 0
                    pr = pr.tolist()
                    q = q.tolist()
                    for i in range(nd - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    inds = np.searchsorted(rc, rec_thrs, side='left')
                    try:
                        for ri, pi in enumerate(inds):
                            q[ri] = pr[pi]
                    except IndexError:
                        pass
                    precision[t, :, k, a, m] = np.array(q)

    def summ(ap=1, iou_thr=None, area='all', md=100):
        aind = [i for i, x in enumerate(area_lbl) if x == area]
        mind = [i for i, x in enumerate(max_dets) if x == md]
        if ap == 1:
            s = precision
            if iou_thr is not None:
                s = s[np.where(iou_thr == iou_thrs)[0]]
            s = s[:, :, :, aind, mind]
        else:
            s = recall
            if iou_thr is not None:
                s = s[np.where(iou_thr == iou_thrs)[0]]
            s = s[:, :, aind, mind]
        return -1 if len(s[s > -1]) == 0 else np.mean(s[s > -1])

    stats = np.array([
        summ(1),
        summ(1, .5, md=100),
        summ(1, .75, md=100),
        summ(1, area='small'),
        summ(1, area='medium'),
        summ(1, area='large'),
        summ(0, md=1),
        summ(0, md=10),
        summ(0, md=100),
        summ(0, area='small'),
        summ(0, area='medium'),
        summ(0, area='large')
    ])
    lap('accumulate')
    return stats


# --------------------------------------------------------------------------
# DAVIS 2017 unsupervised (davis2017-evaluation design)
# --------------------------------------------------------------------------


def _ref_disk(radius):
    r = int(radius)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return (xx**2 + yy**2 <= radius**2).astype(np.uint8)


def _ref_seg2bmap(seg):
    seg = seg.astype(bool)
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = seg ^ e | seg ^ s | seg ^ se
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = 0
    return b


def _ref_f_measure(fg, gt, void, bound_th=0.008):
    bound_pix = bound_th if bound_th >= 1 else np.ceil(
        bound_th * np.linalg.norm(fg.shape))
    fg_b = _ref_seg2bmap(fg * np.logical_not(void))
    gt_b = _ref_seg2bmap(gt * np.logical_not(void))
    kernel = _ref_disk(bound_pix)
    fg_dil = cv2.dilate(fg_b.astype(np.uint8), kernel)
    gt_dil = cv2.dilate(gt_b.astype(np.uint8), kernel)
    gt_match = gt_b * fg_dil
    fg_match = fg_b * gt_dil
    n_fg, n_gt = np.sum(fg_b), np.sum(gt_b)
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1, 0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0, 1
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1, 1
    else:
        precision = np.sum(fg_match) / float(n_fg)
        recall = np.sum(gt_match) / float(n_gt)
    if precision + recall == 0:
        return 0
    return 2 * precision * recall / (precision + recall)


def _ref_iou(gt, seg, void):
    gt = gt.astype(bool)
    seg = seg.astype(bool)
    void = void.astype(bool)
    inters = np.sum((seg & gt) & np.logical_not(void), axis=(-2, -1))
    union = np.sum((seg | gt) & np.logical_not(void), axis=(-2, -1))
    with np.errstate(invalid='ignore', divide='ignore'):
        j = inters / union
    j[np.isclose(union, 0)] = 1
    return j


def _ref_statistics(values):
    M = np.nanmean(values)
    O = np.nanmean(values > 0.5)  # noqa: E741
    ids = np.round(np.linspace(1, len(values), 5) + 1e-10) - 1
    ids = ids.astype(np.uint8)
    bins = [values[ids[i]:ids[i + 1] + 1] for i in range(0, 4)]
    D = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return M, O, D


def _ref_read_all(paths, gt=False):
    first = np.array(Image.open(paths[0]))
    masks = np.zeros((len(paths), *first.shape))
    for i, p in enumerate(paths):
        img = Image.open(p)
        arr = np.array(img)
        if gt and img.mode != 'P' and set(np.unique(arr)) <= {0, 255}:
            arr = (arr == 255).astype(np.uint8)  # DAVIS-2016 0/255 masks
        masks[i] = arr
    return masks


def davis_reference(ann_dir,
                    results_dir,
                    sequences,
                    max_proposals=20,
                    bound_th=0.008):
    """Official-design DAVIS unsupervised evaluation.

    Args:
        ann_dir (str): folder of ``<seq>/<frame>.png`` ground truth.
        results_dir (str): folder of ``<seq>/<frame>.png`` indexed results.
        sequences (list[str]): sequence names, in evaluation order.

    Returns:
        dict: ``J&F-Mean``, ``J-Mean``, ``J-Recall``, ``J-Decay``,
        ``F-Mean``, ``F-Recall``, ``F-Decay``.
    """
    res = {'J': dict(M=[], R=[], D=[]), 'F': dict(M=[], R=[], D=[])}
    for seq in sequences:
        names = sorted(
            f for f in os.listdir(osp.join(ann_dir, seq))
            if f.endswith('.png'))
        masks = _ref_read_all([osp.join(ann_dir, seq, n) for n in names],
                              gt=True)
        void = np.zeros_like(masks)
        for k in range(masks.shape[0]):
            void[k] = masks[k] == 255
            masks[k, masks[k] == 255] = 0
        n_obj = int(np.max(masks[0]))
        tmp = np.ones((n_obj, *masks.shape))
        tmp = tmp * np.arange(1, n_obj + 1)[:, None, None, None]
        gt_masks = (tmp == masks[None]) > 0
        del tmp
        rmasks = _ref_read_all([osp.join(results_dir, seq, n) for n in names])
        n_res = int(np.max(rmasks))
        tmp = np.ones((n_res, *rmasks.shape))
        tmp = tmp * np.arange(1, n_res + 1)[:, None, None, None]
        res_masks = (tmp == rmasks[None]) > 0
        del tmp
        if res_masks.shape[0] > max_proposals:
            raise ValueError(f'{seq}: too many proposals')
        if res_masks.shape[0] < gt_masks.shape[0]:
            pad = np.zeros(
                (gt_masks.shape[0] - res_masks.shape[0], *res_masks.shape[1:]))
            res_masks = np.concatenate([res_masks, pad], axis=0)
        T = gt_masks.shape[1]
        j_res = np.zeros((res_masks.shape[0], gt_masks.shape[0], T))
        f_res = np.zeros((res_masks.shape[0], gt_masks.shape[0], T))
        for ii in range(gt_masks.shape[0]):
            for jj in range(res_masks.shape[0]):
                j_res[jj, ii] = _ref_iou(gt_masks[ii], res_masks[jj], void)
                for t in range(T):
                    f_res[jj, ii, t] = _ref_f_measure(res_masks[jj, t],
                                                      gt_masks[ii, t], void[t],
                                                      bound_th)
        allm = (np.mean(j_res, axis=2) + np.mean(f_res, axis=2)) / 2
        row, col = linear_sum_assignment(-allm)
        j_sel, f_sel = j_res[row, col], f_res[row, col]
        for ii in range(gt_masks.shape[0]):
            for key, arr in (('J', j_sel), ('F', f_sel)):
                M, R, D = _ref_statistics(arr[ii])
                res[key]['M'].append(M)
                res[key]['R'].append(R)
                res[key]['D'].append(D)
    J, F = res['J'], res['F']
    return {
        'J&F-Mean': (np.mean(J['M']) + np.mean(F['M'])) / 2.,
        'J-Mean': np.mean(J['M']),
        'J-Recall': np.mean(J['R']),
        'J-Decay': np.mean(J['D']),
        'F-Mean': np.mean(F['M']),
        'F-Recall': np.mean(F['R']),
        'F-Decay': np.mean(F['D']),
    }
