# The video recipe with DropLoss (CutLER / AutoQ-VIS; not in the paper):
# unmatched queries whose mask overlaps no pseudo-mask (video IoU <= 0.01)
# get no "no object" loss (vcl_mm/models/drop_loss.py).
_base_ = './videocutler_r50_8xb2-80k_imagenet.py'
model = dict(track_head=dict(drop_loss_iou_thr=0.01))
