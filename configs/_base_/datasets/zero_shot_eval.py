# Test-only configs (the zero-shot evaluations): the official test input
# without the training and validation parts that the lineage brings
# (mmdet's YouTube-VIS train/val data, the schedule); mmengine's runner
# wants each of those groups all set or all None.
_base_ = './video_test.py'

train_pipeline = None
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
val_dataloader = None
val_evaluator = None
val_cfg = None
