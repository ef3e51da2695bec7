# Table 6c ablation "+bright": the per-frame bright jitter of the recipe
# alone (the other per-frame jitters off).
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

clip_pipeline = [
    dict(
        t,
        transforms=[
            dict(a, contrast=None) for a in t['transforms']
            if a['type'] == 'RandomBrightnessContrast'
        ]) if t['type'] == 'TransformBroadcaster' else t
    for t in _base_.clip_pipeline
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
