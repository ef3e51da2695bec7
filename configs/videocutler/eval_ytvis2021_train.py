# Zero-shot class-agnostic AP/AR of VideoCutLER on the YouTube-VIS 2021
# *train* split.
#   python tools/test.py configs/videocutler/eval_ytvis2021_train.py CKPT
# Layout: <data_root>/train/instances.json (official) and
# <data_root>/train/JPEGImages.
_base_ = './eval_ytvis2019_train.py'

data_root = 'data/ytvis_2021/'
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        dataset_version='2021',
        ann_file='train/instances.json',
        data_prefix=dict(img_path='train/JPEGImages')))
