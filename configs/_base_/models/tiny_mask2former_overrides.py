# Overrides that shrink the Mask2Former R50 of the recipes into the CPU smoke
# models of the tests (ResNet-18, 64 channels, 10 queries, 1 encoder and 3
# decoder layers). Smoke configs merge them:
#   model = dict(backbone=_base_.tiny_backbone, track_head=_base_.tiny_head)
tiny_feat = 64
# norm_cfg without a type: merged into the model's BN (a typed dict in a
# fragment inherited as vcl_mm:: gets mmengine's _scope_ key, which mmcv's
# norm builder would hand to BatchNorm)
tiny_backbone = dict(
    depth=18, norm_cfg=dict(requires_grad=True), norm_eval=False)
tiny_head = dict(
    in_channels=[64, 128, 256, 512],
    feat_channels=tiny_feat,
    out_channels=tiny_feat,
    num_queries=10,
    pixel_decoder=dict(
        encoder=dict(
            num_layers=1,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=tiny_feat),
                ffn_cfg=dict(
                    embed_dims=tiny_feat,
                    feedforward_channels=2 * tiny_feat))),
        positional_encoding=dict(num_feats=tiny_feat // 2)),
    positional_encoding=dict(num_feats=tiny_feat // 2),
    transformer_decoder=dict(
        num_layers=3,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=tiny_feat),
            cross_attn_cfg=dict(embed_dims=tiny_feat),
            ffn_cfg=dict(
                embed_dims=tiny_feat, feedforward_channels=2 * tiny_feat))))
