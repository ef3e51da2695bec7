# DAVIS-2017 unsupervised evaluation as in VideoCutLER: every frame of a
# sequence in one sample, short side 360 (long side <= 1333); the 20 best
# tracks are painted into one label map per frame (better tracks win
# overlaps) and scored at full resolution against Annotations_unsupervised
# (J, F, J&F; DAVISMetric). PackTrackInputs keeps each frame's ground-truth
# path for the metric. Data paths are config keys.
_base_ = './zero_shot_eval.py'

dataset_type = 'DAVISDataset'
data_root = 'data/DAVIS/'

test_pipeline = [
    {{_base_.test_frame_steps}},
    dict(type='PackTrackInputs', meta_keys=('seg_map_path', ))
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
        split='val',
        task='unsupervised',
        resolution='480p',
        # explicit annotation folder (relative to data_root), e.g. the
        # DAVIS-2017-Motion PNGs; None: Annotations_unsupervised/480p,
        # else Annotations/480p
        ann_dir=None,
        with_instances=False,
        test_mode=True,
        pipeline=test_pipeline))
# outfile_dir='work_dirs/x/davis_pngs' also writes the indexed PNGs
# (evaluable offline with tools/analysis_tools/eval_davis.py).
test_evaluator = dict(
    _delete_=True,
    type='DAVISMetric', max_proposals=20, bound_th=0.008, outfile_dir=None)
