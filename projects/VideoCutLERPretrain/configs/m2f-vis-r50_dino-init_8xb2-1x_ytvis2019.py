# Fully supervised fine-tuning on YouTube-VIS 2019 (Table 5), 1x schedule,
# initialised from dino.
_base_ = './_base_/ytvis_finetune.py'

load_from = None  # DINO baseline: backbone only
model = dict(backbone=dict(init_cfg=_base_.dino_backbone_init))
