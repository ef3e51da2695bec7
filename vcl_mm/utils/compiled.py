"""numba kernels cached on disk, or compiled per process where no cache
folder is writable (numba raises then), with one warning saying so.

numba keeps a compiled kernel next to its module (``__pycache__``), else
in ``NUMBA_CACHE_DIR`` or the user's cache folder; a kernel is then
compiled once, not in every process (seconds per command otherwise).
"""
import warnings

__all__ = ['njit_cached']

_WARNED = []


def _warn_once(err):
    if not _WARNED:
        _WARNED.append(True)
        warnings.warn(
            f'numba cannot cache its compiled kernels ({err}): they are '
            'compiled again in every process (seconds per run); set '
            'NUMBA_CACHE_DIR to a writable folder to cache them',
            RuntimeWarning,
            stacklevel=3)


def njit_cached(signature=None, **options):
    """``numba.njit(signature, cache=True, **options)``, without the cache
    (and one warning) where numba finds no writable cache folder.

    Args:
        signature (str | list, optional): explicit signature(s), compiled
            (or loaded from the cache) at decoration; None compiles on
            first call.
        **options: other ``numba.njit`` options (``nogil``...).

    Returns:
        callable: the decorator.
    """
    import numba

    def jit(func, cache):
        if signature is None:
            return numba.njit(cache=cache, **options)(func)
        return numba.njit(signature, cache=cache, **options)(func)

    def decorate(func):
        try:
            return jit(func, True)
        except RuntimeError as err:  # numba: no locator available
            if 'cannot cache' not in str(err):
                raise
            _warn_once(err)
            return jit(func, False)

    return decorate
