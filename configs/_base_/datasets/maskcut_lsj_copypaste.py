# MaskCut pseudo-labels of ImageNet as single images for CutLER's image
# stage: large-scale jitter at 896 (scale 0.1-2.0, random crop, flip) and
# copy-paste of a random subset of another image's objects scaled to 0.3-1.0
# of the target (ScaledCopyPaste inside MultiImageMixDataset). Batches are
# padded to image_size by the model's BatchFixedSizePad (see the recipe).
dataset_type = 'MaskCutDataset'
data_root = 'data/imagenet/'
ann_file = 'annotations/imagenet_train_fixsize480_tau0.15_N3.json'
img_prefix = 'train/'
image_size = (896, 896)
backend_args = None

# one image -> jittered crop (a dataset item)
load_pipeline = [
    dict(
        type='LoadImageFromFile',
        to_float32=True,
        color_type='color_ignore_orientation',
        backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomResize',
        scale=image_size,
        ratio_range=(0.1, 2.0),
        resize_type='Resize',
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_size=image_size,
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True),
]
# target item + a random source item -> training image
train_pipeline = [
    dict(type='ScaledCopyPaste', scale_range=(0.3, 1.0), max_num_pasted=100),
    dict(type='PackDetInputs'),
]

train_dataloader = dict(
    batch_size=2,  # official: 16 images on 8 GPUs
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
            filter_cfg=dict(filter_empty_gt=True, min_size=0),
            backend_args=backend_args,
            pipeline=load_pipeline),
        pipeline=train_pipeline))
