"""projects/VideoCutLERPretrain: configs build; fine-tuning starts from a
class-agnostic vcl_mm checkpoint whose head is re-sized from 1 to 40
classes."""
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from mmdet.registry import MODELS
from vcl_mm.utils import register_all_modules
from vcl_mm.testing.toy_data import write_video_set
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils.launch import load_config

ROOT = REPO_ROOT
PROJECT = osp.join(ROOT, 'projects', 'VideoCutLERPretrain')
SMOKE = osp.join(PROJECT, 'configs', 'smoke_videocutler-init_finetune_cpu.py')
QUICKSTART = osp.join(ROOT, 'configs', 'toy', 'quickstart_videocutler.py')
CONFIGS = sorted(glob.glob(osp.join(PROJECT, 'configs', '*.py')))

register_all_modules()


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_project_config_builds(path):
    cfg = load_config(path)
    assert cfg.model.type == 'VideoCutLER'
    assert cfg.model.track_head.num_classes == 40
    semi = '2x' in path
    assert cfg.train_cfg.max_iters == (
        12000 if semi else 8000 if '2021' in path else 6000 if '1x' in path
        else 3)
    cls = cfg.optim_wrapper.paramwise_cfg.custom_keys['track_head.cls_embed']
    assert cls['lr_mult'] == (16.0 if semi else 2.0)
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    if 'dino-init' in path:
        assert cfg.load_from is None
        assert cfg.model.backbone.init_cfg.type == 'CheckedPretrained'
    if 'smoke' not in path:  # the recipes build at full size
        model = MODELS.build(cfg.model)
        assert model.track_head.cls_embed.out_features == 41


@pytest.fixture(scope='module')
def resized(tmp_path_factory):
    """A 1-class tiny VideoCutLER checkpoint and its 40-class re-sizing."""
    tmp = tmp_path_factory.mktemp('ckpt')
    torch.manual_seed(0)
    model = MODELS.build(load_config(QUICKSTART).model)
    src = str(tmp / 'videocutler_1cls.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=7)), src)
    dst = str(tmp / 'videocutler_40cls.pth')
    proc = subprocess.run(
        [sys.executable,
         osp.join(PROJECT, 'tools', 'resize_class_head.py'), src, dst,
         '--num-classes', '40'], capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr
    assert 're-initialised track_head.cls_embed.weight' in proc.stdout
    return src, dst


def test_resized_checkpoint_loads_strictly_with_fresh_head(resized):
    src, dst = resized
    source = torch.load(src, weights_only=False)['state_dict']
    target = torch.load(dst, weights_only=False)['state_dict']
    model = MODELS.build(load_config(SMOKE).model)
    model.load_state_dict(target, strict=True)  # every key fits
    for key, value in source.items():
        if key.startswith('track_head.cls_embed.'):
            assert target[key].shape[0] == 41
            assert not torch.equal(target[key][:2], value)
        else:
            assert torch.equal(target[key], value), key


def test_smoke_finetune_from_resized_checkpoint(resized, tmp_path):
    _, dst = resized
    data = str(tmp_path / 'videos')
    write_video_set(data, num_videos=3, size=(64, 96), frames=(4, 5))
    work = str(tmp_path / 'work')
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', SMOKE, '--work-dir', work,
         '--cfg-options', f'load_from={dst}',
         f'train_dataloader.dataset.data_root={data}/',
         f'test_dataloader.dataset.data_root={data}/'],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True,
        text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f'Load checkpoint from {dst}' in out
    assert 'missing keys' not in out and 'size mismatch' not in out
    losses = [float(x) for x in re.findall(r' loss: ([0-9.]+)', out)]
    assert len(losses) == 3 and all(0 < v < 1e4 for v in losses)
    assert osp.isfile(osp.join(work, 'iter_3.pth'))
