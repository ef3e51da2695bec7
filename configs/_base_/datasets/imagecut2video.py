# ImageCut2Video training clips from MaskCut pseudo-labels (paper sec. 3.2),
# read straight from the COCO JSON that tools/maskcut.py writes.
#
# Each dataset item is one image made into a clip (per-frame crop, clip-level
# resize and flip, per-frame brightness/contrast/rotation); the
# TargetAwareMixDataset wrapper hands a second item of the same orientation
# to ImageCut2Video, which pastes one of its frames' objects, moving, onto
# every frame of the first. Defaults = official code (configs/videocutler/
# README.md has the term-by-term fidelity table).
#
# data_root / ann_file / img_prefix and num_frames (the model base's) are
# recipe variables: set them at the top of a child config or with
# --cfg-options data_root=...; every place that uses them follows.
_base_ = '../models/videocutler_r50_test.py'

dataset_type = 'MaskCutDataset'
data_root = 'data/imagenet/'
ann_file = 'annotations/imagenet_train_fixsize480_tau0.15_N3.json'
img_prefix = 'train/'
backend_args = None

# one image -> augmented clip of num_frames frames (a dataset item), in the
# official order (Mask2Former's video augmentation list, VideoCutLER YAML)
load_steps = [
    # MaskCut reads pixels without EXIF rotation (PIL); so do we.
    dict(
        type='LoadImageFromFile',
        color_type='color_ignore_orientation',
        backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=False, with_mask=True),
]
to_clip = dict(type='ImageToClip', num_frames='${num_frames}')
# per frame, before the resize: INPUT.CROP absolute_range (600, 720), a
# no-op for sides below 600 px (most of ImageNet)
frame_crop_step = dict(
    type='TransformBroadcaster',
    share_random_params=False,
    transforms=[dict(type='RandomFrameCrop', crop_size=(600, 720))])
# clip level (one draw shared by all frames): short side 360 or 480
# ('choice_by_clip', long side <= 1333), horizontal flip 0.5 ('flip_by_clip');
# D2Resize: detectron2's ResizeShortestEdge sizes, PIL bilinear images and
# PIL nearest masks (mmdet's Resize: cv2, no antialiasing)
train_scales = [(1333, 360), (1333, 480)]
clip_flip = dict(type='RandomFlip', prob=0.5)
clip_level_step = dict(
    type='TransformBroadcaster',
    share_random_params=True,
    transforms=[
        dict(
            type='RandomChoiceResize',
            scales='${train_scales}',
            keep_ratio=True,
            resize_type='D2Resize'), clip_flip
    ])
# per frame (an independent draw per frame): INPUT.AUGMENTATIONS
frame_jitter_step = dict(
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
    ])
clip_pipeline = [
    *load_steps, to_clip, frame_crop_step, clip_level_step, frame_jitter_step
]
# target clip + a source clip of the same orientation -> training clip
train_pipeline = [
    dict(
        type='ImageCut2Video',
        scale_range=(0.8, 1.0),
        max_cover_ratio=0.5,
        require_equal_count=True,
        upstream_cumulative=False,
        source_frame='one',
        match_orientation=True),
    # frames of one clip may differ in size after the per-frame crop
    dict(type='PadClipFrames'),
    dict(type='PackTrackInputs', meta_keys=('paste_status', )),
]

train_dataloader = dict(
    _delete_=True,  # replaces mmdet's YouTube-VIS data
    batch_size=2,  # official: 16 clips on 8 GPUs
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        # hands the target to ImageCut2Video (source of the same orientation)
        type='TargetAwareMixDataset',
        dataset=dict(
            type=dataset_type,
            data_root='${data_root}',
            ann_file='${ann_file}',
            data_prefix=dict(img='${img_prefix}'),
            # images without pseudo-masks are kept: they carry pasted
            # objects only (official FILTER_EMPTY_ANNOTATIONS: False)
            filter_cfg=dict(filter_empty_gt=False, min_size=0),
            size_source='auto',
            check_files=True,
            backend_args=backend_args,
            pipeline=clip_pipeline),
        pipeline=train_pipeline))
