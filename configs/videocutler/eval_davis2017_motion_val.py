# Zero-shot J&F of VideoCutLER on DAVIS-2017-Motion (val): the DAVIS-2017
# val videos re-annotated so that objects moving together are one object,
# evaluated with the unsupervised protocol.
#   python tools/test.py configs/videocutler/eval_davis2017_motion_val.py CKPT
# Frames and ImageSets from the DAVIS-2017 root; ``motion_ann_dir`` is the
# folder of the re-annotated PNGs (<seq>/<frame>.png), relative to
# data_root or absolute.
_base_ = './eval_davis2017_val.py'

data_root = 'data/DAVIS/'
motion_ann_dir = 'Annotations_motion/480p'
test_dataloader = dict(
    dataset=dict(data_root=data_root, ann_dir=motion_ann_dir))
