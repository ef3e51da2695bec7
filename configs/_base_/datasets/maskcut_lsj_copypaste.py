# MaskCut pseudo-labels of ImageNet as single images for CutLER's image
# stage: large-scale jitter at 896 (flip, scale 0.1-2.0, random crop, pad to
# the fixed 896 x 896 canvas with 128 as detectron2's FixedSizeCrop) and
# CutLER's copy-paste (CutLERCopyPaste: U{1..n-1} objects of another image of
# the same orientation, scaled to 0.3-1.0 of the canvas, dropped when they
# cover >= 50% of a target; cutler/engine/train_loop.py) inside
# TargetAwareMixDataset. Images without pseudo-masks are dropped (official
# image YAML: FILTER_EMPTY_ANNOTATIONS True).
_base_ = '../models/mask2former_r50_cls_agnostic.py'

dataset_type = 'MaskCutDataset'
data_root = 'data/imagenet/'
ann_file = 'annotations/imagenet_train_fixsize480_tau0.15_N3.json'
img_prefix = 'train/'
# the LSJ canvas; data_root, ann_file, img_prefix and image_size are recipe
# variables ('${name}' below): a child config sets them at its top
image_size = (896, 896)
backend_args = None

# one image -> jittered crop (a dataset item)
load_pipeline = [
    # uint8, as detectron2 reads it (its resize takes the PIL path for uint8)
    dict(
        type='LoadImageFromFile',
        color_type='color_ignore_orientation',
        backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    # detectron2's ResizeScale: sizes by its rule (np.round of the largest
    # size fitting the scaled box), PIL bilinear images, PIL nearest masks
    dict(type='D2RandomResize', scale='${image_size}', ratio_range=(0.1, 2.0)),
    dict(
        type='RandomCrop',
        crop_size='${image_size}',
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True),
    # the fixed-size canvas the copy-paste works on (FixedSizeCrop pads
    # bottom/right with 128)
    dict(type='Pad', size='${image_size}', pad_val=dict(img=128, masks=0)),
]
# target item + a source item of the same orientation -> training image.
# Variant with mmdet's CopyPaste rules: dict(type='ScaledCopyPaste',
# scale_range=(0.3, 1.0), max_num_pasted=100) in MultiImageMixDataset.
train_pipeline = [
    dict(
        type='CutLERCopyPaste',
        scale_range=(0.3, 1.0),
        random_num=True,
        max_cover_ratio=0.5,
        match_orientation=True),
    dict(type='PackDetInputs'),
]

train_dataloader = dict(
    _delete_=True,  # replaces mmdet's YouTube-VIS data
    batch_size=2,  # official: 16 images on 8 GPUs
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='TargetAwareMixDataset',
        dataset=dict(
            type=dataset_type,
            data_root='${data_root}',
            ann_file='${ann_file}',
            data_prefix=dict(img='${img_prefix}'),
            filter_cfg=dict(filter_empty_gt=True, min_size=0),
            backend_args=backend_args,
            pipeline=load_pipeline),
        pipeline=train_pipeline))
