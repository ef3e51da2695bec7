# Fine-tuning on 30% of the YouTube-VIS 2019 training videos (Fig. 4), 2x
# schedule, initialised from dino. Subsets: tools/make_video_subsets.py.
_base_ = './_base_/semi_2x.py'

load_from = None  # DINO baseline: backbone only
model = dict(backbone=dict(init_cfg=_base_.dino_backbone_init))
train_dataloader = dict(
    dataset=dict(ann_file='subsets/train_30pct_seed0.json'))
