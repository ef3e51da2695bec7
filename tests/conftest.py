"""Shared pytest fixtures and options of the whole suite."""
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / 'shared' / 'data'


@pytest.fixture(autouse=True, scope='session')
def _registered_components():
    """Register mmdet's and vcl_mm's components once, as the tools do
    (importing ``vcl_mm`` registers nothing)."""
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)


@pytest.fixture
def shared_data():
    """Path to ``../shared/data``; skips the test when it is absent."""
    if not (SHARED_DATA / 'davis2016-mini').is_dir():
        pytest.skip(f'../shared/data/davis2016-mini not found at {SHARED_DATA}; '
                    'this test needs the shared DAVIS sequences')
    return SHARED_DATA
