"""Normalized Cuts for MaskCut: affinity graph, fast eigen solver, rules.

The graph follows the official MaskCut exactly: patch features are
L2-normalised, ``A_ij = 1`` where the cosine similarity exceeds ``tau`` and
``1e-5`` elsewhere (diagonal kept), ``D = diag(row sums)``. Upstream solves
``(D - A) x = lambda D x`` densely (``scipy.linalg.eigh``, ~12 s per solve
of a 60x60 grid on one CPU core). Here the same vector comes from the
symmetric form ``M y = mu y`` with ``M = D^-1/2 A D^-1/2`` (``mu = 1 -
lambda``), ``x = D^-1/2 y``: the top eigenvector of ``M`` is known
(``D^1/2 1``, ``mu = 1``) and is projected out, and the next one is found by
a batched block LOBPCG whose products with ``A`` are GEMMs with the binary
matrix (``A Z = 1e-5 * 1 1^T Z + (1 - 1e-5) * Bin Z``). Masking patches of
accepted objects does not rebuild anything: zeroed features only remove
their rows and columns from ``Bin``.

Everything runs on the device of the features (batched over images on GPU).
"""
import functools

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

__all__ = [
    'AFFINITY_FLOOR', 'binary_affinity', 'fiedler_vectors', 'select_object',
    'maskcut_patch_masks', 'maskcut_patch_masks_batch'
]

#: Weight of the edges whose similarity is not above ``tau`` (upstream 1e-5).
AFFINITY_FLOOR = 1e-5


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


def binary_affinity(feats, tau):
    """Thresholded cosine similarity of patch features.

    Computed per image with the same float32 matrix product as upstream
    (``f^T @ f``), so that pairs next to ``tau`` fall on the same side.

    Args:
        feats (torch.Tensor): (B, C, n) float32 patch features.
        tau (float): similarity threshold.

    Returns:
        torch.Tensor: (B, n, n) bool, ``cos(f_i, f_j) > tau``.
    """
    out = []
    for f in feats:
        f = F.normalize(f, p=2, dim=0)
        out.append(f.transpose(0, 1) @ f > tau)
    return torch.stack(out)


class _MaskedGraph:
    """``M = D^-1/2 A D^-1/2`` of the graphs with some patches zeroed.

    Args:
        binary (torch.Tensor): (B, n, n) 0/1 float (the GEMM dtype), the
            binary affinity of the unmasked features.
        keep (torch.Tensor): (B, n) bool, False for zeroed patches (their
            similarities are 0, so their rows and columns leave ``Bin``).
        eps (float): affinity floor.
    """

    def __init__(self, binary, keep, eps):
        self.eps = eps
        self.n = binary.shape[-1]
        self.binary = binary
        self.keep = keep.to(torch.float64)[..., None]
        counts = (binary @ keep.to(binary.dtype)[..., None]).double()
        counts = self.keep * counts
        degree = eps * self.n + (1 - eps) * counts
        self.inv_sqrt_degree = degree.rsqrt()  # (B, n, 1)
        sqrt_degree = degree.sqrt()
        self.trivial = sqrt_degree / sqrt_degree.norm(dim=1, keepdim=True)

    def matmul(self, z):
        """``M @ z`` for z (B, n, k) float64."""
        z = self.inv_sqrt_degree * z
        dense = self.eps * z.sum(dim=1, keepdim=True)
        sparse = self.binary @ (self.keep * z).to(self.binary.dtype)
        az = dense + (1 - self.eps) * self.keep * sparse.double()
        return self.inv_sqrt_degree * az

    def deflate(self, z):
        """Project the known top eigenvector ``D^1/2 1`` out of z (twice,
        for orthogonality to working precision)."""
        for _ in range(2):
            z = z - self.trivial * (self.trivial.transpose(1, 2) @ z)
        return z

    def dense(self):
        """M as a dense (B, n, n) float64 matrix."""
        keep = self.keep
        a = self.eps + (1 - self.eps) * (
            keep * self.binary.double() * keep.transpose(1, 2))
        s = self.inv_sqrt_degree
        return s * a * s.transpose(1, 2)


def _rayleigh_ritz(basis, m_basis, k):
    """Top-k Ritz pairs of the symmetric operator on an orthonormal basis.

    Returns (values (B, k) descending, coefficients (B, p, k))."""
    h = basis.transpose(1, 2) @ m_basis
    h = 0.5 * (h + h.transpose(1, 2))
    values, vectors = torch.linalg.eigh(h)
    return values.flip(-1)[:, :k], vectors.flip(-1)[:, :, :k]


def _lobpcg(graph, x, tol, max_iter):
    """Largest eigenpair of ``M`` restricted to the complement of
    ``D^1/2 1``, by block LOBPCG with QR-orthonormalised bases.

    Args:
        graph (_MaskedGraph): the operator.
        x (torch.Tensor): (B, n, k) float64 start block.
        tol (float): residual norm of the top pair that ends the iterations.
        max_iter (int): iteration cap.

    Returns:
        tuple: block (B, n, k) float64 (Ritz vectors, best first), values
        (B, k), residuals (B,), iterations (int).
    """
    block_size = x.shape[-1]
    x = torch.linalg.qr(graph.deflate(x)).Q
    mx = graph.matmul(x)
    values, coef = _rayleigh_ritz(x, mx, block_size)
    x, mx = x @ coef, mx @ coef
    p = None
    it = 0
    for it in range(1, max_iter + 1):
        r = mx - x * values[:, None, :]
        residual = r[..., 0].norm(dim=1)
        if bool((residual <= tol).all()):
            break
        parts = [x, r] if p is None else [x, r, p]
        basis = torch.linalg.qr(graph.deflate(torch.cat(parts, -1))).Q
        m_basis = graph.matmul(basis)
        values, coef = _rayleigh_ritz(basis, m_basis, block_size)
        p = basis[..., block_size:] @ coef[:, block_size:]
        x, mx = basis @ coef, m_basis @ coef
    residual = (mx[..., 0] - x[..., 0] * values[:, :1]).norm(dim=1)
    return x, values, residual, it


def fiedler_vectors(adj,
                    keep=None,
                    eps=AFFINITY_FLOOR,
                    dtype=torch.float32,
                    block_size=8,
                    tol=1e-6,
                    max_iter=300,
                    polish_tol=None,
                    dense_below=256,
                    init=None,
                    seed=0):
    """Second-smallest generalized eigenvectors of ``(D - A) x = l D x``.

    Args:
        adj (torch.Tensor): (B, n, n) binary affinity (``sim > tau``),
            bool or 0/1 of ``dtype`` (pass it cast once when solving the
            same graphs several times).
        keep (torch.Tensor, optional): (B, n) bool, False for patches whose
            features are zeroed. Default: all kept.
        eps (float): affinity floor (upstream 1e-5).
        dtype (torch.dtype): dtype of the GEMMs with the binary matrix
            (0/1 is exact in any float type; the rest is float64).
        block_size (int): LOBPCG block size; the extra vectors guard
            against close eigenvalues.
        tol (float): residual norm ``||M y - mu y||`` (y of unit norm) at
            which the iterations stop.
        max_iter (int): iteration cap.
        polish_tol (float, optional): continue with float64 GEMMs down to
            this residual (only useful when ``dtype`` is lower).
        dense_below (int): graphs with fewer nodes are solved densely.
        init (torch.Tensor, optional): (B, n, block_size) start block, e.g.
            the ``block`` of a previous solve on a similar graph.
        seed (int): seed of random start vectors (results are
            deterministic).

    Returns:
        dict: ``vectors`` (B, n) float64 (arbitrary sign and scale, as any
        eigen solver's), ``eigenvalues`` (B,) float64 (the lambda of the
        generalized problem), ``gaps`` (B,) the distance to the next
        eigenvalue (0: the vector is not unique), ``residuals`` (B,),
        ``iterations`` (int) and ``block`` (B, n, block_size) the final
        Ritz vectors of the symmetric problem (None for dense solves).
    """
    b, n = adj.shape[:2]
    if keep is None:
        keep = torch.ones(b, n, dtype=torch.bool, device=adj.device)
    if n < dense_below or n <= 3 * block_size + 1:
        graph = _MaskedGraph(adj.to(torch.float64), keep, eps)
        # the top eigenvector of M is D^1/2 1 (mu = 1); the next is wanted
        values, vectors = torch.linalg.eigh(graph.dense())
        y, mu = vectors[..., -2], values[:, [-2, -3]]
        residual = (graph.matmul(y[..., None])[..., 0] - mu[:, :1] * y)
        result = dict(residuals=residual.norm(dim=1), iterations=0)
        x = None
    else:
        x = init
        if x is None:
            generator = torch.Generator().manual_seed(seed)
            x = torch.randn(
                b, n, block_size, dtype=torch.float64,
                generator=generator).to(adj.device)
        graph = _MaskedGraph(adj if adj.dtype == dtype else adj.to(dtype),
                             keep, eps)
        x, mu, residual, its = _lobpcg(graph, x, tol, max_iter)
        if polish_tol is not None and dtype != torch.float64:
            graph = _MaskedGraph(adj.to(torch.float64), keep, eps)
            x, mu, residual, more = _lobpcg(graph, x, polish_tol, max_iter)
            its += more
        y = x[..., 0]
        result = dict(residuals=residual, iterations=its)
    result.update(
        block=x,
        vectors=graph.inv_sqrt_degree[..., 0] * y,
        eigenvalues=1 - mu[:, 0],
        gaps=mu[:, 0] - mu[:, 1])
    return result


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
    undecided and falls back to ``'corners'``), e.g. :func:`lapack_sign`.

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


def lapack_sign(adj, keep, x, eps=AFFINITY_FLOOR, max_steps=256):
    """The sign upstream's dense solver would have given ``x``.

    ``scipy.linalg.eigh(D - A, D, subset_by_index=[1, 2])`` (LAPACK
    ``dsygvx``) reduces the problem to ``C = D^-1/2 (D - A) D^-1/2``,
    tridiagonalises ``C = Q T Q^T`` with Householder reflectors (``dsytrd``,
    lower), finds the eigenvector ``w`` of ``T`` by inverse iteration
    (``dstein``, which makes its largest-magnitude entry positive) and
    returns ``D^-1/2 Q w``. The first columns of ``Q`` only need products
    with ``C``, so this replays the first Householder steps until the
    largest entry of ``w = Q^T D^1/2 x`` is certain (it exceeds the norm
    left in the remaining entries) and returns the sign that makes it
    positive. Rounding can make it disagree with LAPACK where ``T`` nearly
    splits (rare, measured by the tests and the benchmark).

    Args:
        adj (torch.Tensor): (n, n) bool binary affinity.
        keep (torch.Tensor): (n,) bool, False for zeroed patches.
        x (np.ndarray): (n,) the generalized eigenvector.
        eps (float): affinity floor.
        max_steps (int): Householder steps to try before giving up.

    Returns:
        int: +1 or -1, or 0 when undecided within ``max_steps``.
    """
    graph = _MaskedGraph(adj[None].to(torch.float64), keep[None], eps)
    sqrt_degree = 1 / graph.inv_sqrt_degree[0, :, 0].cpu().numpy()
    z = np.asarray(x, np.float64) * sqrt_degree
    z /= np.linalg.norm(z)
    n = len(z)
    steps = min(max_steps, n - 2)
    refl = np.zeros((n, steps))  # Householder vectors, column i from i+1
    tmat = np.zeros((steps, steps))  # H(1)..H(k) = I - V T V^T
    q = np.zeros(n)
    q[0] = 1.
    w = [z[0]]
    for i in range(steps):
        qt = torch.from_numpy(q)[None, :, None].to(adj.device)
        cq = q - graph.matmul(qt)[0, :, 0].cpu().numpy()
        v, t = refl[:, :i], tmat[:i, :i]
        y = cq - v @ (t.T @ (v.T @ cq))  # (H(i-1)..H(1)) C q_i
        alpha, rest = y[i + 1], y[i + 2:]
        xnorm = np.linalg.norm(rest)
        refl[i + 1, i] = 1.
        tau = 0.
        if xnorm > 0:
            beta = -np.copysign(np.hypot(alpha, xnorm), alpha)
            tau = (beta - alpha) / beta
            refl[i + 2:, i] = rest / (alpha - beta)
        tmat[:i, i] = -tau * (t @ (v.T @ refl[:, i]))
        tmat[i, i] = tau
        v, t = refl[:, :i + 1], tmat[:i + 1, :i + 1]
        q = -(v @ (t @ v[i + 1]))  # q_{i+1} = H(1)..H(i) e_{i+1}
        q[i + 1] += 1.
        w.append(q @ z)
        mags = np.abs(w)
        left = np.sqrt(max(0., 1. - float(np.sum(np.square(w)))))
        if mags.max() > left + 1e-8:
            return 1 if w[int(np.argmax(mags))] > 0 else -1
    return 0


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
            gives (:func:`lapack_sign`), else see :func:`select_object`.
        min_area (float): area fraction at or below which a later mask is
            rejected.
        max_iou (float): IoU with the previous mask above which a later
            mask is rejected.
        degenerate_gap (float): eigenvalue gap at or below which the
            solution counts as not unique.
        return_info (bool): also return per-image solver diagnostics.
        **solver_cfg: passed to :func:`fiedler_vectors`.

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
                if _iou(prev[i], mask) > max_iou:
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


def _iou(a, b):
    """IoU of two bool arrays (0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return np.logical_and(a, b).sum() / union if union else 0.


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
