# Zero-shot class-agnostic AP/AR of VideoCutLER on the YouTube-VIS 2019
# *train* split (the paper's protocol: the model never trains on it).
#   python tools/test.py configs/videocutler/eval_ytvis2019_train.py CKPT
# Layout: <data_root>/train.json (official) and <data_root>/train/JPEGImages.
_base_ = '../_base_/datasets/ytvis_eval.py'

data_root = 'data/ytvis_2019/'
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='train.json',
        data_prefix=dict(img_path='train/JPEGImages')))
