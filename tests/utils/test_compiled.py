"""njit_cached: cached kernels, or one clear warning and no cache where
numba finds no writable cache folder."""
import numpy as np
import pytest

from vcl_mm.utils import compiled

numba = pytest.importorskip('numba')


def _add(a, b):
    return a + b


def test_kernels_are_cached_on_disk():
    f = compiled.njit_cached('int64(int64, int64)', nogil=True)(_add)
    assert f(2, 3) == 5
    assert type(f._cache).__name__ == 'FunctionCache'  # on disk


def test_no_writable_cache_folder_warns_once_and_compiles(monkeypatch):
    from numba.core import caching
    impl = getattr(caching, 'CacheImpl', None) or caching._CacheImpl
    monkeypatch.setattr(impl, '_locator_classes', [])
    monkeypatch.setattr(compiled, '_WARNED', [])
    with pytest.warns(RuntimeWarning, match='NUMBA_CACHE_DIR'):
        f = compiled.njit_cached('int64(int64, int64)')(_add)
    assert f(2, 3) == 5 and type(f._cache).__name__ == 'NullCache'
    g = compiled.njit_cached()(lambda x: x * 2)  # lazy, no second warning
    assert g(np.int64(4)) == 8 and len(compiled._WARNED) == 1
