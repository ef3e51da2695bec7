"""Normalized-cut eigen solver for MaskCut: affinity graph, fast solver.

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
their rows and columns from ``Bin``. :func:`lapack_sign` gives a solution
the sign upstream's LAPACK solver would have given it.

The MaskCut rules that turn these vectors into objects are in
:mod:`vcl_mm.maskcut.ncut`. Everything runs on the device of the features
(batched over images on GPU).
"""
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    'AFFINITY_FLOOR', 'binary_affinity', 'fiedler_vectors', 'lapack_sign'
]

#: Weight of the edges whose similarity is not above ``tau`` (upstream 1e-5).
AFFINITY_FLOOR = 1e-5


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
