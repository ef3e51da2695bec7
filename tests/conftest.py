"""Shared pytest fixtures and options of the whole suite."""
from pathlib import Path

import pytest

#: modules of end-to-end runs (tools as subprocesses, torchrun, training
#: loops); ``make test-unit`` (``-m "not slow"``) leaves them out
SLOW_MODULES = (
    'tests/engine/test_runner_tools.py',
    'tests/apis/test_video_demo_and_quickstart.py',
    'tests/models/test_training.py',
    'tests/projects/test_finetune_project.py',
    'tests/maskcut/test_mc_cli.py',
    'tests/apis/test_self_train.py',
)
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / 'shared' / 'data'


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: end-to-end run of a tool or a training loop '
        '(left out by make test-unit)')


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if any(path == REPO_ROOT / m for m in SLOW_MODULES):
            item.add_marker(pytest.mark.slow)


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
        pytest.skip(f'../shared/data/davis2016-mini not found at '
                    f'{SHARED_DATA}; this test needs the shared DAVIS '
                    'sequences')
    return SHARED_DATA
