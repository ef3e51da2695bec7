# ImageCut2Video training clips from MaskCut pseudo-labels (paper sec. 3.2),
# read straight from the COCO JSON that tools/maskcut.py writes.
#
# Each dataset item is one image made into a static clip (clip-level resize
# and flip once, then per-frame brightness/contrast/rotation); the
# MultiImageMixDataset wrapper hands a second random item to ImageCut2Video,
# which pastes its objects, moving, onto the first. Defaults = official code.
#
# Override data_root / ann_file / img_prefix (e.g. --cfg-options
# train_dataloader.dataset.dataset.data_root=...). num_frames must equal the
# model's track_head.num_frames: a recipe that changes it sets both, e.g.
# train_dataloader.dataset.dataset.pipeline[4].num_frames.
dataset_type = 'MaskCutDataset'
data_root = 'data/imagenet/'
ann_file = 'annotations/imagenet_train_fixsize480_tau0.15_N3.json'
img_prefix = 'train/'
num_frames = 3
backend_args = None

# one image -> augmented static clip of num_frames frames (a dataset item)
clip_pipeline = [
    # MaskCut reads pixels without EXIF rotation (PIL); so do we.
    dict(
        type='LoadImageFromFile',
        color_type='color_ignore_orientation',
        backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=False, with_mask=True),
    # clip level (shared by all frames): short side 360 or 480, long <= 1333
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 360), (1333, 480)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ImageToClip', num_frames=num_frames),
    # frame level: an independent draw per frame
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(
                type='RandomBrightnessContrast',
                brightness=(0.9, 1.1),
                contrast=(0.9, 1.1)),
            dict(
                type='RandomCenterRotate',
                angle_range=(-15., 15.),
                center_range=(0.4, 0.6)),
        ]),
]
# target clip + a random source clip -> training clip
train_pipeline = [
    dict(
        type='ImageCut2Video',
        scale_range=(0.8, 1.0),
        max_cover_ratio=0.5,
        require_equal_count=True,
        upstream_cumulative=False),
    dict(type='PackTrackInputs', meta_keys=('paste_status', )),
]

train_dataloader = dict(
    batch_size=2,  # official: 16 clips on 8 GPUs
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='MultiImageMixDataset',
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=dict(img=img_prefix),
            # images without pseudo-masks are dropped (detectron2 default)
            filter_cfg=dict(filter_empty_gt=True, min_size=0),
            size_source='auto',
            check_files=True,
            backend_args=backend_args,
            pipeline=clip_pipeline),
        pipeline=train_pipeline))
