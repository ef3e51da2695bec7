"""The video demo and a reduced quickstart, end to end (CPU)."""
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from vcl_mm.testing.runners import REPO_ROOT, run_tool
from vcl_mm.testing.toy_data import write_video_set

ROOT = REPO_ROOT
CONFIG = osp.join(ROOT, 'configs', 'toy', 'quickstart_videocutler.py')


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('video'))
    paths = write_video_set(root, num_videos=1, size=(72, 96), frames=(9, 9))
    return osp.join(paths['img_dir'], paths['names'][0])


def check_outputs(out, num_frames, height, width):
    tracks = json.load(open(osp.join(out, 'tracks.json')))
    assert tracks['num_frames'] == num_frames
    assert 0 < len(tracks['tracks']) <= 10
    for tr in tracks['tracks']:
        assert len(tr['segmentations']) == num_frames
        assert all(s is None or s['size'] == [height, width]
                   for s in tr['segmentations'])
    scores = [tr['score'] for tr in tracks['tracks']]
    assert scores == sorted(scores, reverse=True)
    pngs = sorted(os.listdir(osp.join(out, 'masks')))
    assert len(pngs) == num_frames
    label = Image.open(osp.join(out, 'masks', pngs[0]))
    assert label.mode == 'P' and label.size == (width, height)
    assert np.asarray(label).max() <= len(tracks['tracks'])
    assert osp.getsize(osp.join(out, 'overlay.mp4')) > 1000
    return tracks


def test_demo_on_generated_video_windowed(video, checkpoint, tmp_path):
    out = str(tmp_path / 'out')
    proc = run_tool(['tools/demo/video_demo.py', video, CONFIG, checkpoint,
                     '--out', out, '--window', '4', '--overlap', '2',
                     '--short-side', '64'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    check_outputs(out, 9, 72, 96)
    assert 'tracks in' in proc.stdout


def test_demo_on_a_davis_sequence(shared_data, checkpoint, tmp_path):
    seq = osp.join(str(shared_data), 'davis2016-mini', 'JPEGImages', '480p',
                   'soccerball')
    # first 6 frames only, to stay fast
    frames = tmp_path / 'soccerball'
    frames.mkdir()
    for name in sorted(os.listdir(seq))[:6]:
        os.symlink(osp.join(seq, name), frames / name)
    out = str(tmp_path / 'out')
    proc = run_tool(['tools/demo/video_demo.py', str(frames), CONFIG,
                     checkpoint, '--out', out, '--window', '4',
                     '--short-side', '96'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    tracks = check_outputs(out, 6, 480, 854)
    assert tracks['frame_names'][0] == '00000'


def make_bad_input(kind, d):
    """A bad demo input of the given kind under folder ``d``."""
    if kind == 'missing':
        return str(d / 'missing.mp4')
    if kind == 'broken':
        (d / 'broken.mp4').write_bytes(b'not a video')
        return str(d / 'broken.mp4')
    folder = d / kind
    folder.mkdir()
    if kind == 'one':
        Image.new('RGB', (32, 24)).save(folder / '0.jpg')
    return str(folder)


@pytest.mark.parametrize('kind, message', [
    ('missing', 'input video not found'),
    ('broken', 'cannot decode video'),
    ('empty', 'holds no frames'),
    ('one', 'needs a video of at least 2'),
])
def test_demo_bad_inputs_are_one_line(kind, message, checkpoint, tmp_path):
    path = make_bad_input(kind, tmp_path)
    proc = run_tool(['tools/demo/video_demo.py', path, CONFIG, checkpoint,
                     '--out', str(tmp_path / 'o')])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr.strip().splitlines()[-1]
    assert 'Traceback' not in proc.stderr


def test_demo_missing_weights(video, tmp_path):
    proc = run_tool(['tools/demo/video_demo.py', video, CONFIG,
                     str(tmp_path / 'none.pth'), '--out', str(tmp_path)])
    assert proc.returncode == 2
    assert 'checkpoint not found' in proc.stderr


def demo_tool():
    """tools/demo/video_demo.py as a module (run in-process)."""
    spec = importlib.util.spec_from_file_location(
        'video_demo_tool', osp.join(ROOT, 'tools', 'demo', 'video_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_demo_expecting_error(args, capsys):
    """Run the demo in-process; returns its one ``error:`` line."""
    with pytest.raises(SystemExit) as exit_:
        demo_tool().main(args + ['--device', 'cpu'])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert 'Traceback' not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith('error: ')
    return line


@pytest.mark.parametrize('odd', [1, 2])
def test_demo_resizes_frames_of_another_size_with_a_warning(
        checkpoint, tmp_path, odd):
    """Frame ``odd`` of 3 has another size."""
    folder = tmp_path / 'frames'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for t in range(3):
        h, w = (36, 48) if t == odd else (40, 56)
        Image.fromarray(rng.integers(0, 255, (h, w, 3),
                                     np.uint8)).save(folder / f'{t:05d}.png')
    out = tmp_path / 'out'
    with pytest.warns(
            UserWarning,
            match=f'{odd:05d}.png is 48x36, the '
            'first frame 56x40.*resized'):
        demo_tool().main([
            str(folder), CONFIG, checkpoint, '--out',
            str(out), '--window', '3', '--short-side', '32', '--device', 'cpu'
        ])
    tracks = json.load(open(out / 'tracks.json'))
    assert tracks['num_frames'] == 3
    assert (tracks['height'], tracks['width']) == (40, 56)
    for tr in tracks['tracks']:
        assert all(s is None or s['size'] == [40, 56]
                   for s in tr['segmentations'])
    for t in range(3):
        assert Image.open(out / 'masks' / f'{t:05d}.png').size == (56, 40)


@pytest.mark.parametrize('kind, message', [
    ('another model', '2 unexpected: bias, weight'),
    ('one key missing', '1 missing: track_head.cls_embed.weight'),
    ('one key more', '1 unexpected: track_head.extra.weight'),
    ('one shape differs', 'track_head.cls_embed.weight (1, 1) != ('),
])
def test_demo_refuses_a_checkpoint_that_does_not_fit(video, checkpoint,
                                                     tmp_path, capsys, kind,
                                                     message):
    """Strict loading names the keys."""
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    if kind == 'another model':
        state = torch.nn.Linear(3, 2).state_dict()
    elif kind == 'one key missing':
        del state['track_head.cls_embed.weight']
    elif kind == 'one key more':
        state['track_head.extra.weight'] = torch.zeros(2)
    else:
        state['track_head.cls_embed.weight'] = torch.zeros(1, 1)
    path = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    line = run_demo_expecting_error(
        [video, CONFIG, path, '--out',
         str(tmp_path / 'o')], capsys)
    assert f'checkpoint {path} does not fit the model of {CONFIG}' in line
    assert message in line


@pytest.mark.parametrize('trust', ['0', '1'])
@pytest.mark.parametrize('kind, message', [
    ('random bytes', 'is not a PyTorch checkpoint'),
    ('empty file', 'is not a PyTorch checkpoint'),
    ('truncated', 'is corrupt or truncated'),
])
def test_demo_tells_a_broken_checkpoint_from_an_untrusted_one(
        video, checkpoint, tmp_path, capsys, monkeypatch, kind, message,
        trust):
    """Not a checkpoint / corrupt, in both modes, without
    advising to trust the file."""
    monkeypatch.setenv('VCL_MM_TRUST_CHECKPOINTS', trust)
    path = tmp_path / 'broken.pth'
    if kind == 'random bytes':
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == 'empty file':
        path.write_bytes(b'')
    else:
        data = open(checkpoint, 'rb').read()
        path.write_bytes(data[:len(data) // 2])
    line = run_demo_expecting_error(
        [video, CONFIG, str(path), '--out',
         str(tmp_path / 'o')], capsys)
    assert str(path) in line and message in line
    assert 'VCL_MM_TRUST_CHECKPOINTS' not in line


def test_demo_refuses_an_out_that_is_a_file_before_tracking(
        video, checkpoint, tmp_path, capsys):
    """An --out below a regular file, for the demo."""
    out = tmp_path / 'taken'
    out.write_text('x')
    line = run_demo_expecting_error(
        [video, CONFIG, checkpoint, '--out', str(out)], capsys)
    assert f'{out} is a file, not a folder' in line


@pytest.mark.slow
def test_reduced_quickstart_writes_every_artifact(tmp_path):
    work = str(tmp_path / 'qs')
    proc = run_tool(['tools/quickstart.py', '--work-dir', work,
                     '--num-images', '10', '--num-videos', '2', '--iters',
                     '3'], timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.load(open(osp.join(work, 'summary.json')))
    q = summary['pseudo_masks']
    assert q['num_objects'] > 0 and 0 <= q['mean_iou'] <= 1
    for part in ('video_model', 'per_frame_baseline'):
        values = summary[part]
        keys = {k.split('/')[-1] for k in values}
        assert {'AP', 'AP50', 'AR10', 'J&F-Mean'} <= keys, part
    base = summary['per_frame_baseline']
    assert 0 <= base['AP'] <= 1 and 0 <= base['J&F-Mean'] <= 1
    for f in ('demo/overlay.mp4', 'demo/tracks.json', 'summary.txt',
              'train/iter_3.pth', 'baseline/ytvis_results.json'):
        assert osp.isfile(osp.join(work, f)), f
    assert 'VideoCutLER (3 iters)' in proc.stdout
    assert 'MaskCut per frame, no tracking' in proc.stdout
