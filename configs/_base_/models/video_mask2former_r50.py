# VideoMask2Former R50 as trained by VideoCutLER: mmdet's Mask2FormerVideo
# R50 (mmdet::mask2former_vis/mask2former_r50_8xb2-8e_youtubevis2019.py,
# inherited through the schedule) made class-agnostic (1 class), 100 queries
# shared by all frames, frozen BN, dropout 0.3 in the pixel decoder's
# deformable encoder only (the video decoder keeps dropout 0), no ImageNet
# or COCO initialisation (the recipes load the image stage).
_base_ = '../schedules/videocutler_80k.py'

num_classes = 1
# frames per training clip: the recipe variable behind the track head and
# every clip pipeline ('${num_frames}'); a child config sets num_frames = N
# and the whole recipe follows
num_frames = 3
model = dict(
    backbone=dict(init_cfg=None),
    track_head=dict(
        # mmdet's Mask2FormerTrackHead with the official mask-loss
        # normalisation (and a configurable test)
        type='VideoCutLERTrackHead',
        num_classes=num_classes,
        num_frames='${num_frames}',
        pixel_decoder=dict(
            encoder=dict(
                layer_cfg=dict(
                    self_attn_cfg=dict(dropout=0.3),
                    ffn_cfg=dict(ffn_drop=0.3)))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])),
    init_cfg=None)
