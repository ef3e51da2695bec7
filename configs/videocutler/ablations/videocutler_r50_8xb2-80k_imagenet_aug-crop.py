# Table 6c ablation "+crop": no per-frame jitter; a clip-level random crop of
# 600-720 px (each side) before resizing, as the official code's crop (a
# no-op for images smaller than 600 px, i.e. most of ImageNet; the recipe
# leaves it out for that reason). Boxes are loaded so that the crop can
# drop masks that fall outside it.
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

clip_pipeline = sum(
    [[
        dict(t, with_bbox=True),
        dict(
            type='RandomCrop',
            crop_type='absolute_range',
            crop_size=(600, 720),
            recompute_bbox=True,
            allow_negative_crop=True)
    ] if t['type'] == 'LoadAnnotations' else [t]
     for t in _base_.clip_pipeline if t['type'] != 'TransformBroadcaster'], [])
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
