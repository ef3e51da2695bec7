# Table 6a ablation: training frames with short side 480 (single scale)
# instead of the recipe's {360, 480} (the paper's "360" column). Tested at
# short side 360 like every recipe.
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

clip_level_step = dict(
    _base_.clip_level_step,
    transforms=[
        dict(
            type='RandomChoiceResize',
            scales=[(1333, 480)],
            keep_ratio=True,
            resize_type='D2Resize'),
        _base_.clip_flip
    ])
clip_pipeline = [
    clip_level_step if t == _base_.clip_level_step else t
    for t in _base_.clip_pipeline
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
