"""MaskCut's dense CRF in torch: pydensecrf's algorithm on any device,
batched over the masks of many images.

The model is pydensecrf's ``DenseCRF2D`` as MaskCut uses it: two labels,
unary ``-log softmax([1 - m, m])``, a Gaussian kernel on the pixel
positions ``(x, y) / sxy`` and a bilateral kernel on
``(x / sxy, y / sxy, r / srgb, g / srgb, b / srgb)``, both with Potts
compatibility, ``DIAG_KERNEL`` and ``NORMALIZE_SYMMETRIC`` (the message of
kernel ``k`` is ``n_k * K_k(n_k * Q)`` with ``n_k = 1 / sqrt(K_k(1))``), and
``iterations`` mean-field steps.

``K_k`` is filtered the way densecrf filters it, with a permutohedral
lattice built by densecrf's rules (:mod:`vcl_mm.maskcut.permutohedral`):
densecrf's results up to float32 rounding (summation order), not a
different approximation of the Gaussian. Differences from densecrf's code,
none in the model:

* the points of different images share one lattice with the image index in
  the key, so they never interact; the position-only Gaussian lattice is
  built once per image size and filters all images' channels together;
* with two labels the mean-field update is written for the difference
  ``Q1 - Q0`` (one channel per mask instead of two; the filter is linear);
* holes are filled on the device (:func:`fill_holes_torch`, scipy's
  result) when the CRF runs off the CPU.

On MaskCut's own unaries (``benchmarks/crf_bench.py``, DAVIS frames and
generated scenes at 480x480, CPU) the refined masks are pixel-identical to
pydensecrf's. The lattice depends on the image only, so it is built once
for all masks of an image (pydensecrf builds it for every mask).
"""
from collections import OrderedDict

import numpy as np
import torch

from .permutohedral import PermutohedralLattice

__all__ = ['dense_crf_torch', 'fill_holes_torch']


def _positions(h, w, device):
    """(H * W, 2) float32 (x, y) of the pixels, row-major."""
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device, dtype=torch.float32),
        torch.arange(w, device=device, dtype=torch.float32),
        indexing='ij')
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)


def _symmetric_norm(lattice):
    """densecrf's NORMALIZE_SYMMETRIC factors ``1 / sqrt(K(1))``, (N, 1)."""
    ones = torch.ones(lattice.num_points, 1, device=lattice.device)
    return 1. / torch.sqrt(lattice.filter(ones) + 1e-20)


#: (H, W, sxy, device) -> (lattice, norm) of the Gaussian kernel (it
#: depends on the image size only; MaskCut uses one size)
_POSITION_LATTICES = OrderedDict()


def _position_lattice(shape, sxy, device, cache_size=4):
    """The position-only lattice of an (H, W) image and its norm."""
    key = (tuple(shape), float(sxy), str(device))
    if key not in _POSITION_LATTICES:
        lattice = PermutohedralLattice(_positions(*shape, device) / sxy)
        _POSITION_LATTICES[key] = (lattice, _symmetric_norm(lattice))
        while len(_POSITION_LATTICES) > cache_size:
            _POSITION_LATTICES.popitem(last=False)
    _POSITION_LATTICES.move_to_end(key)
    return _POSITION_LATTICES[key]


def dense_crf_torch(images,
                    masks,
                    *,
                    iterations,
                    gaussian_sxy,
                    gaussian_compat,
                    bilateral_sxy,
                    bilateral_srgb,
                    bilateral_compat,
                    device='cpu',
                    images_per_lattice=None):
    """Mean-field dense CRF of two-label soft masks, one batch of images.

    Args:
        images (list[np.ndarray]): (H_i, W_i, 3) uint8 RGB images.
        masks (list[np.ndarray]): per image a (K_i, H_i, W_i) bool or
            float array in [0, 1], the foreground probability ``m`` whose
            unary is ``-log softmax([1 - m, m])`` (MaskCut's).
        iterations (int): mean-field steps (this and the Potts terms'
            parameters: :data:`vcl_mm.maskcut.refine.CRF_DEFAULTS`).
        gaussian_sxy (float): Gaussian kernel's position std (pixels).
        gaussian_compat (float): its Potts weight.
        bilateral_sxy (float): bilateral kernel's position std (pixels).
        bilateral_srgb (float): its colour std (0-255 units).
        bilateral_compat (float): its Potts weight.
        device (str | torch.device): where to run.
        images_per_lattice (int, optional): images filtered together in
            one lattice. None: all of them on a GPU, one at a time on the
            CPU (where large lattices are slower per mask:
            ``benchmarks/crf_bench.py``).

    Returns:
        list[torch.Tensor]: per image, (K_i, H_i, W_i) bool on ``device``:
        the argmax labels (foreground where ``Q1 > Q0``; holes not filled).
    """
    device = torch.device(device)
    if len(images) != len(masks):
        raise ValueError(f'{len(images)} images but {len(masks)} mask sets')
    step = images_per_lattice or (1 if device.type == 'cpu' else max(
        len(images), 1))
    if len(images) > step:
        params = dict(
            iterations=iterations,
            gaussian_sxy=gaussian_sxy,
            gaussian_compat=gaussian_compat,
            bilateral_sxy=bilateral_sxy,
            bilateral_srgb=bilateral_srgb,
            bilateral_compat=bilateral_compat,
            device=device,
            images_per_lattice=step)
        out = []
        for i in range(0, len(images), step):
            chunk = slice(i, i + step)
            out += dense_crf_torch(images[chunk], masks[chunk], **params)
        return out
    shapes = [img.shape[:2] for img in images]
    counts = [len(m) for m in masks]
    for img, m in zip(images, masks):
        if img.ndim != 3 or img.shape[2] != 3 or m.shape[1:] != img.shape[:2]:
            raise ValueError(f'image {img.shape} and masks {m.shape} do not '
                             'match: need (H, W, 3) and (K, H, W)')
    k_max = max(counts, default=0)
    if k_max == 0:
        return [
            torch.zeros((0, ) + tuple(s), dtype=torch.bool, device=device)
            for s in shapes
        ]
    # pixels of all images in one list; channels = masks (padded to k_max)
    feats, groups, prob = [], [], []
    for i, (img, m) in enumerate(zip(images, masks)):
        h, w = img.shape[:2]
        pos = _positions(h, w, device)
        rgb = torch.from_numpy(np.array(img, np.uint8)).to(device)
        rgb = rgb.reshape(-1, 3).float()
        feats.append(torch.cat([pos / bilateral_sxy, rgb / bilateral_srgb], 1))
        groups.append(torch.full((h * w, ), i, device=device))
        p = torch.zeros(h * w, k_max, device=device)
        if len(m):
            p[:, :len(m)] = torch.as_tensor(
                m, device=device).float().reshape(len(m), -1).t()
        prob.append(p)
    bilateral = PermutohedralLattice(torch.cat(feats), torch.cat(groups))
    bil_norm = _symmetric_norm(bilateral)
    # position-only lattice: one per image size, the images' masks as
    # channels
    by_shape = {}
    for i, s in enumerate(shapes):
        by_shape.setdefault(tuple(s), []).append(i)
    starts = [0]
    for h, w in shapes:
        starts.append(starts[-1] + h * w)
    gaussians = {
        shape: _position_lattice(shape, gaussian_sxy, device) + (idx, )
        for shape, idx in by_shape.items()
    }

    def gaussian_message(x):
        out = torch.empty_like(x)
        for (h, w), (lat, norm, idx) in gaussians.items():
            cols = torch.cat([x[starts[i]:starts[i + 1]] for i in idx], 1)
            res = norm * lat.filter(norm * cols)
            for j, i in enumerate(idx):
                out[starts[i]:starts[i + 1]] = res[:,
                                                   j * k_max:(j + 1) * k_max]
        return out

    prob = torch.cat(prob)
    # unary as pydensecrf: U = -log(clip(softmax([1 - m, m]), 1e-5))
    soft = torch.softmax(torch.stack([1 - prob, prob]), 0).clamp(min=1e-5)
    unary_diff = torch.log(soft[1]) - torch.log(soft[0])  # -U1 + U0
    logit = unary_diff
    q1 = torch.sigmoid(logit)  # densecrf's start: Q = softmax(-U)
    for _ in range(iterations):
        diff = 2 * q1 - 1  # Q1 - Q0
        logit = (
            unary_diff + gaussian_compat * gaussian_message(diff) +
            bilateral_compat * bil_norm * bilateral.filter(bil_norm * diff))
        q1 = torch.sigmoid(logit)
    labels = logit > 0
    out = []
    for i, ((h, w), k) in enumerate(zip(shapes, counts)):
        out.append(labels[starts[i]:starts[i + 1], :k].t().reshape(k, h, w))
    return out


def _reach_along_runs(reach, free, dim):
    """Spread ``reach`` over the runs of ``free`` along ``dim``: a run
    (maximal 4-connected line segment of free pixels) that holds a reached
    pixel is reached entirely."""
    prev = torch.zeros_like(free)
    if dim == 2:
        prev[:, :, 1:] = free[:, :, :-1]
    else:
        prev[:, 1:] = free[:, :-1]
    starts = free & ~prev
    # run ids, unique over the batch: cumulative starts in flat order along
    # `dim` (lines of other masks/rows/columns start new runs)
    lines = starts if dim == 2 else starts.transpose(1, 2)
    ids = lines.reshape(-1).long().cumsum(0).reshape(lines.shape)
    if dim == 1:
        ids = ids.transpose(1, 2)
    hit = torch.zeros(free.numel() + 1, dtype=torch.bool, device=free.device)
    hit[ids[reach]] = True
    return free & hit[ids]


def fill_holes_torch(masks):
    """``scipy.ndimage.binary_fill_holes`` of each mask, on its device.

    A hole is background not 4-connected to the image border (scipy's
    default structure). Reachability spreads along whole row and column
    runs of background per step, so it converges in a few steps for
    ordinary shapes.

    Args:
        masks (torch.Tensor): (K, H, W) bool.

    Returns:
        torch.Tensor: (K, H, W) bool, the masks with their holes filled.
    """
    if masks.numel() == 0:
        return masks.clone()
    free = ~masks
    border = torch.zeros_like(free)
    border[:, 0] = border[:, -1] = True
    border[:, :, 0] = border[:, :, -1] = True
    reach = free & border
    while True:
        grown = _reach_along_runs(_reach_along_runs(reach, free, 2), free, 1)
        if torch.equal(grown, reach):
            return ~reach
        reach = grown
