"""VideoInferencer: mmdet's DetInferencer shape for videos (CPU, random
toy weights), and the demo's refusal of nonsensical numeric flags."""
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from vcl_mm.apis.inference import load_video_config
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.testing.toy_data import write_video_set

CONFIG = osp.join(REPO_ROOT, 'configs', 'toy', 'quickstart_videocutler.py')


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('video'))
    paths = write_video_set(root, num_videos=1, size=(60, 80), frames=(7, 7))
    return osp.join(paths['img_dir'], paths['names'][0])


@pytest.fixture(scope='module')
def inferencer(checkpoint):
    from vcl_mm.apis import VideoInferencer
    return VideoInferencer(CONFIG, checkpoint, device='cpu',
                           show_progress=False)


def test_importing_the_apis_stays_light():
    code = ('import sys, vcl_mm, vcl_mm.apis; '
            'assert "torch" not in sys.modules, "torch"; '
            'assert "mmdet" not in sys.modules, "mmdet"; '
            'from vcl_mm.apis import VideoInferencer; '
            'assert VideoInferencer.__name__ == "VideoInferencer"')
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_returns_tracks_without_writing(inferencer, video, tmp_path,
                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = inferencer(video, window_size=4, window_overlap=2,
                        short_side=48)
    assert os.listdir(tmp_path) == []
    assert result['num_frames'] == 7
    assert (result['height'], result['width']) == (60, 80)
    tracks = result['tracks']
    assert 0 < len(tracks) <= 10
    assert [t['id'] for t in tracks] == list(range(1, len(tracks) + 1))
    scores = [t['score'] for t in tracks]
    assert scores == sorted(scores, reverse=True)
    for t in tracks:
        assert len(t['segmentations']) == 7
        assert all(s is None or s['size'] == [60, 80]
                   for s in t['segmentations'])
    assert result['drawn'] == [t['id'] for t in tracks if t['score'] > 0.3]


def test_streams_window_by_window(inferencer, video, monkeypatch):
    """Bounded memory: the tracker gets the window, never the whole
    video, and reads the frames one window at a time."""
    model = inferencer.model
    spans, real = [], model.track_windowed

    def recording(frames, *args, **kwargs):
        class Spy:
            def __len__(self):
                return len(frames)

            def __getitem__(self, span):
                spans.append((span.start, span.stop))
                return frames[span]

        return real(Spy(), *args, **kwargs)

    monkeypatch.setattr(model, 'track_windowed', recording)
    inferencer(video, window_size=3, window_overlap=1, short_side=48)
    assert spans and max(e - s for s, e in spans) == 3
    assert spans[0][0] == 0 and spans[-1][1] == 7


def test_writes_outputs_and_draws_above_the_threshold(
        inferencer, video, tmp_path, monkeypatch):
    from vcl_mm.visualization import TrackOverlayVisualizer
    seen, real = [], TrackOverlayVisualizer.add_datasample

    def recording(self, name, image, data_sample=None, **kwargs):
        seen.append(kwargs.get('pred_score_thr'))
        return real(self, name, image, data_sample, **kwargs)

    # the demo draws through the visualizer of tools/test.py --show-dir
    monkeypatch.setattr(TrackOverlayVisualizer, 'add_datasample', recording)
    out = str(tmp_path / 'out')
    result = inferencer(video, out, pred_score_thr=0.5, window_size=4,
                        short_side=48)
    assert seen == [0.5] * 7
    assert result['drawn'] == [
        t['id'] for t in result['tracks'] if t['score'] > 0.5
    ]
    saved = json.load(open(osp.join(out, 'tracks.json')))
    assert saved['tracks'] == result['tracks']
    assert len(os.listdir(osp.join(out, 'masks'))) == 7
    assert osp.getsize(osp.join(out, 'overlay.mp4')) > 1000
    only_pred = str(tmp_path / 'pred')
    inferencer(video, only_pred, no_save_vis=True, window_size=4,
               short_side=48)
    assert sorted(os.listdir(only_pred)) == ['masks', 'tracks.json']


def test_accepts_a_loaded_config(checkpoint, video):
    from vcl_mm.apis import VideoInferencer
    cfg = load_video_config(CONFIG)
    inferencer = VideoInferencer(cfg, checkpoint, device='cpu',
                                 cfg_options={'model.test_cfg.topk': 2},
                                 show_progress=False)
    result = inferencer(video, window_size=4, short_side=48)
    assert len(result['tracks']) == 2
    assert cfg.model.test_cfg.topk == 10  # the caller's config untouched


def test_accepts_a_package_config_name(checkpoint, video):
    """``vcl_mm::`` names resolve through mmengine's own mechanism."""
    from vcl_mm.apis import VideoInferencer
    from vcl_mm.utils import InputError
    inferencer = VideoInferencer('vcl_mm::toy/quickstart_videocutler.py',
                                 checkpoint, device='cpu',
                                 show_progress=False)
    assert inferencer(video, window_size=4, short_side=48)['tracks']
    with pytest.raises(InputError, match='vcl_mm::toy/nothing.py'):
        VideoInferencer('vcl_mm::toy/nothing.py', checkpoint, device='cpu')


@pytest.mark.parametrize('kwargs, message', [
    (dict(window_size=1), 'window_size must be an integer >= 2'),
    (dict(window_size=4, window_overlap=4),
     'window_overlap must be smaller than window_size'),
    (dict(window_overlap=-1), 'window_overlap must be an integer >= 0'),
    (dict(short_side=0), 'short_side must be a positive integer'),
    (dict(short_side=5000), r'short side 5000 must be in \[1, 1333\]'),
    (dict(pred_score_thr=1.5), r'pred_score_thr must be a score in \[0, 1'),
])
def test_the_inferencer_refuses_nonsensical_options(inferencer, video,
                                                    kwargs, message):
    from vcl_mm.utils import InputError
    with pytest.raises(InputError, match=message):
        inferencer(video, **kwargs)


def demo_tool():
    spec = importlib.util.spec_from_file_location(
        'video_demo_flags', osp.join(REPO_ROOT, 'tools', 'demo',
                                     'video_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('flags, message', [
    (['--short-side', '0'], '--short-side must be a positive integer'),
    (['--short-side', '-5'], '--short-side must be a positive integer'),
    (['--short-side', '5000'], r'short side 5000 must be in \[1, 1333\]'),
    (['--window', '0'], '--window must be an integer >= 2'),
    (['--window', '-4'], '--window must be an integer >= 2'),
    (['--window', '4', '--overlap', '4'],
     r'--overlap must be smaller than --window \(4\)'),
    (['--overlap', '-1'], '--overlap must be an integer >= 0'),
    (['--pred-score-thr', '1.5'], r'--pred-score-thr must be a score in'),
    (['--pred-score-thr', '-0.1'], r'--pred-score-thr must be a score in'),
    (['--pred-score-thr', 'nan'], r'--pred-score-thr must be a score in'),
    (['--score-thr', '2'], r'--score-thr must be a score in \[0, 1\]'),
    (['--topk', '0'], '--topk must be an integer >= 1'),
    (['--device', 'gpu'], "--device must be 'cpu', 'cuda' or 'cuda:N'"),
    (['--device', 'cuda:7'], '--device cuda:7 is not available'),
    (['--window', 'four'], "argument --window: invalid int value: 'four'"),
])
def test_demo_refuses_nonsensical_flags_in_one_line(video, checkpoint,
                                                    tmp_path, capsys, flags,
                                                    message):
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as exit_:
        demo_tool().main([video, CONFIG, checkpoint, '--out',
                          str(out)] + flags)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert 'Traceback' not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith('error: ')
    assert re.search(message, err), err
    assert not osp.exists(out / 'overlay.mp4')
