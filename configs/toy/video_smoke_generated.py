# Tiny Mask2FormerVideo (ResNet-18, 64 channels, 10 queries) trained and tested
# on generated toy videos: the CPU smoke run behind the tests and the
# runner tests. Same code path as the real recipe, small numbers.
_base_ = [
    # the video model and schedule, with generated videos
    '../_base_/datasets/generated_videos.py',
    '../_base_/models/tiny_mask2former_overrides.py'
]
model = dict(
    backbone=_base_.tiny_backbone,
    track_head=dict(_base_.tiny_head, train_cfg=dict(num_points=1024)))

max_iters = 20
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = dict(end=max_iters, milestones=[max_iters - 1])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_evaluator = dict(_delete_=True, type='ClassAgnosticYTVISMetric')
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=max_iters))
