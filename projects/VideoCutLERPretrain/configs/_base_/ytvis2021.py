_base_ = './ytvis_finetune.py'

# YouTube-VIS 2021: its classes and data; the 1x schedule of upstream's
# VideoMask2Former R50 for 2021 (8k iterations, lr x0.1 at 5.5k).
dataset_version = '2021'
data_root = 'data/youtube_vis_2021/'
max_iters = 8000
train_dataloader = dict(
    dataset=dict(dataset_version=dataset_version, data_root=data_root))
test_dataloader = dict(
    dataset=dict(dataset_version=dataset_version, data_root=data_root))
param_scheduler = dict(end=max_iters, milestones=[5500])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
