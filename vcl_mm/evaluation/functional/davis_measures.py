"""DAVIS per-frame measures: region J and boundary F of every proposal /
object pair of a frame, and the per-object statistics (Mean, Recall,
Decay) of the official davis2017-evaluation tools (see
:mod:`.davis_eval` for the protocol)."""
import warnings

import cv2
import numpy as np

from vcl_mm.datasets.api_wrappers.davis_format import VOID_LABEL
from vcl_mm.utils.errors import InputError

__all__ = [
    'MAX_PROPOSALS', 'disk', 'boundary_radius', 'label_boundaries',
    'frame_scores', 'db_statistics'
]

#: Most proposals per sequence the unsupervised protocol accepts.
MAX_PROPOSALS = 20


def disk(radius):
    """Disk structuring element: x^2 + y^2 <= radius^2.

    Args:
        radius (int | float): radius in pixels.

    Returns:
        np.ndarray: (2r+1, 2r+1) uint8 of 0/1.
    """
    r = int(radius)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return (xx**2 + yy**2 <= radius**2).astype(np.uint8)


def boundary_radius(shape, bound_th=0.008):
    """Boundary match tolerance in pixels.

    Args:
        shape (tuple): (H, W) of the frame.
        bound_th (float): fraction of the diagonal if < 1, else pixels.

    Returns:
        float: ``bound_th`` if >= 1 else ceil(bound_th * sqrt(H^2 + W^2)).
    """
    if bound_th >= 1:
        return bound_th
    return float(np.ceil(bound_th * np.linalg.norm(shape[:2])))


def label_boundaries(labels, max_label):
    """Boundary pixels of every label of a label map (official seg2bmap).

    A pixel is on the boundary of label k when exactly one of it and its
    right, lower or lower-right neighbour (inside the image) has label k.

    Args:
        labels (np.ndarray): (H, W) integer labels; 0 is background.
        max_label (int): labels above it are ignored.

    Returns:
        dict: label (1..max_label) -> (ys, xs) int arrays of its boundary
        pixels; labels without boundary are absent.
    """
    H, W = labels.shape
    chunks_lab, chunks_pos = [], []
    for a, b in ((labels[:, :-1], labels[:,
                                         1:]), (labels[:-1, :], labels[1:, :]),
                 (labels[:-1, :-1], labels[1:, 1:])):
        ys, xs = np.nonzero(a != b)
        if not len(ys):
            continue
        p = ys * W + xs
        chunks_lab += [a[ys, xs], b[ys, xs]]
        chunks_pos += [p, p]
    if not chunks_lab:
        return {}
    lab = np.concatenate(chunks_lab).astype(np.int64)
    pos = np.concatenate(chunks_pos).astype(np.int64)
    keep = (lab > 0) & (lab <= max_label)
    key = np.unique(lab[keep] * (H * W) + pos[keep])
    lab, pos = np.divmod(key, H * W)
    out = {}
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    ends = np.r_[starts[1:], len(lab)]
    for s, e in zip(starts, ends):
        ys, xs = np.divmod(pos[s:e], W)
        out[int(lab[s])] = (ys, xs)
    return out


def _dilate(points, shape, kernel):
    """Dilation of a sparse boundary, cropped to where it can be non-zero.

    Returns:
        tuple: (y0, x0, crop) with crop a uint8 array.
    """
    ys, xs = points
    r = kernel.shape[0] // 2
    H, W = shape
    y0, y1 = max(int(ys.min()) - r, 0), min(int(ys.max()) + r + 1, H)
    x0, x1 = max(int(xs.min()) - r, 0), min(int(xs.max()) + r + 1, W)
    crop = np.zeros((y1 - y0, x1 - x0), np.uint8)
    crop[ys - y0, xs - x0] = 1
    return y0, x0, cv2.dilate(crop, kernel)


def _count_in(points, dil):
    """Number of ``points`` (ys, xs) where the cropped dilation is set."""
    y0, x0, crop = dil
    ys, xs = points
    h, w = crop.shape
    yy, xx = ys - y0, xs - x0
    inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
    if not inside.any():
        return 0
    return int(crop[yy[inside], xx[inside]].sum())


def frame_scores(gt_labels,
                 res_labels,
                 num_objects,
                 num_proposals=MAX_PROPOSALS,
                 void=None,
                 bound_th=0.008):
    """J and F of every proposal against every object in one frame.

    Args:
        gt_labels (np.ndarray): (H, W) integer object ids, 0 background;
            ids above ``num_objects`` are treated as background. Void
            pixels may be marked with :data:`VOID_LABEL` or in ``void``.
        res_labels (np.ndarray): (H, W) integer proposal ids 0..P.
        num_objects (int): G, objects evaluated (ids 1..G).
        num_proposals (int): P, proposal ids 1..P get a row.
        void (np.ndarray, optional): (H, W) bool void pixels.
        bound_th (float): boundary tolerance (see :func:`boundary_radius`).

    Returns:
        tuple: J (P, G) and F (P, G) float64.
    """
    if gt_labels.shape != res_labels.shape:
        raise InputError(f'prediction of size {res_labels.shape} for ground '
                         f'truth of size {gt_labels.shape}')
    G, P = num_objects, num_proposals
    void_map = gt_labels == VOID_LABEL
    if void is not None:
        void_map |= void
    has_void = bool(void_map.any())
    gt = gt_labels.astype(np.uint8, copy=True)
    gt[(gt_labels > G) | void_map] = 0
    res = res_labels.astype(np.uint8, copy=True)
    if has_void:
        res[void_map] = 0
    if G == 0:
        return np.zeros((P, 0)), np.zeros((P, 0))
    # J: joint histogram of the two label maps over non-void pixels
    idx = gt.astype(np.intp) * (P + 1) + res
    if has_void:
        idx[void_map] = (G + 1) * (P + 1)
    conf = np.bincount(
        idx.ravel(), minlength=(G + 1) * (P + 1) + 1)[:(G + 1) * (P + 1)]
    conf = conf.reshape(G + 1, P + 1)
    inter = conf[1:, 1:].T  # (P, G)
    area_g = conf[1:, :].sum(1)
    area_r = conf[:, 1:].sum(0)
    union = area_r[:, None] + area_g[None, :] - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        J = inter / union
    J[union == 0] = 1
    # F: boundaries and dilations once per label
    kernel = disk(boundary_radius(gt.shape, bound_th))
    gb = label_boundaries(gt, G)
    rb = label_boundaries(res, P)
    g_dil = {k: _dilate(p, gt.shape, kernel) for k, p in gb.items()}
    r_dil = {k: _dilate(p, gt.shape, kernel) for k, p in rb.items()}
    n_gt = np.zeros(G, np.int64)
    n_fg = np.zeros(P, np.int64)
    for k, (ys, _) in gb.items():
        n_gt[k - 1] = len(ys)
    for k, (ys, _) in rb.items():
        n_fg[k - 1] = len(ys)
    fg_match = np.zeros((P, G), np.int64)
    gt_match = np.zeros((P, G), np.int64)
    for j, pts_r in rb.items():
        for i, pts_g in gb.items():
            fg_match[j - 1, i - 1] = _count_in(pts_r, g_dil[i])
            gt_match[j - 1, i - 1] = _count_in(pts_g, r_dil[j])
    nf = np.broadcast_to(n_fg[:, None], (P, G))
    ng = np.broadcast_to(n_gt[None, :], (P, G))
    with np.errstate(invalid='ignore', divide='ignore'):
        precision = fg_match / nf.astype(np.float64)
        recall = gt_match / ng.astype(np.float64)
    precision[nf == 0] = 1
    recall[(nf == 0) & (ng > 0)] = 0
    precision[(nf > 0) & (ng == 0)] = 0
    recall[ng == 0] = 1
    denom = precision + recall
    with np.errstate(invalid='ignore', divide='ignore'):
        F = 2 * precision * recall / denom
    F[denom == 0] = 0
    return J, F


def db_statistics(values):
    """Mean, recall and decay of per-frame values (official definition).

    Args:
        values (np.ndarray): (T,) per-frame J or F of one object.

    Returns:
        tuple: (mean, recall = fraction > 0.5, decay = mean of the first
        minus the mean of the last of 4 overlapping quantile bins).
    """
    values = np.asarray(values, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', category=RuntimeWarning)
        mean = np.nanmean(values)
        recall = np.nanmean(values > 0.5)
        ids = (np.round(np.linspace(1, len(values), 5) + 1e-10) - 1).astype(
            np.int64)
        bins = [values[ids[i]:ids[i + 1] + 1] for i in range(4)]
        decay = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return mean, recall, decay
