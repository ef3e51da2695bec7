"""MaskCut tests run single-threaded (torch and OpenBLAS): on a small shared
machine, busy-waiting BLAS threads of two libraries slow each other down by
orders of magnitude."""
import pytest

from vcl_mm.testing.patch_features import limit_threads


@pytest.fixture(autouse=True, scope='module')
def _single_thread():
    with limit_threads(1):
        yield
