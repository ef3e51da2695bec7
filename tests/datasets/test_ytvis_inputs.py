"""COCO-video / YouTube-VIS training JSONs checked on load: frames without
video fields, orphans, duplicates and empty videos are named (one line);
videos without annotations are skipped in training with the count logged
(mmdet keeps them, and no clip can be sampled from them)."""
import json

import numpy as np
import pytest

from vcl_mm.datasets.api_wrappers.masks import encode
from vcl_mm.utils import InputError


def _converted(num_videos=2, frames=3, annotated=None):
    annotated = set(range(num_videos)) if annotated is None else annotated
    videos, images, anns = [], [], []
    m = np.zeros((40, 48), bool)
    m[5:20, 6:30] = True
    for v in range(num_videos):
        videos.append(dict(id=v + 1, name=f'v{v}'))
        for t in range(frames):
            iid = len(images) + 1
            images.append(dict(id=iid, file_name=f'v{v}/{t}.jpg', height=40,
                               width=48, video_id=v + 1, frame_id=t))
            if v in annotated:
                anns.append(dict(id=len(anns) + 1, image_id=iid,
                                 category_id=1, instance_id=v + 1,
                                 segmentation=encode(m), bbox=[6, 5, 24, 15],
                                 area=360, iscrowd=0))
    return dict(videos=videos, images=images, annotations=anns,
                categories=[dict(id=1, name='fg')])


def _official(file_names=3):
    return dict(videos=[dict(id=1, file_names=[f'v/{t}.jpg'
                                               for t in range(file_names)],
                             height=40, width=48)],
                annotations=[], categories=[dict(id=1, name='fg')])


def _build(tmp_path, data, test_mode=False):
    from vcl_mm.datasets import YTVISDataset
    (tmp_path / 'frames').mkdir(exist_ok=True)
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(data))
    return YTVISDataset(ann_file=str(ann), class_agnostic=True,
                        data_prefix=dict(img_path=str(tmp_path / 'frames')),
                        test_mode=test_mode, pipeline=[])


def _drop(key):

    def edit(d):
        for im in d['images']:
            im.pop(key)
        return d

    return edit


def _set_image(k, **kw):

    def edit(d):
        d['images'][k].update(kw)
        return d

    return edit


BAD = {
    'no video_id': (_drop('video_id'), 'lacks video_id'),
    'no frame_id': (_drop('frame_id'), 'lacks frame_id'),
    'unknown video': (_set_image(0, video_id=99), 'does not list'),
    'frame twice': (_set_image(1, frame_id=0), 'two images with frame_id'),
    'image id twice': (_set_image(1, id=1), 'twice'),
    'video id twice': (lambda d: dict(d, videos=d['videos'] + [
        dict(id=1)]), 'twice'),
    'empty video': (lambda d: dict(d, videos=d['videos'] + [dict(id=7)]),
                    'have no images'),
    'no videos': (lambda d: dict(d, videos=[]), 'lists no videos'),
    'annotation without image_id': (
        lambda d: dict(d, annotations=[dict(id=1, segmentation=[],
                                            category_id=1)]),
        'lacks image_id'),
}


@pytest.mark.parametrize('case', sorted(BAD))
def test_bad_converted_json_named(tmp_path, case):
    edit, match = BAD[case]
    with pytest.raises(InputError, match=match):
        _build(tmp_path, edit(_converted()))


@pytest.mark.parametrize('data,match', [
    (_official(0), 'lists no frames'),
    (dict(_official(), videos=[dict(id=1, file_names=['a.jpg'])]),
     'lacks height, width'),
    (dict(_official(), annotations=[dict(video_id=1, category_id=1)]),
     'lacks segmentations'),
])
def test_bad_official_json_named(tmp_path, data, match):
    with pytest.raises(InputError, match=match):
        _build(tmp_path, data)


def test_videos_without_annotations_skipped_in_training(tmp_path):
    ds = _build(tmp_path, _converted(3, annotated={0, 2}))
    assert len(ds) == 2
    assert [ds.get_data_info(i)['video_id'] for i in range(2)] == [1, 3]
    # test mode keeps every video
    assert len(_build(tmp_path, _converted(3, annotated={0}), True)) == 3


def test_no_annotated_video_is_an_error(tmp_path):
    with pytest.raises(InputError, match='none of its 2 videos'):
        _build(tmp_path, _converted(2, annotated=set()))


def test_good_json_loads_unchanged(tmp_path):
    ds = _build(tmp_path, _converted(2))
    info = ds.get_data_info(0)
    assert info['video_length'] == 3
    assert [im['frame_id'] for im in info['images']] == [0, 1, 2]
