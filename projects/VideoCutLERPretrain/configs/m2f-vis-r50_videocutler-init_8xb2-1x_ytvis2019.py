# Fully supervised fine-tuning on YouTube-VIS 2019 (Table 5), 1x schedule,
# initialised from videocutler.
_base_ = './_base_/ytvis_finetune.py'

# every weight from VideoCutLER, a fresh 40-class classification layer (see
# the project README: tools/resize_class_head.py)
load_from = 'checkpoints/videocutler_r50_40cls.pth'
