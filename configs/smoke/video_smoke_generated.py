# Tiny Mask2FormerVideo (ResNet-18, 64 channels, 10 queries) trained and tested
# on generated toy videos: the CPU smoke run behind the tests and the
# foundation's main job. Same code path as the real recipe, small numbers.
_base_ = [
    '../_base_/models/video_mask2former_r50.py',
    '../_base_/datasets/generated_videos.py',
    '../_base_/schedules/videocutler_80k.py', '../_base_/default_runtime.py'
]
feat = 64
model = dict(
    backbone=dict(depth=18, norm_cfg=dict(type='BN', requires_grad=True),
                  norm_eval=False),
    track_head=dict(
        in_channels=[64, 128, 256, 512],
        feat_channels=feat,
        out_channels=feat,
        num_queries=10,
        pixel_decoder=dict(
            encoder=dict(
                num_layers=1,
                layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=feat),
                    ffn_cfg=dict(embed_dims=feat,
                                 feedforward_channels=2 * feat))),
            positional_encoding=dict(num_feats=feat // 2)),
        positional_encoding=dict(num_feats=feat // 2),
        transformer_decoder=dict(
            num_layers=3,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=feat),
                cross_attn_cfg=dict(embed_dims=feat),
                ffn_cfg=dict(embed_dims=feat,
                             feedforward_channels=2 * feat))),
        train_cfg=dict(num_points=1024)))

max_iters = 20
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = dict(end=max_iters, milestones=[max_iters - 1])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_evaluator = dict(type='ClassAgnosticYTVISMetric')
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=max_iters))
