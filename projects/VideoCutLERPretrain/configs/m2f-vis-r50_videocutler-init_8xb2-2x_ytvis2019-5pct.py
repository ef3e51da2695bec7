# Fine-tuning on 5% of the YouTube-VIS 2019 training videos (Fig. 4), 2x
# schedule, initialised from videocutler. Subsets: tools/make_video_subsets.py.
_base_ = './_base_/semi_2x.py'

load_from = _base_.videocutler_checkpoint
train_dataloader = dict(
    dataset=dict(ann_file='subsets/train_5pct_seed0.json'))
