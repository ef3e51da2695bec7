# YouTube-VIS zero-shot evaluation as in VideoCutLER: every frame of a video
# in one sample, short side 360 (long side <= 1333), the official JSON
# layout (mmdet's converted JSON also works), class-agnostic AP/AR with the
# official YTVOSeval semantics (ClassAgnosticYTVISMetric). Data paths are
# config keys; tools/test.py stops with one line naming a missing path.
dataset_type = 'YTVISDataset'
data_root = 'data/ytvis_2019/'
ytvis_ann_file = 'train.json'
ytvis_img_dir = 'train/JPEGImages'
backend_args = None

test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            # pixels as stored (no EXIF rotation), as MaskCut, training
            # and the demo read them
            dict(
                type='LoadImageFromFile',
                color_type='color_ignore_orientation',
                backend_args=backend_args),
            # detectron2's test resize: PIL bilinear (antialiased)
            dict(
                type='Resize',
                scale=(1333, 360),
                keep_ratio=True,
                backend='pillow',
                interpolation='bilinear'),
        ]),
    dict(type='PackTrackInputs')
]
test_dataloader = dict(
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
    type='ClassAgnosticYTVISMetric', class_agnostic=True, outfile_prefix=None)
# upstream tests under float16 autocast on GPUs (pixel decoder in float32);
# 'auto': float16 on CUDA, float32 on CPU
test_cfg = dict(type='DeviceAutocastTestLoop', fp16='auto')
