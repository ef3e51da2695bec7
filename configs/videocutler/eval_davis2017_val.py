# Zero-shot DAVIS-2017 unsupervised J&F of VideoCutLER on the val split
# (30 sequences, ground truth from Annotations_unsupervised/480p).
#   python tools/test.py configs/videocutler/eval_davis2017_val.py CKPT
_base_ = '../_base_/datasets/davis_eval.py'

data_root = 'data/DAVIS/'
test_dataloader = dict(dataset=dict(data_root=data_root, split='val'))
