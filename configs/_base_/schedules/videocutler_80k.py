# Video stage schedule of VideoCutLER (official command line): AdamW lr 5e-6,
# weight decay 0.05 (0 on norms and embeddings), backbone lr x0.1, full-model
# grad-norm clip 0.01, 80k iterations with a step at 79,999 (constant lr),
# 16 clips per batch in total (auto_scale_lr rescales lr for other totals).
max_iters = 80000
embed_multi = dict(lr_mult=1.0, decay_mult=0.0)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-6, weight_decay=0.05, eps=1e-8,
        betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.1, decay_mult=1.0),
            'query_embed': embed_multi,
            'query_feat': embed_multi,
            'level_embed': embed_multi,
        },
        norm_decay_mult=0.0),
    clip_grad=dict(max_norm=0.01, norm_type=2))
param_scheduler = dict(
    type='MultiStepLR',
    begin=0,
    end=max_iters,
    by_epoch=False,
    milestones=[79999],
    gamma=0.1)
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
auto_scale_lr = dict(enable=False, base_batch_size=16)
