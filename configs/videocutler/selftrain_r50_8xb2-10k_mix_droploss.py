# Self-training round with DropLoss (CutLER's IoU threshold 0.01): queries
# whose mask overlaps no pseudo-mask are not pushed to "no object", so the
# model may keep objects its own pseudo-labels missed.
_base_ = './selftrain_r50_8xb2-10k_mix.py'

model = dict(track_head=dict(drop_loss_iou_thr=0.01))
