# The quickstart's model (tools/quickstart.py, README command 1): the video
# recipe scaled down for CPU, trained on ImageCut2Video clips made from
# generated still images and their MaskCut pseudo-masks, then tested
# zero-shot on generated videos with ground-truth tracks, scored with the
# class-agnostic YouTube-VIS metric and DAVIS J&F in one pass. Same code path
# as the real recipe; only sizes and iteration counts differ.
_base_ = ['./videocutler_smoke_cpu.py']

# MaskCut output of tools/maskcut.py on <data_root>/images
data_root = 'work_dirs/quickstart/data/images/'
pseudo_ann_file = 'pseudo_masks.json'
test_data_root = 'work_dirs/quickstart/data/test_videos/'

train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            ann_file=pseudo_ann_file)))

max_iters = 1500
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = dict(end=max_iters, milestones=[int(max_iters * 0.8)])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=max_iters))

# zero-shot test on generated videos (vcl_mm.testing.toy_data layout:
# JPEGImages/<video>/, Annotations/<video>/ indexed PNGs)
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(
                type='LoadImageFromFile',
                color_type='color_ignore_orientation'),
            dict(type='Resize', scale=(1333, 112), keep_ratio=True),
        ]),
    dict(type='PackTrackInputs', meta_keys=('seg_map_path', 'instances'))
]
test_dataloader = dict(
    _delete_=True,  # the training recipe has no test set
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type='DAVISDataset',
        data_root=test_data_root,
        split='val',
        task='unsupervised',
        resolution='',
        ann_dir='Annotations',
        with_instances=True,
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = [
    dict(type='ClassAgnosticYTVISMetric', class_agnostic=True),
    dict(type='DAVISMetric', max_proposals=20, outfile_dir=None)
]
test_cfg = dict(_delete_=True, type='TestLoop')
