"""Upstream MaskCut's patch-level loop with its dense solver (reference).

Used by the tests and ``benchmarks/maskcut_bench.py`` to check that the fast
path gives the same masks. It reproduces upstream behaviour step by step:
features are zeroed and the graph rebuilt before every solve, the dense
float64 ``scipy.linalg.eigh(D - A, D, subset_by_index=[1, 2])`` is solved,
and rejected masks are kept as all-zero entries. Slow by design
(~10-25 s per solve on a 60x60 grid).
"""
import numpy as np
import torch
import torch.nn.functional as F
from scipy.linalg import eigh

from vcl_mm.datasets.api_wrappers.masks import mask_iou
from vcl_mm.maskcut.eigensolver import AFFINITY_FLOOR
from vcl_mm.maskcut.ncut import select_object

__all__ = ['reference_maskcut', 'upstream_loop', 'effective_masks']


def _dense_affinity(feats, tau, eps=AFFINITY_FLOOR):
    """Upstream's A and D (float64 numpy) from (C, n) float32 features."""
    feats = F.normalize(feats, p=2, dim=0)
    a = (feats.transpose(0, 1) @ feats).cpu().numpy()
    a = a > tau
    a = np.where(a.astype(float) == 0, eps, a)
    return a, np.diag(np.sum(a, axis=1))


def upstream_loop(solve, h, w, num_masks=3):
    """Upstream's iteration logic around any per-graph solver.

    Args:
        solve (callable): ``keep (h * w,) bool -> (mask (h, w) bool,
            info)``, the object found on the graph whose unkept patches
            have zeroed features.
        h (int): grid height.
        w (int): grid width.
        num_masks (int): number of solves.

    Returns:
        tuple: ``num_masks`` masks (all-False for rejected iterations) and
        the per-solve infos.
    """
    painting = np.zeros(h * w, bool)
    current = None
    masks, infos = [], []
    for i in range(num_masks):
        if i > 0:
            painting |= current.ravel()
        mask, info = solve(~painting)
        if i >= 1:
            ratio = mask.sum() / h / w
            iou = mask_iou(current, mask, empty=float('nan'))
            if iou > 0.5 or ratio <= 0.01:
                mask = np.zeros((h, w), bool)
        current = mask
        masks.append(mask)
        infos.append(info)
    return masks, infos


def reference_maskcut(feats, tau=0.15, num_masks=3, sign='as_is'):
    """Upstream's patch-level MaskCut.

    Args:
        feats (torch.Tensor | np.ndarray): (C, h, w) patch features.
        tau (float): similarity threshold.
        num_masks (int): number of solves (upstream ``N``).
        sign (str): how the sign-dependent case is settled (see
            :func:`~vcl_mm.maskcut.ncut.select_object`); ``'as_is'`` keeps
            LAPACK's sign, exactly as upstream.

    Returns:
        dict: ``masks``, a list of ``num_masks`` (h, w) bool arrays
        (all-False for rejected iterations, as upstream), ``vectors`` the
        eigenvectors (n,) and ``ambiguous`` the per-solve flags.
    """
    if isinstance(feats, np.ndarray):
        feats = torch.from_numpy(feats)
    c, h, w = feats.shape
    feats = feats.detach().float().reshape(c, h * w).cpu()

    def solve(keep):
        zeroed = feats * torch.from_numpy(keep).float()[None]
        a, d = _dense_affinity(zeroed, tau)
        _, vecs = eigh(d - a, d, subset_by_index=[1, 2])
        x = vecs[:, 0]
        mask, amb = select_object(x, h, w, sign=sign)
        return mask, (x, amb)

    masks, infos = upstream_loop(solve, h, w, num_masks)
    return dict(
        masks=masks,
        vectors=[i[0] for i in infos],
        ambiguous=[i[1] for i in infos])


def effective_masks(masks):
    """What survives of a mask sequence once earlier masks are subtracted
    (the step after upsampling), empty ones dropped.

    Upstream's sequence (with all-zero rejected entries) and the fast
    path's (rejected masks omitted, a re-found mask returned once) give
    the same effective masks.

    Args:
        masks (list[np.ndarray]): (h, w) bool masks in discovery order.

    Returns:
        list[np.ndarray]: (h, w) bool, disjoint, non-empty.
    """
    out = []
    taken = None
    for m in masks:
        m = np.asarray(m, bool)
        rest = m if taken is None else m & ~taken
        taken = m.copy() if taken is None else taken | m
        if rest.any():
            out.append(rest)
    return out
