"""Self-training's video preparation: files decoded once, frame folders
linked (or resized / subsampled), bad videos skipped with the reason."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from vcl_mm.apis.self_training import list_videos, prepare_videos
from vcl_mm.utils import InputError


def frames(n, h=32, w=48, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (h, w, 3), np.uint8) for _ in range(n)]


def write_folder(folder, imgs):
    os.makedirs(folder)
    for t, img in enumerate(imgs):
        Image.fromarray(img).save(folder / f'{t:03d}.png')


@pytest.fixture
def videos(tmp_path):
    import imageio_ffmpeg
    root = tmp_path / 'videos'
    write_folder(root / 'clip', frames(4))
    write_folder(root / 'mixed', frames(2) + frames(1, h=40, w=40))
    write_folder(root / 'single', frames(1))
    (root / 'broken.mp4').write_bytes(b'not a video')
    (root / 'notes.txt').write_text('not a video either')
    writer = imageio_ffmpeg.write_frames(str(root / 'movie.mp4'), (48, 32),
                                         fps=10, macro_block_size=16)
    writer.send(None)
    for img in frames(5):
        writer.send(np.ascontiguousarray(img))
    writer.close()
    return root


def test_prepare_links_decodes_and_skips(videos, tmp_path):
    names = [n for n, _ in list_videos(str(videos))]
    assert names == ['broken', 'clip', 'mixed', 'movie', 'notes', 'single']
    work = tmp_path / 'work'
    logged = []
    out = {v['name']: v for v in prepare_videos(str(videos), str(work),
                                                log=logged.append)}
    assert os.path.islink(work / 'frames' / 'clip')
    assert out['clip']['file_names'] == [f'clip/{t:03d}.png'
                                         for t in range(4)]
    # another frame size: written at the first frame's size
    assert not os.path.islink(work / 'frames' / 'mixed')
    assert Image.open(work / 'frames' / 'mixed' / '00002.jpg').size == (48,
                                                                        32)
    movie = out['movie']
    assert (movie['height'], movie['width']) == (32, 48)
    assert len(movie['file_names']) == 5
    assert movie['file_names'][0] == 'movie/00000.jpg'
    assert 'at least 2' in out['single']['skipped']
    assert 'cannot decode' in out['broken']['skipped']
    # not a video: listed as skipped with the reason, not left out
    assert 'cannot decode' in out['notes']['skipped']
    assert len(logged) == 3 and 'single' in ' '.join(logged)
    index = json.loads((work / 'videos.json').read_text())
    assert index['frame_stride'] == 1 and len(index['videos']) == 6
    # prepared once: a second call reads the index
    (work / 'frames' / 'movie' / '00000.jpg').unlink()
    again = prepare_videos(str(videos), str(work))
    assert again == index['videos']


def test_stride_subsamples_and_can_skip(videos, tmp_path):
    out = {v['name']: v for v in prepare_videos(
        str(videos), str(tmp_path / 'w'), stride=3, log=lambda m: None)}
    assert out['clip']['file_names'] == ['clip/00000.jpg', 'clip/00003.jpg']
    assert len(out['movie']['file_names']) == 2
    assert 'frame_stride=3' in out['mixed']['skipped']  # 3 frames -> 1


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / 'v').mkdir()
    with pytest.raises(InputError, match='holds no videos'):
        list_videos(str(tmp_path / 'v'))
    (tmp_path / 'v' / 'readme.txt').write_text('x')
    with pytest.raises(InputError, match='no video of .* can be tracked'):
        prepare_videos(str(tmp_path / 'v'), str(tmp_path / 'w'),
                       log=lambda m: None)
    with pytest.raises(InputError, match='videos folder'):
        list_videos(str(tmp_path / 'missing'))


def _write_video(path, fmt, codec='libx264', n=4):
    import imageio_ffmpeg
    writer = imageio_ffmpeg.write_frames(
        str(path), (48, 32), fps=10, codec=codec, macro_block_size=16,
        output_params=['-f', fmt])
    writer.send(None)
    for img in frames(n):
        writer.send(np.ascontiguousarray(img))
    writer.close()


@pytest.mark.parametrize('name,fmt,codec', [
    ('clip.mkv', 'matroska', 'libx264'),
    ('clip.ts', 'mpegts', 'libx264'),
    ('clip.avi', 'avi', 'mpeg4'),
    ('clip.MOV', 'mov', 'libx264'),
    ('clip.weird', 'matroska', 'libx264'),  # extension we never heard of
    ('clip', 'nut', 'mpeg4'),  # no extension at all
])
def test_any_container_ffmpeg_decodes_is_used(tmp_path, name, fmt, codec):
    root = tmp_path / 'videos'
    root.mkdir()
    _write_video(root / name, fmt, codec)
    out = prepare_videos(str(root), str(tmp_path / 'w'), log=print)
    assert out[0]['skipped'] is None, out[0]['skipped']
    assert len(out[0]['file_names']) == 4


@pytest.mark.parametrize('size', [(32, 48), (40, 40)])
def test_folder_with_an_undecodable_frame_is_a_skip(tmp_path, size):
    root = tmp_path / 'videos'
    write_folder(root / 'bad', frames(2) + frames(1, *size))
    (root / 'bad' / '001.png').write_bytes(b'not a png')
    write_folder(root / 'good', frames(3))
    logged = []
    out = {v['name']: v for v in prepare_videos(
        str(root), str(tmp_path / 'w'), log=logged.append)}
    assert '001.png' in out['bad']['skipped']
    assert out['good']['skipped'] is None
    assert any('bad' in m for m in logged)
    assert not (tmp_path / 'w' / 'frames' / 'bad').exists()


def test_other_videos_refused_unless_replaced(videos, tmp_path):
    from vcl_mm.apis.self_training import forget_videos
    work = str(tmp_path / 'work')
    prepare_videos(str(videos), work, log=lambda m: None)
    other = tmp_path / 'other'
    write_folder(other / 'fresh', frames(3))
    with pytest.raises(InputError, match='prepared from other videos.*'
                       'added: fresh.*--replace-videos'):
        prepare_videos(str(other), work)
    # same folder, one video more
    write_folder(videos / 'late', frames(3))
    with pytest.raises(InputError, match='added: late'):
        prepare_videos(str(videos), work)
    with pytest.raises(InputError, match='frame_stride'):
        prepare_videos(str(other), work, stride=2)
    # a finished round is kept, an unfinished round's labels are not
    os.makedirs(tmp_path / 'work' / 'round_1')
    (tmp_path / 'work' / 'round_1' / 'model.pth').write_bytes(b'x')
    os.makedirs(tmp_path / 'work' / 'round_2')
    (tmp_path / 'work' / 'round_2' / 'pseudo_labels.json').write_text('{}')
    forget_videos(work, log=lambda m: None)
    out = prepare_videos(str(other), work, log=lambda m: None)
    assert [v['name'] for v in out] == ['fresh']
    assert (tmp_path / 'work' / 'round_1' / 'model.pth').is_file()
    assert not (tmp_path / 'work' / 'round_2' / 'pseudo_labels.json'
                ).exists()


def test_same_videos_elsewhere_accepted(videos, tmp_path):
    work = str(tmp_path / 'work')
    first = prepare_videos(str(videos), work, log=lambda m: None)
    assert prepare_videos(str(videos), work) == first


def test_work_dir_below_a_file_refused_first(tmp_path):
    from vcl_mm.apis.self_training import SelfTraining
    (tmp_path / 'f').write_text('x')
    with pytest.raises(InputError, match='is a file'):
        SelfTraining('no_such_config.py', str(tmp_path), str(
            tmp_path / 'f' / 'work'), 1)
