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
lattice (Adams et al., 2010) built by the same rules: the same elevation and
scale factors, the same enclosing simplex and barycentric weights, the same
``[1/2, 1, 1/2]`` blur along each of the ``d + 1`` lattice axes over the
lattice points that exist, and the same slicing constant. The results are
densecrf's up to float32 rounding (summation order), not a different
approximation of the Gaussian. Differences from densecrf's code, none in
the model:

* densecrf keeps the lattice points in a hash table; here they are the
  unique packed keys of the batch (one stable sort), neighbours are found
  by ``searchsorted``, and splat, blur and slice are CSR matrix products
  on CPU and CUDA (gathers and ``index_add_`` elsewhere);
* the points of different images share one lattice with the image index in
  the key, so they never interact; the position-only Gaussian lattice is
  built once per image size and filters all images' channels together;
* with two labels the mean-field update is written for the difference
  ``Q1 - Q0`` (one channel per mask instead of two; the filter is linear).

On MaskCut's own unaries (``benchmarks/crf_bench.py``, DAVIS frames and
generated scenes at 480x480, CPU) the refined masks are pixel-identical to
pydensecrf's. The lattice depends on the image only, so it is built once
for all masks of an image (pydensecrf builds it for every mask).
"""
import math
import warnings
from collections import OrderedDict

import numpy as np
import torch

__all__ = ['PermutohedralLattice', 'dense_crf_torch']


class PermutohedralLattice:
    """Permutohedral lattice of point sets for Gaussian filtering.

    Args:
        features (torch.Tensor): (N, d) float32 point features, already
            divided by the kernel's standard deviations.
        groups (torch.Tensor, optional): (N,) int64 set index of each point
            (e.g. its image); points of different sets never interact.
        sparse (bool, optional): splat, blur and slice as sparse CSR
            matrices (default on CPU and CUDA) or as gathers and
            ``index_add_`` (the default elsewhere).

    :meth:`filter` maps ``values (N, C) -> (N, C)`` as densecrf's
    ``Permutohedral::compute`` does: approximately
    ``sum_j exp(-|f_i - f_j|^2 / 2) v_j`` up to a constant factor.
    """

    def __init__(self, features, groups=None, sparse=None):
        if features.dim() != 2 or not features.is_floating_point():
            raise ValueError('features must be an (N, d) float tensor, got '
                             f'{tuple(features.shape)} {features.dtype}')
        feats = features.float()
        n, d = feats.shape
        dev = feats.device
        self.num_points, self.dims, self.device = n, d, dev
        self.sparse = dev.type in ('cpu', 'cuda') if sparse is None else \
            bool(sparse)
        # densecrf: scale_i = sqrt(2/3) (d + 1) / sqrt((i + 1)(i + 2))
        inv_std = float(torch.tensor(math.sqrt(2. / 3.) * (d + 1)).float())
        scale = torch.tensor(
            [inv_std / math.sqrt((i + 2) * (i + 1)) for i in range(d)],
            dtype=torch.float32,
            device=dev)
        cf = feats * scale
        # elevate: e_0 = sum_i cf_i, e_j = sum_{i >= j} cf_i - j cf_{j-1}
        suffix = cf.flip(1).cumsum(1).flip(1)  # suffix[:, j] = sum_{i>=j}
        tail = torch.cat([suffix[:, 1:], cf.new_zeros(n, 1)], 1)
        steps = torch.arange(1, d + 1, device=dev, dtype=torch.float32)
        elevated = torch.cat([suffix[:, :1], tail - steps * cf], 1)
        down = float(torch.tensor(1. / (d + 1)).float())
        # the nearest 0-coloured lattice point (round half to even, as SSE)
        rounded = torch.round(elevated * down)
        rem0 = rounded * (d + 1)
        total = rounded.sum(1, keepdim=True).long()
        diff = elevated - rem0
        # rank: position of each coordinate in descending order, ties to
        # the earlier coordinate (densecrf's pairwise count)
        later = torch.arange(d + 1, device=dev)
        rank = total.expand(n, d + 1).clone()
        for j in range(d + 1):
            dj = diff[:, j:j + 1]
            rank += (dj > diff) | ((dj == diff) & (later > j))
        low, high = rank < 0, rank > d
        rank = rank + (d + 1) * (low.long() - high.long())
        rem0 = rem0 + (d + 1) * (low.float() - high.float())
        # barycentric weights of the d + 1 simplex vertices
        v = (elevated - rem0) * down
        bary = feats.new_zeros(n, d + 2)
        bary.scatter_add_(1, d - rank, v)
        bary.scatter_add_(1, d - rank + 1, -v)
        bary[:, 0] += 1 + bary[:, d + 1]
        self._build(rem0[:, :d].long(), rank[:, :d], bary[:, :d + 1], groups)

    def _build(self, rem0, rank, weights, groups):
        """Vertex ids of the points, splat/blur/slice operators."""
        n, d = rem0.shape
        dev = rem0.device
        # vertex r of a point: key_i = rem0_i + r - (d + 1) [rank_i > d - r]
        # (densecrf's canonical simplex), packed in base `span` with room
        # for the blur neighbours (+- d) and the set index on top
        lo = rem0.min(0).values - 2 * (d + 1)
        span = int((rem0.max(0).values - lo).max()) + 2 * d + 1
        sets = 1 if groups is None else int(groups.max()) + 1
        if math.log2(span) * d + math.log2(sets) > 62:
            raise ValueError(
                f'lattice keys do not fit 63 bits (span {span}, {d} dims, '
                f'{sets} sets): the features are too spread out for their '
                'standard deviations')
        radix = span**torch.arange(d, device=dev)
        base = ((rem0 - lo) * radix).sum(1, keepdim=True)
        if groups is not None:
            base = base + groups.to(dev).long()[:, None] * span**d
        # sum_i radix_i [rank_i >= d + 1 - r] by a suffix sum over ranks
        per_rank = rem0.new_zeros(n,
                                  d + 2).scatter_add_(1, rank,
                                                      radix.expand(n, -1))
        above = per_rank.flip(1).cumsum(1).flip(1)  # [k] = sum_{rank>=k}
        r = torch.arange(d + 1, device=dev)
        packed = base + r * radix.sum() - (d + 1) * above[:, d + 1 - r]
        # unique vertices by one stable sort: ids 1..M, 0 = no vertex
        keys, perm = torch.sort(packed.reshape(-1), stable=True)
        new = torch.ones_like(keys, dtype=torch.bool)
        new[1:] = keys[1:] != keys[:-1]
        ids = new.cumsum(0)
        uniq = keys[new]
        m = self.num_vertices = len(uniq)
        offsets = torch.empty_like(ids)
        offsets[perm] = ids
        self.offsets = offsets.reshape(n, d + 1)
        self.weights = weights.contiguous()
        self.alpha = 1. / (1 + 2.**-d)  # densecrf's slicing constant
        # blur neighbours along each of the d + 1 axes: n1 = key - 1 on
        # every axis but j, which gets + d (j = d: all - 1); n2 opposite
        self.neighbours = []
        for j in range(d + 1):
            delta = -radix.sum() + ((d + 1) * radix[j] if j < d else 0)
            pair = []
            for target in (uniq + delta, uniq - delta):
                pos = torch.searchsorted(uniq, target).clamp_(max=m - 1)
                idx = torch.where(uniq[pos] == target, pos + 1, 0)
                pair.append(torch.cat([idx.new_zeros(1), idx]))
            self.neighbours.append(tuple(pair))
        if self.sparse:  # the index tables are then no longer needed
            self._sparse_operators(keys, perm, ids, m)
            del self.offsets, self.neighbours

    def _sparse_operators(self, keys, perm, ids, m):
        """CSR splat (M+1, N), slice (N, M+1), blurs (M+1, M+1)."""
        n, d1 = self.offsets.shape
        dev = keys.device
        itype = torch.int32 if n * d1 < 2**31 else torch.int64

        def csr(crow, col, val, shape):
            with warnings.catch_warnings():  # "CSR support is in beta"
                warnings.simplefilter('ignore', UserWarning)
                return torch.sparse_csr_tensor(
                    crow.to(itype),
                    col.to(itype),
                    val,
                    shape,
                    device=dev,
                    check_invariants=False)

        counts = torch.bincount(ids, minlength=m + 1)
        crow = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        # splat: a vertex sums its points in point order (as densecrf)
        self.splat = csr(crow, perm // d1,
                         self.weights.reshape(-1)[perm], (m + 1, n))
        cols, order = self.offsets.sort(1)
        vals = self.weights.gather(1, order) * self.alpha
        self.slice = csr(
            torch.arange(0, n * d1 + 1, d1, device=dev), cols.reshape(-1),
            vals.reshape(-1), (n, m + 1))
        self.blurs = []
        own = torch.arange(1, m + 1, device=dev)
        for n1, n2 in self.neighbours:
            cols = torch.stack([n1[1:], own, n2[1:]], 1)
            vals = torch.tensor([.5, 1., .5], device=dev).expand(m, 3)
            cols, order = cols.sort(1)
            vals = vals.gather(1, order)
            keep = cols > 0
            counts = torch.cat(
                [keep.new_zeros(1, dtype=torch.long),
                 keep.sum(1)])
            self.blurs.append(
                csr(
                    torch.cat([counts.new_zeros(1),
                               counts.cumsum(0)]), cols[keep], vals[keep],
                    (m + 1, m + 1)))

    def filter(self, values):
        """Splat, blur, slice.

        Args:
            values (torch.Tensor): (N, C) float32 values of the points.

        Returns:
            torch.Tensor: (N, C) float32 filtered values.
        """
        if self.sparse:
            grid = self.splat @ values
            for blur in self.blurs:
                grid = blur @ grid
            return self.slice @ grid
        n, c = values.shape
        grid = values.new_zeros(self.num_vertices + 1, c)
        grid.index_add_(0, self.offsets.reshape(-1),
                        (values[:, None, :] *
                         self.weights[:, :, None]).reshape(-1, c))
        for n1, n2 in self.neighbours:
            grid = grid + 0.5 * (grid[n1] + grid[n2])
        return (grid[self.offsets] * self.weights[:, :, None]).sum(1) * \
            self.alpha


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
                    iterations=10,
                    gaussian_sxy=3,
                    gaussian_compat=7,
                    bilateral_sxy=50,
                    bilateral_srgb=5,
                    bilateral_compat=10,
                    device='cpu',
                    images_per_lattice=None):
    """Mean-field dense CRF of two-label soft masks, one batch of images.

    Args:
        images (list[np.ndarray]): (H_i, W_i, 3) uint8 RGB images.
        masks (list[np.ndarray]): per image a (K_i, H_i, W_i) bool or
            float array in [0, 1], the foreground probability ``m`` whose
            unary is ``-log softmax([1 - m, m])`` (MaskCut's).
        iterations (int): mean-field steps.
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
