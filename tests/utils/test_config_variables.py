"""Recipe variables: one knob at the top of a recipe reaches every use."""
import os.path as osp

import pytest
from mmengine.config import Config

from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils import InputError, resolve_variables


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_child_variable_reaches_lists_written_in_the_base(tmp_path):
    write(tmp_path, 'base.py',
          "num_frames = 3\nsize = (64, 32)\n"
          "pipeline = [dict(type='A', n='${num_frames}'), "
          "dict(type='B', size='${size}', keep='${num_frames}x')]\n"
          "model = dict(head=dict(num_frames='${num_frames}'))\n")
    child = write(tmp_path, 'child.py',
                  "_base_ = './base.py'\nnum_frames = 2\n")
    cfg = resolve_variables(Config.fromfile(child))
    assert cfg.pipeline[0]['n'] == 2 and cfg.model.head.num_frames == 2
    # types kept, partial strings are not references
    assert cfg.pipeline[1]['size'] == (64, 32)
    assert isinstance(cfg.pipeline[1]['size'], tuple)
    assert cfg.pipeline[1]['keep'] == '${num_frames}x'


def test_cfg_options_and_chained_variables(tmp_path):
    path = write(tmp_path, 'c.py', "a = '${b}'\nb = 5\nx = dict(y='${a}')\n")
    cfg = Config.fromfile(path)
    cfg.merge_from_dict({'b': 7})
    resolve_variables(cfg)
    assert cfg.x.y == 7 and cfg.a == 7


@pytest.mark.parametrize('text, message', [
    ("x = dict(y='${missing}')\n", "'missing' that the config does not"),
    ("a = '${b}'\nb = '${a}'\n", 'refers to itself'),
])
def test_bad_references_are_named(tmp_path, text, message):
    cfg = Config.fromfile(write(tmp_path, 'bad.py', text))
    with pytest.raises(InputError, match=message):
        resolve_variables(cfg)


@pytest.mark.parametrize('ablation, frames', [
    ('videocutler_r50_8xb2-80k_imagenet_2frames.py', 2),
    ('videocutler_r50_8xb2-80k_imagenet_4frames.py', 4),
])
def test_frame_ablations_set_one_variable(ablation, frames):
    path = osp.join(REPO_ROOT, 'configs', 'videocutler', 'ablations',
                    ablation)
    with open(path) as f:
        assert 'num_frames' in f.read()
    cfg = resolve_variables(Config.fromfile(path))
    assert cfg.model.track_head.num_frames == frames
    to_clip = [
        t for t in cfg.train_dataloader.dataset.dataset.pipeline
        if t['type'] == 'ImageToClip'
    ]
    assert to_clip[0]['num_frames'] == frames


@pytest.mark.parametrize('options, message', [
    ({'model.track_head.num_frames': 4}, 'model.track_head.num_frames is 4'),
    ({'train_dataloader.dataset.dataset.pipeline.2.num_frames': 2},
     'makes clips of 2 frames'),
])
def test_runner_names_both_keys_when_clip_and_head_disagree(
        options, message):
    from vcl_mm.engine.runner import check_clip_length
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'toy', 'videocutler_smoke_cpu.py'))
    resolve_variables(cfg)
    check_clip_length(cfg)  # the recipe agrees with itself
    cfg.merge_from_dict(options)
    with pytest.raises(InputError, match=message):
        check_clip_length(cfg)
