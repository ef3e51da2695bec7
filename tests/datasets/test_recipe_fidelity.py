"""The synthetic-data recipe follows the official code term by term.

One test per term checked against the official code: one source
frame per clip, sources of the target's orientation, CutLER's image-stage
copy-paste, the per-frame crop, and empty pseudo-label images.
"""
import copy
import os.path as osp

import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.registry import init_default_scope

from vcl_mm.testing.toy_data import write_image_set
from vcl_mm.datasets.target_aware_mix import (TargetAwareMixDataset,
                                              draw_same_orientation)
from vcl_mm.datasets.transforms import (CutLERCopyPaste, ImageCut2Video,
                                        ImageToClip, PadClipFrames,
                                        RandomFrameCrop)
from vcl_mm.utils import InputError
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils.launch import load_config

ROOT = REPO_ROOT
VIDEO_RECIPE = osp.join(ROOT, 'configs', 'videocutler',
                        'videocutler_r50_8xb2-80k_imagenet.py')
IMAGE_RECIPE = osp.join(ROOT, 'configs', 'cutler',
                        'cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py')
ABLATIONS = osp.join(ROOT, 'configs', 'videocutler', 'ablations',
                     'videocutler_r50_8xb2-80k_imagenet_{}.py')
H, W = 40, 60


def box(y0, y1, x0, x1, h=H, w=W):
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def clip_of(frames_masks, value=0, h=H, w=W):
    """A clip whose frame t has masks ``frames_masks[t]`` (same ids)."""
    base = dict(
        img=np.full((h, w, 3), value, np.uint8),
        ori_shape=(h, w),
        gt_masks=BitmapMasks(np.stack(frames_masks[0]), h, w),
        gt_bboxes_labels=np.zeros(len(frames_masks[0]), np.int64))
    clip = ImageToClip(num_frames=len(frames_masks))(base)
    clip['gt_masks'] = [
        BitmapMasks(np.stack(m), h, w) for m in frames_masks
    ]
    return clip


# ---------------------------------------------------- 2. one source frame
@pytest.mark.parametrize('seed', range(4))
def test_one_source_frame_is_pasted_into_every_frame(seed):
    """Upstream draws one source frame and pastes it everywhere; only the
    scale and offset are redrawn per frame (here fixed to 1 and 0)."""
    target = clip_of([[box(0, 5, 0, 5)]] * 3)
    positions = [box(10, 20, 5, 15), box(10, 20, 25, 35), box(10, 20, 45, 55)]
    source = clip_of([[m] for m in positions], value=255)
    target['mix_results'] = [source]
    np.random.seed(seed)
    out = ImageCut2Video(
        scale_range=(1., 1.), max_cover_ratio=None)(copy.deepcopy(target))
    pasted = [m.masks[-1] for m in out['gt_masks']]
    assert all((p == pasted[0]).all() for p in pasted)
    assert any((pasted[0] == p).all() for p in positions)
    # the variant pastes source frame t into target frame t
    np.random.seed(seed)
    out = ImageCut2Video(
        scale_range=(1., 1.), max_cover_ratio=None,
        source_frame='matching')(copy.deepcopy(target))
    for t in range(3):
        np.testing.assert_array_equal(out['gt_masks'][t].masks[-1],
                                      positions[t])


# --------------------------------------------------- 3. same orientation
class _Sizes:
    """A stand-in dataset: data infos with given (height, width)."""

    def __init__(self, sizes):
        self.sizes = sizes

    def __len__(self):
        return len(self.sizes)

    def get_data_info(self, idx):
        h, w = self.sizes[idx]
        return dict(height=h, width=w)


def test_sources_are_drawn_from_the_target_orientation():
    sizes = [(300, 400)] * 7 + [(400, 300)] * 3 + [(300, 300)] * 2
    data = _Sizes(sizes)
    np.random.seed(0)
    for target_hw, group in (((375, 500), range(7)), ((500, 375),
                                                      range(7, 12))):
        target = dict(ori_shape=[target_hw] * 3)
        draws = {draw_same_orientation(data, target) for _ in range(200)}
        assert draws == set(group)  # square images pair with portraits
    transform = ImageCut2Video()
    assert transform.needs_target
    assert transform.get_indexes(data, dict(ori_shape=(10, 20)))[0] < 7
    with pytest.raises(InputError, match='TargetAwareMixDataset'):
        transform.get_indexes(data)  # plain MultiImageMixDataset
    assert ImageCut2Video(match_orientation=False).get_indexes(data)[0] < 12


@pytest.fixture(scope='module')
def mixed_images(tmp_path_factory):
    """Generated landscape and portrait images with their masks."""
    root = str(tmp_path_factory.mktemp('mixed'))
    write_image_set(root, num_images=8, seed=3, size=(60, 90))
    import json
    from PIL import Image
    ann = json.load(open(osp.join(root, 'gt_masks.json')))
    # rotate half of the images to portrait, masks with them
    from pycocotools import mask as mask_utils
    for img in ann['images'][::2]:
        path = osp.join(root, 'images', img['file_name'])
        Image.open(path).transpose(Image.Transpose.ROTATE_90).save(path)
        img['height'], img['width'] = img['width'], img['height']
        for a in ann['annotations']:
            if a['image_id'] == img['id']:
                m = np.rot90(mask_utils.decode(a['segmentation']))
                rle = mask_utils.encode(np.asfortranarray(m))
                rle['counts'] = rle['counts'].decode()
                a['segmentation'] = rle
                a['bbox'] = mask_utils.toBbox(rle).tolist()
    json.dump(ann, open(osp.join(root, 'gt_masks.json'), 'w'))
    return root + '/'


def test_video_recipe_pairs_clips_of_one_orientation(mixed_images):
    init_default_scope('vcl_mm')
    cfg = load_config(VIDEO_RECIPE).train_dataloader.dataset
    cfg.dataset.update(
        data_root=mixed_images,
        ann_file='gt_masks.json',
        data_prefix=dict(img='images/'))
    dataset = DATASETS.build(cfg)
    assert isinstance(dataset, TargetAwareMixDataset)
    seen = []
    original = dataset._draw_sources

    def spy(transform, results):
        sources = original(transform, results)
        seen.append((results['ori_shape'][0], sources[0]['ori_shape'][0]))
        return sources

    dataset._draw_sources = spy
    np.random.seed(0)
    for idx in range(len(dataset)):
        dataset[idx]
    assert len(seen) == len(dataset)
    for (th, tw), (sh, sw) in seen:
        assert (tw > th) == (sw > sh)
    assert {tw > th for (th, tw), _ in seen} == {True, False}


# ------------------------------------------ 4. CutLER image copy-paste
def image_item(masks, value=0., size=(H, W)):
    masks = np.asarray(masks, np.uint8).reshape(-1, *size)
    bm = BitmapMasks(masks, *size)
    return dict(
        img=np.full(size + (3, ), value, np.float32),
        ori_shape=size,
        gt_masks=bm,
        gt_bboxes=bm.get_bboxes(HorizontalBoxes),
        gt_bboxes_labels=np.zeros(len(masks), np.int64),
        gt_ignore_flags=np.zeros(len(masks), bool))


def cutler_paste(target, source, seed, **kwargs):
    item = copy.deepcopy(target)
    item['mix_results'] = [copy.deepcopy(source)]
    np.random.seed(seed)
    return CutLERCopyPaste(**kwargs)(item)


def test_cutler_number_pasted_is_one_to_n_minus_one():
    target = image_item([box(0, 4, 0, 4)])
    source = image_item([box(5 + 6 * i, 9 + 6 * i, 50, 56) for i in range(4)],
                        value=255.)
    counts = {
        len(cutler_paste(target, source, s, scale_range=(1., 1.))['gt_masks'])
        - 1
        for s in range(60)
    }
    assert counts == {1, 2, 3}  # never all 4 (RANDOM_NUM)
    one = image_item([box(5, 9, 50, 56)], value=255.)
    assert len(cutler_paste(target, one, 0, scale_range=(1., 1.))
               ['gt_masks']) == 2
    every = {
        len(
            cutler_paste(
                target, source, s, scale_range=(1., 1.),
                random_num=False)['gt_masks']) - 1
        for s in range(5)
    }
    assert every == {4}


def test_cutler_covering_objects_are_dropped_and_targets_survive():
    # source X covers 60 % of target A (X dropped), Y lies on free ground,
    # Z covers 45 % of target B (kept; B loses the covered part)
    a = box(0, 10, 0, 10)
    b = box(20, 40, 0, 20)
    target = image_item([a, b])
    x = box(0, 6, 0, 10)  # 60 % of A
    y = box(0, 10, 40, 60)  # free space
    z = box(20, 29, 0, 20)  # 45 % of B
    source = image_item([x, y, z], value=255.)
    out = cutler_paste(target, source, 0, scale_range=(1., 1.),
                       random_num=False)
    masks = out['gt_masks'].masks.astype(bool)
    # A and B kept (B only lost the covered part), X dropped, Y and Z pasted
    assert len(masks) == 4
    np.testing.assert_array_equal(masks[0], a.astype(bool))
    np.testing.assert_array_equal(masks[1], b.astype(bool) & ~z.astype(bool))
    assert (out['img'][x.astype(bool) & ~z.astype(bool)] == 0).all()
    assert (out['img'][y.astype(bool)] == 255).all()
    # a target is dropped only once nothing is left of it: three strips,
    # each covering a third of it (kept), together cover it all
    strips = [box(20 + i, 21 + i, 0, 10) for i in range(3)]
    out = cutler_paste(
        image_item([box(20, 23, 0, 4), a]),
        image_item(strips, value=255.),
        0,
        scale_range=(1., 1.),
        random_num=False)
    assert len(out['gt_masks']) == 4  # A + 3 strips; the target is gone
    np.testing.assert_array_equal(out['gt_masks'].masks[0], a)
    # every pasted object covers a target: the image stays un-pasted
    out = cutler_paste(
        image_item([a]), image_item([a], value=255.), 0,
        scale_range=(1., 1.))
    assert len(out['gt_masks']) == 1 and (out['img'] == 0).all()


def test_cutler_source_scales_isotropically_on_the_padded_canvas():
    """The image recipe pads to the fixed canvas before pasting, so a
    square source object stays square whatever the target's shape."""
    cfg = load_config(IMAGE_RECIPE)
    steps = [t['type'] for t in cfg.train_dataloader.dataset.dataset.pipeline]
    assert steps[-1] == 'Pad'
    pad = cfg.train_dataloader.dataset.dataset.pipeline[-1]
    assert tuple(pad['size']) == tuple(cfg.image_size)
    assert pad['pad_val']['img'] == 128  # detectron2 FixedSizeCrop
    first = cfg.train_dataloader.dataset.pipeline[0]
    assert first['type'] == 'CutLERCopyPaste'
    assert cfg.train_dataloader.dataset.type == 'TargetAwareMixDataset'
    # on equal square canvases the pasted square object stays square
    canvas = (64, 64)
    source = image_item([box(8, 40, 8, 40, *canvas)], 255., canvas)
    target = image_item([box(0, 4, 0, 4, *canvas)], 0., canvas)
    out = cutler_paste(target, source, 3, scale_range=(0.5, 0.5))
    ys, xs = np.nonzero(out['gt_masks'].masks[-1])
    assert abs((ys.ptp() + 1) - (xs.ptp() + 1)) <= 1


# ------------------------------------------------- 5. per-frame crop
def test_random_frame_crop_follows_detectron2_absolute_range():
    crop = RandomFrameCrop(crop_size=(600, 720))
    np.random.seed(0)
    sizes = set()
    for _ in range(50):
        res = crop(
            dict(
                img=np.zeros((500, 900, 3), np.uint8),
                gt_masks=BitmapMasks(np.ones((1, 500, 900), np.uint8), 500,
                                     900)))
        h, w = res['img'].shape[:2]
        assert h == 500 and 600 <= w <= 720
        assert res['gt_masks'].masks.shape == (1, h, w)
        sizes.add(w)
    assert len(sizes) > 10
    small = crop(dict(img=np.zeros((375, 500, 3), np.uint8)))
    assert small['img'].shape[:2] == (375, 500)  # a no-op below 600 px


def test_video_recipe_crops_each_frame_before_the_clip_resize():
    pipeline = load_config(VIDEO_RECIPE).clip_pipeline
    kinds = [t['type'] for t in pipeline]
    to_clip = kinds.index('ImageToClip')
    crop, clip_level, jitter = pipeline[to_clip + 1:to_clip + 4]
    assert crop['transforms'][0]['type'] == 'RandomFrameCrop'
    assert tuple(crop['transforms'][0]['crop_size']) == (600, 720)
    assert crop['share_random_params'] is False
    assert [a['type'] for a in clip_level['transforms']] == \
        ['RandomChoiceResize', 'RandomFlip']
    assert clip_level['share_random_params'] is True
    assert jitter['share_random_params'] is False
    # the Table 6c cells: crop on/off, as the paper's columns
    for name, has_crop, jitters in (('aug-none', False, []),
                                    ('aug-crop', True, []),
                                    ('aug-rotation', False,
                                     ['RandomCenterRotate'])):
        steps = load_config(ABLATIONS.format(name)).clip_pipeline
        crops = [
            t for t in steps for a in t.get('transforms', [])
            if a['type'] == 'RandomFrameCrop'
        ]
        assert bool(crops) is has_crop, name
        found = [
            a['type'] for t in steps if t.get('share_random_params') is False
            for a in t['transforms'] if a['type'] != 'RandomFrameCrop'
        ]
        assert found == jitters, name


def test_frames_of_different_sizes_are_padded_for_packing():
    clip = dict(
        img=[np.zeros((4, 6, 3), np.uint8),
             np.zeros((5, 3, 3), np.uint8)],
        gt_masks=[
            BitmapMasks(np.ones((1, 4, 6), np.uint8), 4, 6),
            BitmapMasks(np.ones((1, 5, 3), np.uint8), 5, 3)
        ])
    out = PadClipFrames()(clip)
    assert [im.shape for im in out['img']] == [(5, 6, 3)] * 2
    assert (out['img'][0][4] == (104, 116, 124)).all()
    assert out['gt_masks'][1].masks[0, :, 3:].sum() == 0
    assert out['gt_masks'][1].masks.sum() == 15


# --------------------------------------------- 7. empty pseudo-labels
def test_images_without_masks_are_video_targets(tmp_path):
    """The video recipe keeps images without pseudo-masks (official
    FILTER_EMPTY_ANNOTATIONS False): they get pasted objects only. The
    image recipe drops them (its YAML filters)."""
    import json
    root = str(tmp_path)
    write_image_set(root, num_images=4, seed=1, size=(60, 80))
    path = osp.join(root, 'gt_masks.json')
    ann = json.load(open(path))
    empty_id = ann['images'][0]['id']
    ann['annotations'] = [
        a for a in ann['annotations'] if a['image_id'] != empty_id
    ]
    json.dump(ann, open(path, 'w'))
    init_default_scope('vcl_mm')
    for recipe, kept in ((VIDEO_RECIPE, 4), (IMAGE_RECIPE, 3)):
        cfg = load_config(recipe).train_dataloader.dataset.dataset
        cfg.update(
            data_root=root + '/',
            ann_file='gt_masks.json',
            data_prefix=dict(img='images/'))
        cfg.pop('pipeline')
        assert len(DATASETS.build(dict(cfg, pipeline=[]))) == kept, recipe
    cfg = load_config(VIDEO_RECIPE).train_dataloader.dataset
    cfg.dataset.update(
        data_root=root + '/',
        ann_file='gt_masks.json',
        data_prefix=dict(img='images/'))
    dataset = DATASETS.build(cfg)
    index = next(
        i for i in range(len(dataset))
        if dataset.dataset.get_data_info(i)['img_id'] == empty_id)
    np.random.seed(0)
    statuses = set()
    for _ in range(6):
        packed = dataset[index]
        for sample in packed['data_samples']:
            statuses.add(sample.paste_status)
            # the target has no objects: all labels are pasted ones
            num = len(sample.gt_instances.instances_ids)
            assert (num > 0) == (sample.paste_status == 'pasted')
    assert 'pasted' in statuses


def test_recipe_packs_clips_whose_frames_were_cropped_apart(tmp_path):
    """Images above 600 px: each frame gets its own 600-720 crop, so the
    frames of a clip differ in size until PadClipFrames; packing works and
    every frame's masks match the packed size."""
    root = str(tmp_path)
    write_image_set(root, num_images=2, seed=2, size=(700, 900))
    init_default_scope('vcl_mm')
    cfg = load_config(VIDEO_RECIPE).train_dataloader.dataset
    cfg.dataset.update(
        data_root=root + '/',
        ann_file='gt_masks.json',
        data_prefix=dict(img='images/'))
    dataset = DATASETS.build(cfg)
    np.random.seed(0)
    shapes = set()
    for _ in range(3):
        packed = dataset[0]
        size = tuple(packed['inputs'].shape[2:])
        for sample in packed['data_samples']:
            shapes.add(tuple(sample.img_shape))
            assert sample.gt_instances.masks.masks.shape[1:] == size
            assert sample.img_shape[0] <= size[0]
            assert sample.img_shape[1] <= size[1]
    assert len(shapes) > 1  # the frames were cropped apart
