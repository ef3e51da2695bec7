# Tiny CPU version of the image-stage recipe, used by the tests: the same
# pipeline (MaskCutDataset -> large-scale jitter -> CutLERCopyPaste) and
# model code with a ResNet-18 (random init), 64 channels and 10 queries, on
# generated images whose true masks stand in for MaskCut pseudo-labels
# (vcl_mm.testing.toy_data.write_image_set; set data_root).
_base_ = [
    '../cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py',
    '../_base_/models/tiny_mask2former_overrides.py'
]

data_root = 'data/generated_images/'
image_size = (128, 128)
model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(
            _base_.model.data_preprocessor.batch_augments[0], size=image_size)
    ]),
    backbone=dict(_base_.tiny_backbone, init_cfg=None),
    panoptic_head=_base_.tiny_head,
    train_cfg=dict(num_points=1024))

load_pipeline = [
    dict(t, scale=image_size) if t['type'] == 'RandomResize' else
    dict(t, crop_size=image_size) if t['type'] == 'RandomCrop' else
    dict(t, size=image_size) if t['type'] == 'Pad' else t
    for t in _base_.load_pipeline
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            ann_file='gt_masks.json',
            data_prefix=dict(img='images/'),
            pipeline=load_pipeline)))

max_iters = 20
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-4))
param_scheduler = dict(end=max_iters, milestones=[max_iters // 2])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=max_iters))
