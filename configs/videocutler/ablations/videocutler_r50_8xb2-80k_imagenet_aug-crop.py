# Table 6c ablation "+crop": the recipe's per-frame random crop (600-720 px,
# before the clip-level resize) alone: no per-frame brightness, contrast or
# rotation.
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

clip_pipeline = [
    t for t in _base_.clip_pipeline if t != _base_.frame_jitter_step
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
