# The image stage with CutLER's DropLoss (IoU threshold 0.01, CutLER's
# droploss_iou_thresh; not used by VideoCutLER's image stage upstream):
# unmatched queries overlapping no pseudo-mask get no "no object" loss.
_base_ = './cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py'
model = dict(
    panoptic_head=dict(type='CutLERMask2FormerHead', drop_loss_iou_thr=0.01))
