# Fully supervised fine-tuning on YouTube-VIS 2019 (Table 5), 1x schedule,
# initialised from videocutler.
_base_ = './_base_/ytvis_finetune.py'

load_from = _base_.videocutler_checkpoint
