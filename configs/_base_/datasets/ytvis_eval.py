# YouTube-VIS zero-shot evaluation as in VideoCutLER: every frame of a video
# in one sample, short side 360 (long side <= 1333), the official JSON
# layout (mmdet's converted JSON also works), class-agnostic AP/AR with the
# official YTVOSeval semantics (ClassAgnosticYTVISMetric). Data paths are
# config keys; tools/test.py stops with one line naming a missing path.
_base_ = './zero_shot_eval.py'

dataset_type = 'YTVISDataset'
data_root = 'data/ytvis_2019/'
ytvis_ann_file = 'train.json'
ytvis_img_dir = 'train/JPEGImages'

test_pipeline = [
    {{_base_.test_frame_steps}},
    dict(type='PackTrackInputs')
]
test_dataloader = dict(
    _delete_=True,  # replaces mmdet's YouTube-VIS data
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ytvis_ann_file,
        data_prefix=dict(img_path=ytvis_img_dir),
        class_agnostic=True,
        test_mode=True,
        pipeline=test_pipeline))
# outfile_prefix='work_dirs/x/results' also writes the official
# results.json and its submission zip.
test_evaluator = dict(
    _delete_=True,
    type='ClassAgnosticYTVISMetric', class_agnostic=True, outfile_prefix=None)
