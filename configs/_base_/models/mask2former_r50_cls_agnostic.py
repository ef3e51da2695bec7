# Class-agnostic image Mask2Former R50 (CutLER's image stage, the model that
# initialises VideoCutLER): the same backbone, pixel decoder (dropout 0.3 in
# its deformable encoder), 9-layer decoder, 100 queries, losses and matcher
# as the video model, with a 2-D head. Deriving it from the video base keeps
# the two architectures, hence the checkpoint keys, identical, and the
# image stage on the lineage of the shared schedule (mmengine takes one
# full mmdet config per lineage, so mmdet's mask2former coco config is
# not inherited as well; this head's settings are its values).
_base_ = './video_mask2former_r50.py'

model = dict(
    _delete_=True,
    type='Mask2Former',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=False),
    backbone=_base_.model.backbone,
    # the video head's settings, minus what is video-specific
    panoptic_head=dict(
        {
            k: v
            for k, v in _base_.model.track_head.items()
            if k not in ('type', 'num_classes', 'num_frames', 'train_cfg')
        },
        # mmdet's Mask2FormerHead matching in float32 with autocast off
        # (as upstream's matcher); DropLoss off by default
        type='CutLERMask2FormerHead',
        # float32 under AMP, as upstream
        pixel_decoder=dict(
            _base_.model.track_head.pixel_decoder,
            type='FP32MSDeformAttnPixelDecoder'),
        num_things_classes=_base_.num_classes,
        num_stuff_classes=0,
        positional_encoding=dict(num_feats=128, normalize=True)),
    panoptic_fusion_head=dict(
        type='MaskFormerFusionHead',
        num_things_classes=_base_.num_classes,
        num_stuff_classes=0,
        loss_panoptic=None,
        init_cfg=None),
    train_cfg=_base_.model.track_head.train_cfg,
    test_cfg=dict(
        panoptic_on=False,
        semantic_on=False,
        instance_on=True,
        max_per_image=100,
        iou_thr=0.8,
        filter_low_score=True),
    init_cfg=None)
