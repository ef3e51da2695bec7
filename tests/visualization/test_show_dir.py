"""``tools/test.py --show-dir`` draws through TrackOverlayVisualizer: no
seaborn, readable frames in the track colours (CPU, random toy weights)."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from vcl_mm.testing.checkpoints import save_random_checkpoint
from vcl_mm.testing.runners import REPO_ROOT, run_tool
from vcl_mm.testing.toy_data import write_video_set

CONFIG = osp.join(REPO_ROOT, 'configs', 'toy', 'video_smoke_generated.py')


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('videos'))
    write_video_set(root, num_videos=2, seed=0, size=(64, 96), frames=(3, 3))
    return root


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Random weights of the toy model, saved as a checkpoint."""
    return save_random_checkpoint(
        CONFIG, str(tmp_path_factory.mktemp('ckpt') / 'random.pth'))


def test_show_dir_writes_readable_frames(videos, checkpoint, tmp_path):
    work = str(tmp_path / 'work')
    proc = run_tool([
        'tools/test.py', CONFIG, checkpoint, '--work-dir', work,
        '--show-dir', 'vis', '--cfg-options',
        f'test_dataloader.dataset.data_root={videos}',
        # random weights score low, and every frame is drawn
        'default_hooks.visualization.score_thr=0',
        'default_hooks.visualization.frame_interval=1'
    ], timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pngs = [
        osp.join(dp, f) for dp, _, fs in os.walk(work) for f in fs
        if f.endswith(('.jpg', '.png')) and osp.basename(dp) != 'vis_data'
    ]
    assert pngs, proc.stdout[-2000:]
    for path in pngs:
        img = np.asarray(Image.open(path).convert('RGB'))
        # ground truth (left) and predictions (right), side by side
        assert img.shape == (64, 2 * 96, 3), (path, img.shape)
        assert img.std() > 0
