"""MaskCut's rules on top of the Normalized-cut solver: which side of a
Fiedler vector is the object, when a mask is rejected, and the loop that
finds up to ``N`` objects per image (batched over images).

The affinity graph and the eigen solver are in
:mod:`vcl_mm.maskcut.eigensolver`; this module applies upstream's rules to
its vectors, with the results upstream's dense solver gives.
"""
import functools

import numpy as np
import torch
from scipy import ndimage

from vcl_mm.datasets.api_wrappers.masks import mask_iou

from .eigensolver import binary_affinity, fiedler_vectors, lapack_sign

__all__ = [
    'select_object', 'maskcut_patch_masks', 'maskcut_patch_masks_batch'
]


def _as_feature_tensor(feats, batched):
    """(C, h, w) or (B, C, h, w) tensor/array -> float32 tensor, batched."""
    if isinstance(feats, np.ndarray):
        feats = torch.from_numpy(np.ascontiguousarray(feats))
    if not torch.is_tensor(feats):
        raise TypeError(f'feats must be a tensor or array, got {type(feats)}')
    want = 4 if batched else 3
    if feats.dim() != want:
        shape = '(B, C, h, w)' if batched else '(C, h, w)'
        raise ValueError(f'feats must be {shape}, got {tuple(feats.shape)}')
    feats = feats.detach().float()
    return feats if batched else feats[None]


def _corner_count(side, h, w):
    """How many of the 4 corner patches are in ``side`` ((n,) bool)."""
    return int(side[0]) + int(side[w - 1]) + int(side[(h - 1) * w]) + int(
        side[h * w - 1])


def _choose_side(x, h, w):
    """Upstream's foreground choice for one sign of the eigenvector.

    Returns:
        tuple: side (n,) bool and the eigenvector with the sign under which
        ``side`` is its positive part.
    """
    side = x > np.sum(x) / len(x)
    seed = np.argmax(np.abs(x))
    if _corner_count(side, h, w) >= 3 or not side[seed]:
        return ~side, -x
    return side, x


def _seed_component(side, x, h, w):
    """The 4-connected component of ``side`` holding the most extreme patch
    of ``x`` (upstream: ``argmax`` of the sign-adjusted vector)."""
    labels, _ = ndimage.label(side.reshape(h, w))
    return labels == labels.flat[int(np.argmax(x))]


def select_object(x, h, w, sign='corners'):
    """Patch mask of the object defined by a Fiedler vector (upstream rules).

    ``bipartition = x > mean(x)``; ``seed = argmax |x|``; if >= 3 corners
    are in the bipartition, or the seed is not, the complement is taken
    (with the vector's sign flipped); the object is the 4-connected
    component of the chosen side that holds the most extreme patch.

    These rules are sign-invariant except when the side of the seed holds
    >= 3 corners: then upstream's result depends on the arbitrary sign that
    LAPACK returned (the corner rule wins when the seed's side is the
    positive one, the seed rule otherwise). ``sign`` settles that case:
    ``'corners'`` lets the corner rule win (object-centric prior),
    ``'seed'`` lets the seed rule win, ``'as_is'`` uses the given sign, and
    a callable gets ``x`` and returns the sign to apply (+1 or -1; 0 means
    undecided and falls back to ``'corners'``), e.g.
    :func:`~vcl_mm.maskcut.eigensolver.lapack_sign`.

    Args:
        x (np.ndarray): (h * w,) float generalized eigenvector.
        h (int): grid height in patches.
        w (int): grid width in patches.
        sign (str | callable): policy for the sign-dependent case.

    Returns:
        tuple: mask (h, w) bool and whether the case was sign-dependent.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    masks = []
    for signed in (x, -x):
        side, oriented = _choose_side(signed, h, w)
        masks.append(_seed_component(side, oriented, h, w))
    if np.array_equal(masks[0], masks[1]):
        return masks[0], False
    seed_positive = x[np.argmax(np.abs(x))] > np.sum(x) / len(x)
    choice = sign(x) if callable(sign) else 0
    if choice == 0:
        if sign == 'as_is':
            choice = 1
        elif sign == 'seed':
            choice = -1 if seed_positive else 1
        elif sign == 'corners' or callable(sign):
            # with the seed's side positive, the corner rule fires
            choice = 1 if seed_positive else -1
        else:
            raise ValueError(f'unknown sign policy {sign!r}')
    return masks[0 if choice > 0 else 1], True


def maskcut_patch_masks_batch(feats,
                              tau=0.15,
                              num_masks=3,
                              sign='lapack',
                              min_area=0.01,
                              max_iou=0.5,
                              degenerate_gap=1e-6,
                              return_info=False,
                              **solver_cfg):
    """MaskCut's patch-level object discovery for a batch of images.

    Per image, up to ``num_masks`` solves. Before each solve after the
    first, the features of every accepted mask are zeroed. A mask found
    after the first solve is rejected if its IoU with the previous
    iteration's mask exceeds ``max_iou`` or its area is at most
    ``min_area`` of the grid. Upstream's rejected masks paint nothing, so
    upstream's next solve sees the same graph and finds the same mask
    again: after an area rejection every later solve is rejected too (here:
    stop); after an IoU rejection the next solve accepts the same mask,
    which this function returns once, spending both iterations. An
    accepted mask made only of zeroed patches leaves the graph unchanged
    and would be emptied by the subtraction of earlier masks: it ends the
    image. With these rules, the masks after subtraction of earlier masks
    (the step after upsampling) are exactly upstream's.

    One deliberate difference: when the second-smallest eigenvalue is
    repeated (a graph without structure, e.g. no two patches linked, or all
    linked), the eigenvector is an arbitrary member of the eigenspace and
    upstream reports whatever patches LAPACK's pick selects; here the image
    stops with the masks found so far.

    Args:
        feats (torch.Tensor | np.ndarray): (B, C, h, w) patch features.
        tau (float): similarity threshold of the binary affinity.
        num_masks (int): number of solves per image (upstream ``N``).
        sign (str | callable): settles the sign-dependent case of the
            rules: ``'lapack'`` (default) gives the sign upstream's solver
            gives (:func:`~vcl_mm.maskcut.eigensolver.lapack_sign`), else
            see :func:`select_object`.
        min_area (float): area fraction at or below which a later mask is
            rejected.
        max_iou (float): IoU with the previous mask above which a later
            mask is rejected.
        degenerate_gap (float): eigenvalue gap at or below which the
            solution counts as not unique.
        return_info (bool): also return per-image solver diagnostics.
        **solver_cfg: passed to
            :func:`~vcl_mm.maskcut.eigensolver.fiedler_vectors`.

    Returns:
        list[list[np.ndarray]]: per image, the accepted (h, w) bool patch
        masks in discovery order; with ``return_info`` also a list of
        dicts (``eigenvalues``, ``residuals``, ``ambiguous`` per solve).
    """
    feats = _as_feature_tensor(feats, batched=True)
    b, c, h, w = feats.shape
    n = h * w
    adj = binary_affinity(feats.reshape(b, c, n), tau)
    # cast once for all solves (0/1 is exact in any float dtype)
    binary = adj.to(solver_cfg.get('dtype', torch.float32))
    keep = torch.ones(b, n, dtype=torch.bool, device=feats.device)
    block = None  # warm start: the previous solve's Ritz vectors
    step = [0] * b
    prev = [None] * b
    masks = [[] for _ in range(b)]
    info = [dict(eigenvalues=[], residuals=[], ambiguous=[]) for _ in range(b)]
    while True:
        todo = [i for i in range(b) if step[i] < num_masks]
        if not todo:
            break
        idx = torch.tensor(todo, device=feats.device)
        init = None if block is None else block[idx]
        sol = fiedler_vectors(
            binary if len(todo) == b else binary[idx],
            keep[idx],
            init=init,
            **solver_cfg)
        if sol['block'] is not None:
            block = torch.zeros(
                (b, ) + sol['block'].shape[1:],
                dtype=sol['block'].dtype,
                device=sol['block'].device)
            block[idx] = sol['block']
        vectors = sol['vectors'].cpu().numpy()
        for j, i in enumerate(todo):
            if sol['gaps'][j] <= degenerate_gap:
                # e.g. no links, or all patches linked: every cut is
                # equally good, the eigenvector is an arbitrary member of
                # the eigenspace (upstream reports whatever LAPACK picks);
                # no object is reported
                step[i] = num_masks
                continue
            policy = sign
            if sign == 'lapack':
                policy = functools.partial(lapack_sign, adj[i], keep[i])
            mask, amb = select_object(vectors[j], h, w, sign=policy)
            info[i]['eigenvalues'].append(float(sol['eigenvalues'][j]))
            info[i]['residuals'].append(float(sol['residuals'][j]))
            info[i]['ambiguous'].append(amb)
            if step[i] >= 1:
                if mask.sum() / h / w <= min_area:
                    step[i] = num_masks  # every later solve repeats this
                    continue
                if mask_iou(prev[i], mask, empty=0.) > max_iou:
                    # upstream re-finds and accepts it at the next solve
                    step[i] += 1
                    if step[i] >= num_masks:
                        continue
            step[i] += 1
            prev[i] = mask
            new = torch.from_numpy(mask.ravel()).to(keep.device) & keep[i]
            if not bool(new.any()):
                # all of it is zeroed already: the graph stays the same and
                # upstream's remaining solves repeat this mask, which the
                # subtraction of earlier masks then empties
                step[i] = num_masks
                continue
            masks[i].append(mask)
            keep[i] &= ~new
    return (masks, info) if return_info else masks


def maskcut_patch_masks(feats, tau=0.15, num_masks=3, **kwargs):
    """MaskCut's patch-level masks of one image (official rules, fast).

    Args:
        feats (torch.Tensor | np.ndarray): (C, h, w) patch features, e.g.
            the last-block attention keys of a DINO ViT.
        tau (float): similarity threshold (0.15 made the released labels).
        num_masks (int): at most this many masks (upstream ``N = 3``).
        **kwargs: see :func:`maskcut_patch_masks_batch`.

    Returns:
        list[np.ndarray]: at most ``num_masks`` (h, w) bool patch masks in
        discovery order, before upsampling and CRF (they may overlap where
        a later mask re-covers zeroed patches; the refinement subtracts
        earlier masks).
    """
    feats = _as_feature_tensor(feats, batched=False)
    out = maskcut_patch_masks_batch(feats, tau, num_masks, **kwargs)
    if kwargs.get('return_info'):
        return out[0][0], out[1][0]
    return out[0]
