# CPU smoke variant of the fine-tuning recipe (used by the tests): the tiny
# model of vcl_mm's smoke configs with a 40-class head, fine-tuned a few
# iterations on generated videos in the official YouTube-VIS layout
# (vcl_mm.testing.toy_data.write_video_set); load_from is set by the test
# to a checkpoint re-sized with tools/resize_class_head.py.
_base_ = [
    './_base_/ytvis_finetune.py',
    'vcl_mm::_base_/models/tiny_mask2former_overrides.py'
]

data_root = 'data/generated_videos/'
# the generated videos' one category, plus 39 more so the head has 40 classes
smoke_classes = ('object', ) + tuple(f'class{i}' for i in range(2, 41))
model = dict(
    backbone=_base_.tiny_backbone,
    track_head=dict(_base_.tiny_head, train_cfg=dict(num_points=1024)))
# small frames (short side 96) for CPU
train_pipeline = [
    dict(t, transforms=[
        dict(x, scales=[(1333, 96)]) if x['type'] == 'RandomChoiceResize'
        else x for x in t['transforms']
    ]) if t['type'] == 'TransformBroadcaster' else t
    for t in _base_.train_pipeline
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='ytvis_official.json',
        data_prefix=dict(img_path='JPEGImages'),
        metainfo=dict(classes=smoke_classes),
        pipeline=train_pipeline))
test_dataloader = dict(
    num_workers=0,
    dataset=dict(
        data_root=data_root,
        ann_file='ytvis_official.json',
        data_prefix=dict(img_path='JPEGImages'),
        metainfo=dict(classes=smoke_classes)))
max_iters = 3
optim_wrapper = dict(type='OptimWrapper')
param_scheduler = dict(end=max_iters, milestones=[max_iters - 1])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=max_iters))
