"""Permutohedral-lattice Gaussian filtering in torch, built by densecrf's
rules (pydensecrf's ``Permutohedral``; Adams et al., 2010).

The same elevation and scale factors, the same enclosing simplex and
barycentric weights, the same ``[1/2, 1, 1/2]`` blur along each of the
``d + 1`` lattice axes over the lattice points that exist, and the same
slicing constant: results are densecrf's up to float32 summation order.
densecrf keeps the lattice points in a hash table; here they are the unique
packed keys (one stable sort), neighbours are found by ``searchsorted``,
and splat, blur and slice are CSR matrix products on CPU and CUDA (gathers
and ``index_add_`` elsewhere). Points of several sets (images) share one
lattice with the set index in the key, so they never interact.
"""
import math
import warnings

import torch

__all__ = ['PermutohedralLattice']


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
