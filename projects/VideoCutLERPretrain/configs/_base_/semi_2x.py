_base_ = './ytvis_finetune.py'

# Label-efficient fine-tuning (Fig. 4): 2x schedule, lr 1e-4 for all weights
# except the final classification layer at 16x (1.6e-3).
max_iters = 12000
cls_lr_mult = 16.0
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={'track_head.cls_embed': dict(lr_mult=cls_lr_mult)}))
param_scheduler = dict(end=max_iters, milestones=[8000])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
