"""Engine: listing, robust loading, JSON schema, sharding, resume, skips."""
import io
import json
import os

import numpy as np
import pytest
from mc_helpers import COLOUR_MODEL_CFG, MASKCUT, best_iou, write_scenes
from PIL import Image
from pycocotools.coco import COCO

from vcl_mm.maskcut import parts, steps
from vcl_mm.maskcut.job import run_maskcut
from vcl_mm.maskcut.images import SkipImage, list_images, load_image
from vcl_mm.utils import InputError

COLOUR_MODEL = COLOUR_MODEL_CFG
SIZES = [(120, 160), (160, 120), (100, 100), (90, 150)]

#: the two engines (the pipelined one with a worker of each kind)
ENGINES = dict(
    serial=dict(pipelined=False),
    pipelined=dict(pipelined=True, num_workers=1, post_workers=1))


def run(src, out, mode='pipelined', **kw):
    kw.setdefault('progress', False)
    kw.setdefault('engine_cfg', dict(flush_every=1))
    kw['engine_cfg'] = dict(ENGINES[mode], **kw['engine_cfg'])
    return run_maskcut(COLOUR_MODEL, MASKCUT, str(src), str(out), **kw)


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp('scenes')
    gt = write_scenes(str(folder), SIZES, seed=0)
    return folder, gt


def load_json(path):
    with open(path) as f:
        return json.load(f)


def test_list_images_layouts(tmp_path):
    for cls in ('n01', 'n02'):
        (tmp_path / 'inet' / cls).mkdir(parents=True)
        for i in range(2):
            (tmp_path / 'inet' / cls / f'x{i}.JPEG').write_bytes(b'')
    (tmp_path / 'inet' / 'n01' / 'notes.txt').write_text('hi')
    listing = list_images(str(tmp_path / 'inet'))
    assert listing.files == [
        'n01/x0.JPEG', 'n01/x1.JPEG', 'n02/x0.JPEG', 'n02/x1.JPEG'
    ]
    assert listing.ignored == 1
    lst = tmp_path / 'list.txt'
    lst.write_text(f'# comment\ninet/n02/x1.JPEG\n\n'
                   f'{tmp_path}/inet/n01/x0.JPEG\ninet/n02/x1.JPEG\n')
    listing = list_images(str(lst))
    assert listing.files == [
        'inet/n02/x1.JPEG', f'{tmp_path}/inet/n01/x0.JPEG'
    ]
    assert listing.duplicates == 1
    assert listing.path(listing.files[0]) == str(tmp_path / listing.files[0])
    with pytest.raises(InputError, match='not found'):
        list_images(str(tmp_path / 'nope'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(InputError, match='no image'):
        list_images(str(tmp_path / 'empty'))


def _save(path, img, **kw):
    img.save(path, **kw)
    return str(path)


def test_load_image_modes_and_problems(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (40, 60, 3), np.uint8)
    base = Image.fromarray(rgb)
    cmyk = load_image(_save(tmp_path / 'c.jpg', base.convert('CMYK')))
    assert cmyk.shape == (40, 60, 3) and cmyk.dtype == np.uint8
    gray = load_image(_save(tmp_path / 'g.png', base.convert('L')))
    assert gray.shape == (40, 60, 3)
    assert (gray[..., 0] == gray[..., 1]).all()
    rgba = load_image(_save(tmp_path / 'a.png', base.convert('RGBA')))
    assert np.array_equal(rgba, rgb)  # alpha dropped, as OpenCV does
    pal = base.convert('P')
    pal.info['transparency'] = 0
    assert load_image(_save(tmp_path / 'p.png', pal)).shape == (40, 60, 3)
    deep = (np.arange(40 * 60).reshape(40, 60) * 27).astype(np.uint16)
    img16 = load_image(_save(tmp_path / 'd.png', Image.fromarray(deep)))
    assert img16.max() > 200 and img16.min() == 0  # scaled, not clipped
    assert len(np.unique(img16)) > 100
    exif = base.getexif()
    exif[0x0112] = 6  # rotate 90 degrees: width and height swap
    path = _save(tmp_path / 'r.jpg', base, exif=exif)
    # stored pixels by default (as upstream MaskCut and our training)
    assert load_image(path).shape == (40, 60, 3)
    assert load_image(path, exif_transpose=True).shape == (60, 40, 3)

    buf = io.BytesIO()
    base.save(buf, format='JPEG')
    (tmp_path / 't.jpg').write_bytes(buf.getvalue()[:len(buf.getvalue()) // 2])
    (tmp_path / 'junk.jpg').write_bytes(b'not an image at all')
    (tmp_path / 'empty.png').write_bytes(b'')
    _save(tmp_path / 'tiny.png', base.resize((10, 8)))
    expect = {
        't.jpg': 'truncated',
        'junk.jpg': 'unreadable',
        'empty.png': 'unreadable',
        'tiny.png': 'too small',
        'missing.jpg': 'missing'
    }
    for name, kind in expect.items():
        with pytest.raises(SkipImage) as err:
            load_image(str(tmp_path / name))
        assert err.value.kind == kind and err.value.detail


def test_json_schema_round_trip_and_masks(scenes, tmp_path):
    folder, gt = scenes
    out = tmp_path / 'out.json'
    summary = run(folder, out)
    assert summary['images'] == 4 and summary['skipped'] == 0
    coco = COCO(str(out))
    data = load_json(out)
    assert data['categories'] == [{'id': 1, 'name': 'fg'}]
    assert [im['id'] for im in data['images']] == [1, 2, 3, 4]
    assert [a['id'] for a in data['annotations']
            ] == list(range(1,
                            len(data['annotations']) + 1))
    for im in data['images']:
        h, w = SIZES[int(im['file_name'][:3])]
        assert (im['height'], im['width']) == (h, w)  # not swapped
        anns = coco.loadAnns(coco.getAnnIds(imgIds=im['id']))
        assert len(gt[im['file_name']]) <= len(anns) <= 3
        for ann in anns:
            assert isinstance(ann['segmentation']['counts'], str)
            assert ann['iscrowd'] == 0 and ann['category_id'] == 1
            m = coco.annToMask(ann).astype(bool)
            assert m.shape == (h, w)
            assert ann['area'] == m.sum()
            ys, xs = np.nonzero(m)
            assert ann['bbox'] == [
                xs.min(),
                ys.min(),
                xs.max() - xs.min() + 1,
                ys.max() - ys.min() + 1
            ]
        masks = [coco.annToMask(a).astype(bool) for a in anns]
        for obj in gt[im['file_name']]:  # every object is found
            assert best_iou(obj, masks) > 0.85


def test_shards_merge_to_the_single_process_result(scenes, tmp_path):
    folder, _ = scenes
    single = tmp_path / 'single.json'
    run(folder, single)
    sharded = tmp_path / 'sharded.json'
    assert run(folder, sharded, rank=1, world_size=2) is None
    with pytest.raises(RuntimeError, match='no result'):
        parts.merge_parts(
            list_images(str(folder)),
            parts.PartStore(str(sharded) + '.parts', {}), str(sharded))
    summary = run(
        folder, sharded, rank=0, world_size=2, engine_cfg=dict(batch_size=2))
    assert summary['resumed'] == 2
    assert load_json(sharded) == load_json(single)


def fail_after(monkeypatch, num_images):
    """Make the device stage (keys + NCut, both engines) raise once
    ``num_images`` images went through it (what was labelled is flushed
    first, as on any error)."""
    real = steps.MaskCutSteps.patch_masks
    done = []

    def flaky(self, fixed):
        if len(done) >= num_images:
            raise RuntimeError(f'injected failure after {len(done)} images')
        done.extend(fixed)
        return real(self, fixed)

    monkeypatch.setattr(steps.MaskCutSteps, 'patch_masks', flaky)


@pytest.mark.parametrize('mode', list(ENGINES))
def test_kill_and_resume_gives_the_same_json(scenes, tmp_path, monkeypatch,
                                             mode):
    folder, _ = scenes
    full = tmp_path / 'full.json'
    run(folder, full, mode='serial')
    out = tmp_path / 'resumed.json'
    with monkeypatch.context() as patch:
        fail_after(patch, 2)
        with pytest.raises(RuntimeError, match='injected failure'):
            run(folder, out, mode)
    assert not out.exists()
    folder_of_parts = tmp_path / 'resumed.json.parts'
    store = parts.PartStore(str(folder_of_parts), {})
    assert sorted(store.load()) == ['000.jpg', '001.jpg']  # none lost
    # a torn temporary file
    (folder_of_parts / '.r0000-123.json.tmp').write_text('{"records": [')
    summary = run(folder, out, mode)
    assert summary['resumed'] == 2 and summary['processed'] == 2
    assert out.read_bytes() == full.read_bytes()
    again = run(folder, out, mode)  # nothing left to do: same JSON again
    assert again['processed'] == 0 and load_json(out) == load_json(full)
    with pytest.raises(InputError, match='other settings.*maskcut'):
        run_maskcut(
            COLOUR_MODEL,
            dict(MASKCUT, tau=0.3),
            str(folder),
            str(out),
            progress=False)


@pytest.mark.parametrize('mode', list(ENGINES))
def test_bad_inputs_are_listed_with_reasons(tmp_path, mode):
    folder = tmp_path / 'imgs'
    folder.mkdir()
    write_scenes(str(folder), [(96, 128)] * 2, seed=5)
    rgb = np.asarray(Image.open(folder / '000.jpg'))
    Image.fromarray(rgb).convert('CMYK').save(folder / 'cmyk.jpg')
    Image.fromarray(rgb).convert('L').save(folder / 'gray.png')
    Image.fromarray(rgb).convert('RGBA').save(folder / 'rgba.png')
    Image.fromarray(np.full((96, 128, 3), 90,
                            np.uint8)).save(folder / 'blank.png')
    data = (folder / '001.jpg').read_bytes()
    (folder / 'trunc.jpg').write_bytes(data[:len(data) // 3])
    (folder / 'junk.png').write_bytes(b'\x89PNG garbage')
    Image.fromarray(rgb[:10, :12]).save(folder / 'tiny.png')
    out = tmp_path / 'out.json'
    summary = run(folder, out, mode, skipped_file=str(tmp_path / 'skip.tsv'))
    assert summary['images'] == 9
    assert summary['skipped_by_kind'] == {
        'too small': 1,
        'truncated': 1,
        'unreadable': 1
    }
    lines = (tmp_path / 'skip.tsv').read_text().splitlines()[1:]
    reasons = {ln.split('\t')[0]: ln.split('\t')[1] for ln in lines}
    assert reasons == {
        'tiny.png': 'too small',
        'trunc.jpg': 'truncated',
        'junk.png': 'unreadable'
    }
    assert all(len(ln.split('\t')) == 3 for ln in lines)
    coco = load_json(out)
    names = {im['file_name'] for im in coco['images']}
    # an image whose masks were all rejected is recorded without
    # annotations, as upstream (the video recipe keeps it as a target)
    assert names == {
        '000.jpg', '001.jpg', 'cmyk.jpg', 'gray.png', 'rgba.png', 'blank.png'
    }
    blank = next(im for im in coco['images'] if im['file_name'] == 'blank.png')
    assert (blank['height'], blank['width']) == (96, 128)
    assert not [a for a in coco['annotations'] if a['image_id'] == blank['id']]
    # (the grey copy too, on some BLAS builds: its graph is nearly flat)
    assert summary['without_masks'] >= 1


@pytest.mark.parametrize('mode', list(ENGINES))
def test_real_errors_are_not_skips(scenes, tmp_path, monkeypatch, mode):
    folder, _ = scenes

    def broken(self, fixed):
        raise MemoryError('out of memory in the NCut')

    monkeypatch.setattr(steps.MaskCutSteps, 'patch_masks', broken)
    with pytest.raises(MemoryError):
        run(folder, tmp_path / 'x.json', mode)
    assert not os.path.exists(tmp_path / 'x.json')
