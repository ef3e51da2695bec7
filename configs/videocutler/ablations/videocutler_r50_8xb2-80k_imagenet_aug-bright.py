# Table 6c ablation "+bright": the per-frame bright jitter of the recipe
# alone (no per-frame crop, the other per-frame jitters off).
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

frame_jitter_step = dict(
    _base_.frame_jitter_step,
    transforms=[
        dict(t, contrast=None)
        for t in _base_.frame_jitter_step['transforms']
        if t['type'] == 'RandomBrightnessContrast'
    ])
clip_pipeline = [
    frame_jitter_step if t == _base_.frame_jitter_step else t
    for t in _base_.clip_pipeline if t != _base_.frame_crop_step
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
