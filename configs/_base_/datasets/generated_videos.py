# Generated toy videos (vcl_mm.testing.toy_data.write_video_set) in mmdet's
# converted YouTube-VIS layout: <data_root>/JPEGImages/<video>/<frame>.jpg and
# <data_root>/ytvis_mmdet.json, written by tools/misc/generate_toy_data.py.
_base_ = '../models/video_mask2former_r50.py'

# ours, not mmdet's YouTubeVISDataset: the same data infos, with the
# COCO-video JSON checked on load (no frame silently becomes its own video)
dataset_type = 'YTVISDataset'
data_root = 'data/generated_videos/'
frame_scale = (1333, 120)

train_pipeline = [
    dict(
        type='UniformClipSample',
        num_frames='${num_frames}',
        frame_range=2,
        filter_key_img=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(
                type='LoadImageFromFile',
                color_type='color_ignore_orientation'),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(type='Resize', scale=frame_scale, keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackTrackInputs')
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(
                type='LoadImageFromFile',
                color_type='color_ignore_orientation'),
            dict(type='Resize', scale=frame_scale, keep_ratio=True),
            dict(type='LoadTrackAnnotations', with_mask=True),
        ]),
    dict(type='PackTrackInputs')
]
train_dataloader = dict(
    _delete_=True,  # replaces mmdet's YouTube-VIS data
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root='${data_root}',
        dataset_version='2019',
        ann_file='ytvis_mmdet.json',
        data_prefix=dict(img_path='JPEGImages'),
        metainfo=dict(classes=('object', )),
        pipeline=train_pipeline))
test_dataloader = dict(
    _delete_=True,  # replaces mmdet's YouTube-VIS data
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root='${data_root}',
        dataset_version='2019',
        ann_file='ytvis_mmdet.json',
        data_prefix=dict(img_path='JPEGImages'),
        metainfo=dict(classes=('object', )),
        test_mode=True,
        pipeline=test_pipeline))
val_dataloader = dict(test_dataloader)  # its own _delete_
