# Zero-shot class-agnostic AP/AR of VideoCutLER on the YouTube-VIS 2019
# *train* split (the paper's protocol: the model never trains on it).
#   python tools/test.py configs/videocutler/eval_ytvis2019_train.py CKPT
# Layout: <data_root>/train.json (official) and <data_root>/train/JPEGImages.
_base_ = [
    '../_base_/models/video_mask2former_r50.py',
    '../_base_/datasets/ytvis_eval.py', '../_base_/default_runtime.py'
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

data_root = 'data/ytvis_2019/'
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='train.json',
        data_prefix=dict(img_path='train/JPEGImages')))
