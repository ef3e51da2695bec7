# Table 6c ablation "none": no per-frame augmentation (no crop, brightness,
# contrast or rotation); the clip-level resize and flip stay.
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

clip_pipeline = [
    t for t in _base_.clip_pipeline
    if t not in (_base_.frame_crop_step, _base_.frame_jitter_step)
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
