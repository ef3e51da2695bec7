"""The streaming merge: the in-memory merge's bytes from many part files."""
import json

import numpy as np
import pytest

from vcl_mm.maskcut.coco_io import encode_mask
from vcl_mm.maskcut.images import ImageList
from vcl_mm.maskcut.parts import PartStore, merge_parts, rle_record
from vcl_mm.testing.merge_reference import merge_parts_in_memory


def fake_parts(folder, num_images=600, ranks=3, flush_every=4, seed=0):
    """Part files as a sharded, resumed run leaves them: ranks interleaved
    in the listing, skips, images without masks, a duplicate record (the
    first file's wins) and a record of an image no longer listed."""
    rng = np.random.default_rng(seed)
    names = [f'n{i // 50:03d}/img_{i:05d}.JPEG' for i in range(num_images)]
    store = PartStore(str(folder), {})
    store.check_settings()
    for rank in range(ranks):
        pending = []
        for name in names[rank::ranks]:
            h, w = (int(v) for v in rng.integers(20, 60, 2))
            kind = rng.random()
            if kind < 0.1:
                pending.append(
                    dict(
                        file_name=name,
                        skip='unreadable',
                        detail='decoding failed: x'))
            else:
                k = 0 if kind < 0.2 else int(rng.integers(1, 4))
                masks = np.zeros((k, h, w), bool)
                for m in masks:
                    y, x = rng.integers(0, h - 5), rng.integers(0, w - 5)
                    m[y:y + int(rng.integers(2, 20)),
                      x:x + int(rng.integers(2, 20))] = True
                pending.append(
                    rle_record(name, h, w, [encode_mask(m) for m in masks]))
            if len(pending) == flush_every:
                store.write(rank, pending)
                pending = []
        store.write(rank, pending)
    store.write(9, [
        rle_record(names[5], 10, 10, []),
        rle_record('gone.JPEG', 10, 10, [])
    ])
    return ImageList(str(folder), names), store


def test_streaming_merge_writes_the_in_memory_bytes(tmp_path):
    listing, store = fake_parts(tmp_path / 'parts')
    assert len(store.files()) > 150
    summary = merge_parts(listing, store, str(tmp_path / 'new.json'))
    num = merge_parts_in_memory(listing, store, str(tmp_path / 'old.json'))
    new = (tmp_path / 'new.json').read_bytes()
    assert new == (tmp_path / 'old.json').read_bytes()
    assert (tmp_path / 'new.skipped.txt').read_bytes() == (
        tmp_path / 'old.skipped.txt').read_bytes()
    coco = json.loads(new)
    assert summary['masks'] == num == len(coco['annotations']) > 0
    assert summary['labelled'] == len(coco['images'])
    assert summary['skipped'] + summary['labelled'] == 600
    assert summary['without_masks'] > 0
    # the first record of an image wins (its real size, not the 10x10 one)
    img5 = next(im for im in coco['images']
                if im['file_name'] == listing.files[5])
    assert img5['width'] >= 20


def test_streaming_merge_refuses_missing_images(tmp_path):
    listing, store = fake_parts(tmp_path / 'parts', num_images=30)
    listing.files.append('never_done.JPEG')
    with pytest.raises(
            RuntimeError, match='1 images have no result.*'
            'never_done'):
        merge_parts(listing, store, str(tmp_path / 'x.json'))
    assert not (tmp_path / 'x.json').exists()


def test_merge_of_nothing_but_skips(tmp_path):
    store = PartStore(str(tmp_path / 'p'), {})
    store.check_settings()
    store.write(0, [dict(file_name='a.jpg', skip='too small', detail='d')])
    listing = ImageList(str(tmp_path), ['a.jpg'])
    merge_parts(listing, store, str(tmp_path / 'new.json'))
    merge_parts_in_memory(listing, store, str(tmp_path / 'old.json'))
    assert (tmp_path / 'new.json').read_bytes() == (tmp_path /
                                                    'old.json').read_bytes()
