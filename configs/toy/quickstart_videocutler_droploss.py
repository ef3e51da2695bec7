# The quickstart model with DropLoss (IoU threshold 0.01), to compare with
# quickstart_videocutler.py on the same generated data.
_base_ = './quickstart_videocutler.py'
model = dict(track_head=dict(drop_loss_iou_thr=0.01))
