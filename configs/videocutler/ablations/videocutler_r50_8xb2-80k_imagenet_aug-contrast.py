# Table 6c ablation "+contrast": the per-frame contrast jitter of the recipe
# alone (the other per-frame jitters off).
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

clip_pipeline = [
    dict(
        t,
        transforms=[
            dict(a, brightness=None) for a in t['transforms']
            if a['type'] == 'RandomBrightnessContrast'
        ]) if t['type'] == 'TransformBroadcaster' else t
    for t in _base_.clip_pipeline
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
