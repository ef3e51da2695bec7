"""Shared pytest fixtures."""
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / 'shared' / 'data'


@pytest.fixture
def shared_data():
    """Path to ``../shared/data``; skips the test when it is absent."""
    if not (SHARED_DATA / 'davis2016-mini').is_dir():
        pytest.skip(f'../shared/data/davis2016-mini not found at {SHARED_DATA}; '
                    'this test needs the shared DAVIS sequences')
    return SHARED_DATA
