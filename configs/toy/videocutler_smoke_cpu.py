# Tiny CPU version of the video-stage recipe, used by the tests: the same
# pipeline (MaskCutDataset -> ImageToClip -> per-frame jitter ->
# ImageCut2Video) and model code with a ResNet-18, 64 channels and 10
# queries, on generated images whose true masks stand in for MaskCut
# pseudo-labels (vcl_mm.testing.toy_data.write_image_set; set data_root).
_base_ = [
    '../videocutler/videocutler_r50_8xb2-80k_imagenet.py',
    '../_base_/models/tiny_mask2former_overrides.py',
    '../_base_/datasets/generated_images_overrides.py'
]

load_from = None
data_root = 'data/generated_images/'
model = dict(
    backbone=_base_.tiny_backbone,
    track_head=dict(_base_.tiny_head, train_cfg=dict(num_points=1024)))

# small frames: short side 96 or 128
train_scales = [(1333, 96), (1333, 128)]
train_dataloader = dict(
    _base_.toy_images_loader, dataset=dict(dataset=_base_.toy_images))

max_iters = _base_.toy_max_iters
optim_wrapper = _base_.toy_optim_wrapper
param_scheduler = dict(end=max_iters, milestones=[max_iters - 1])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = _base_.toy_hooks
