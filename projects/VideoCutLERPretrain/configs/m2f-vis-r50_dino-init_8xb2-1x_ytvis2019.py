# Fully supervised fine-tuning on YouTube-VIS 2019 (Table 5), 1x schedule,
# initialised from dino.
_base_ = './_base_/ytvis_finetune.py'

# baseline: backbone from DINO ResNet-50 (tools/model_converters/
# dino_resnet50_to_mmdet.py), the rest randomly initialised
load_from = None
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='CheckedPretrained',
            checkpoint='checkpoints/dino_resnet50_mmdet.pth')))
