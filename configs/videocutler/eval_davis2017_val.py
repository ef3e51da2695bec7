# Zero-shot DAVIS-2017 unsupervised J&F of VideoCutLER on the val split
# (30 sequences, ground truth from Annotations_unsupervised/480p).
#   python tools/test.py configs/videocutler/eval_davis2017_val.py CKPT
_base_ = [
    '../_base_/models/video_mask2former_r50.py',
    '../_base_/datasets/davis_eval.py', '../_base_/default_runtime.py'
]

# the VideoCutLER model with the official test: whole video in one forward,
# top-10 queries, no score threshold, masks at logit 0
model = dict(
    type='VideoCutLER',
    track_head=dict(type='VideoCutLERTrackHead'),
    test_cfg=dict(
        topk=10,
        score_thr=None,
        mask_thr=0.,
        window_size=None,
        window_overlap=4,
        frame_chunk=None))

data_root = 'data/DAVIS/'
test_dataloader = dict(dataset=dict(data_root=data_root, split='val'))
