# Tiny CPU version of the image-stage recipe, used by the tests: the same
# pipeline (MaskCutDataset -> large-scale jitter -> CutLERCopyPaste) and
# model code with a ResNet-18 (random init), 64 channels and 10 queries, on
# generated images whose true masks stand in for MaskCut pseudo-labels
# (vcl_mm.testing.toy_data.write_image_set; set data_root).
_base_ = [
    '../cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py',
    '../_base_/models/tiny_mask2former_overrides.py',
    '../_base_/datasets/generated_images_overrides.py'
]

data_root = 'data/generated_images/'
image_size = (128, 128)
model = dict(
    backbone=dict(_base_.tiny_backbone, init_cfg=None),
    panoptic_head=_base_.tiny_head,
    train_cfg=dict(num_points=1024))

train_dataloader = dict(
    _base_.toy_images_loader, dataset=dict(dataset=_base_.toy_images))

max_iters = _base_.toy_max_iters
optim_wrapper = _base_.toy_optim_wrapper
param_scheduler = dict(end=max_iters, milestones=[max_iters // 2])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = _base_.toy_hooks
