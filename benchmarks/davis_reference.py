"""A straightforward re-statement of the official DAVIS-2017 evaluator's
*design* (davis2017-evaluation, unsupervised task), the speed and memory
baseline of ``benchmarks/eval_bench.py``: every mask of a sequence loaded as
float64 arrays, one binary array per object and per proposal (all frames),
per pair and per frame ``seg2bmap`` and two disk dilations. Deliberately
written the way the official tool works, not fast. The official package
does not install from a package registry, so this stands in for it (the
YouTube-VIS baseline is the official code itself: mmdet's ``YTVISeval``).
"""
import os
import os.path as osp

import cv2
import numpy as np
from PIL import Image
from scipy.optimize import linear_sum_assignment


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
