# Fine-tuning on 5% of the YouTube-VIS 2019 training videos (Fig. 4), 2x
# schedule, initialised from dino. Subsets: tools/make_video_subsets.py.
_base_ = './_base_/semi_2x.py'

# baseline: backbone from DINO ResNet-50 (tools/model_converters/
# dino_resnet50_to_mmdet.py), the rest randomly initialised
load_from = None
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='CheckedPretrained',
            checkpoint='checkpoints/dino_resnet50_mmdet.pth')))
train_dataloader = dict(
    dataset=dict(ann_file='subsets/train_5pct_seed0.json'))
