# Fine-tuning on 10% of the YouTube-VIS 2019 training videos (Fig. 4), 2x
# schedule, initialised from videocutler. Subsets: tools/make_video_subsets.py.
_base_ = './_base_/semi_2x.py'

# every weight from VideoCutLER, a fresh 40-class classification layer (see
# the project README: tools/resize_class_head.py)
load_from = 'checkpoints/videocutler_r50_40cls.pth'
train_dataloader = dict(
    dataset=dict(ann_file='subsets/train_10pct_seed0.json'))
