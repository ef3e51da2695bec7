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
    assert names == ['broken', 'clip', 'mixed', 'movie', 'single']
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
    assert len(logged) == 2 and 'single' in ' '.join(logged)
    index = json.loads((work / 'videos.json').read_text())
    assert index['frame_stride'] == 1 and len(index['videos']) == 5
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
    (tmp_path / 'v' / 'readme.txt').write_text('x')
    with pytest.raises(InputError, match='holds no videos'):
        list_videos(str(tmp_path / 'v'))
    with pytest.raises(InputError, match='videos folder'):
        list_videos(str(tmp_path / 'missing'))
