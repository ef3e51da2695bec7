"""The demo's ``--linker`` reaches the tracker, and both linkers run."""
import importlib.util
import json
import os.path as osp

import pytest

from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.testing.toy_data import write_video_set

CONFIG = osp.join(REPO_ROOT, 'configs', 'toy', 'quickstart_videocutler.py')


def demo_tool():
    spec = importlib.util.spec_from_file_location(
        'video_demo_linker', osp.join(REPO_ROOT, 'tools', 'demo',
                                      'video_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def inputs(tmp_path_factory, checkpoint):
    """Random weights of the quickstart model and a 12-frame video."""
    root = str(tmp_path_factory.mktemp('video'))
    paths = write_video_set(root, num_videos=1, size=(48, 64),
                            frames=(12, 12))
    return checkpoint, osp.join(paths['img_dir'], paths['names'][0])


def test_default_linker_is_the_benchmarks_choice():
    tool = demo_tool()
    assert tool.DEFAULT_LINKER in ('mask_iou', 'query_embed')
    assert tool.parse_args(['v', 'c', 'k', '--out', 'o']).linker == \
        tool.DEFAULT_LINKER
    with pytest.raises(SystemExit):
        tool.parse_args(['v', 'c', 'k', '--out', 'o', '--linker', 'flow'])


@pytest.mark.parametrize('linker', ['mask_iou', 'query_embed'])
def test_demo_tracks_with_either_linker(inputs, tmp_path, monkeypatch,
                                        linker):
    import vcl_mm.apis.inference as inference
    seen = []
    real = inference.track_video

    def recording(*args, **kwargs):
        seen.append(kwargs.get('linker'))
        return real(*args, **kwargs)

    monkeypatch.setattr(inference, 'track_video', recording)
    ckpt, video = inputs
    out = str(tmp_path / 'out')
    tracks = demo_tool().main([
        video, CONFIG, ckpt, '--out', out, '--window', '4', '--overlap',
        '1', '--short-side', '48', '--device', 'cpu', '--linker', linker
    ])
    assert seen == [linker]
    saved = json.load(open(osp.join(out, 'tracks.json')))
    assert saved['num_frames'] == 12 and len(saved['tracks']) == len(tracks)
    assert all(len(t['segmentations']) == 12 for t in saved['tracks'])
