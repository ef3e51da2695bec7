# Fully supervised fine-tuning on YouTube-VIS 2021 (Table 5), 1x schedule,
# initialised from videocutler.
_base_ = './_base_/ytvis2021.py'

load_from = _base_.videocutler_checkpoint
