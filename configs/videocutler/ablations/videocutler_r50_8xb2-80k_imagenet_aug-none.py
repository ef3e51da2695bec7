# Table 6c ablation "none": ImageCut2Video without the per-frame brightness,
# contrast and rotation jitter (clip-level resize and flip stay).
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

clip_pipeline = [
    t for t in _base_.clip_pipeline if t['type'] != 'TransformBroadcaster'
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
