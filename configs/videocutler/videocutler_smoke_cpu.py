# Tiny CPU version of the video-stage recipe, used by the tests: the same
# pipeline (MaskCutDataset -> ImageToClip -> per-frame jitter ->
# ImageCut2Video) and model code with a ResNet-18, 64 channels and 10
# queries, on generated images whose true masks stand in for MaskCut
# pseudo-labels (vcl_mm.datasets.synthetic.write_image_set; set data_root).
_base_ = './videocutler_r50_8xb2-80k_imagenet.py'

load_from = None
data_root = 'data/generated_images/'
feat = 64

model = dict(
    backbone=dict(
        depth=18,
        norm_cfg=dict(type='BN', requires_grad=True),
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
                    ffn_cfg=dict(
                        embed_dims=feat, feedforward_channels=2 * feat))),
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

# small frames: short side 96 or 128
clip_pipeline = [
    dict(t, scales=[(1333, 96), (1333, 128)])
    if t['type'] == 'RandomChoiceResize' else t
    for t in _base_.clip_pipeline
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            ann_file='gt_masks.json',
            data_prefix=dict(img='images/'),
            pipeline=clip_pipeline)))

max_iters = 20
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-4))
param_scheduler = dict(end=max_iters, milestones=[max_iters - 1])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=max_iters))
