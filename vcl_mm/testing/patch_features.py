"""Generated patch features with known objects (tests and benchmarks).

DINO's last-layer keys have a large component shared by all patches, one
direction per object or region, and patch-level noise. The generator mimics
that so that the binary affinity at ``tau = 0.15`` links patches of the same
region and mostly not others, and the objects are known.
"""
import numpy as np

__all__ = ['synthetic_features', 'object_layout', 'limit_threads']


def object_layout(rng, h, w, num_objects, size_range=(0.15, 0.45)):
    """Random non-overlapping ellipses and rectangles on an (h, w) grid.

    Returns:
        np.ndarray: (num_objects, h, w) bool masks (fewer if no free place
        was found).
    """
    yy, xx = np.mgrid[0:h, 0:w]
    masks = []
    occupied = np.zeros((h, w), bool)
    for _ in range(num_objects):
        for _attempt in range(30):
            ry = rng.uniform(*size_range) * h / 2
            rx = rng.uniform(*size_range) * w / 2
            cy = rng.uniform(ry, h - ry)
            cx = rng.uniform(rx, w - rx)
            if rng.random() < 0.5:
                m = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1
            else:
                m = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
            if m.sum() >= 4 and not (m & occupied).any():
                masks.append(m)
                occupied |= m
                break
    return np.array(masks, bool).reshape(-1, h, w)


def synthetic_features(rng,
                       h=60,
                       w=60,
                       dim=768,
                       num_objects=3,
                       noise=1.2,
                       shared=0.35,
                       parts=0.5,
                       masks=None):
    """Patch features of a scene with objects on a two-tone background.

    Each region (every object, and the background) has a unit direction;
    objects get a second "part" direction mixed in along a random axis and
    the background drifts between two directions, so the graph is not
    piecewise constant. Every patch adds ``shared`` times a common unit
    direction and Gaussian noise of total norm about ``noise``.

    Args:
        rng (np.random.Generator): random source.
        h (int): grid height in patches.
        w (int): grid width in patches.
        dim (int): feature dimension.
        num_objects (int): objects to place (ignored if ``masks`` given).
        noise (float): noise norm relative to the region direction.
        shared (float): weight of the direction shared by all patches.
        parts (float): weight of the within-region variation.
        masks (np.ndarray, optional): (K, h, w) bool object masks to use.

    Returns:
        tuple: features (dim, h, w) float32 and object masks (K, h, w)
        bool.
    """
    if masks is None:
        masks = object_layout(rng, h, w, num_objects)

    def unit():
        v = rng.normal(size=dim)
        return v / np.linalg.norm(v)

    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    common = unit()
    angle = rng.uniform(0, 2 * np.pi)
    t = np.cos(angle) * yy + np.sin(angle) * xx
    t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    bg_a, bg_b = unit(), unit()
    feats = (1 - parts * t)[..., None] * bg_a + (parts * t)[..., None] * bg_b
    for m in masks:
        main, part = unit(), unit()
        angle = rng.uniform(0, 2 * np.pi)
        s = np.cos(angle) * yy + np.sin(angle) * xx
        s = (s - s[m].min()) / max(s[m].max() - s[m].min(), 1e-6)
        obj = (1 - parts * s)[..., None] * main + (parts * s)[..., None] * part
        feats[m] = obj[m]
    feats = feats + shared * common
    feats = feats + rng.normal(size=feats.shape) * noise / np.sqrt(dim)
    return np.ascontiguousarray(feats.transpose(2, 0,
                                                1).astype(np.float32)), masks


_OPENBLAS_SYMBOLS = (('openblas_set_num_threads64_',
                      'openblas_get_num_threads64_'),
                     ('scipy_openblas_set_num_threads',
                      'scipy_openblas_get_num_threads'),
                     ('openblas_set_num_threads', 'openblas_get_num_threads'))


def _openblas_controls():
    """(setter, getter) pairs of the OpenBLAS copies loaded (numpy's and
    scipy's), found through /proc/self/maps (Linux; else none)."""
    import ctypes
    try:
        with open('/proc/self/maps') as f:
            paths = {
                line.split()[-1]
                for line in f if 'openblas' in line.lower()
            }
    except OSError:
        return []
    controls = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter, getter in _OPENBLAS_SYMBOLS:
            if hasattr(lib, setter) and hasattr(lib, getter):
                controls.append((getattr(lib, setter), getattr(lib, getter)))
                break
    return controls


class limit_threads:
    """Context manager: torch and OpenBLAS (numpy/scipy) use ``n`` threads.

    On a small shared machine, multi-threaded BLAS calls of two libraries
    that busy-wait for each other slow both down by orders of magnitude;
    benchmarks and tests run single-threaded for stable numbers.
    """

    def __init__(self, n=1):
        self.n = n

    def __enter__(self):
        import torch
        self._torch = torch.get_num_threads()
        torch.set_num_threads(self.n)
        self._blas = [(s, g()) for s, g in _openblas_controls()]
        for setter, _ in self._blas:
            setter(self.n)
        return self

    def __exit__(self, *exc):
        import torch
        torch.set_num_threads(self._torch)
        for setter, old in self._blas:
            setter(old)
        return False
