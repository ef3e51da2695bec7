import os.path as osp

import pytest

from vcl_mm.testing.checkpoints import save_random_checkpoint
from vcl_mm.testing.runners import REPO_ROOT

QUICKSTART = osp.join(REPO_ROOT, 'configs', 'toy', 'quickstart_videocutler.py')


@pytest.fixture(scope='session')
def checkpoint(tmp_path_factory):
    """Random weights (seed 0) of the quickstart model, saved as a
    checkpoint: the demo, inferencer and linker tests share it."""
    return save_random_checkpoint(
        QUICKSTART, str(tmp_path_factory.mktemp('ckpt') / 'random.pth'))
