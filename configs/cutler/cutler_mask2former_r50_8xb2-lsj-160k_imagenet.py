# CutLER image stage behind VideoCutLER (paper sec. 4, "Unsupervised Image
# Model Pretraining"): class-agnostic Mask2Former R50 on MaskCut
# pseudo-masks of ImageNet, initialised from a self-supervised (DINO)
# ResNet-50; 160k iterations, 16 images per batch (8 GPUs x 2), AdamW lr
# 2e-5 decayed x0.1 at 80k (official YAML; the paper says x1/20), weight
# decay 0.05 (0 on norms and embeddings), backbone lr x0.1, grad-norm clip
# 0.01, AMP, large-scale jitter at 896 (0.1-2.0), CutLER's copy-paste of
# 0.3-1.0 scaled objects, dropout 0.3 in the pixel decoder encoder. Upstream
# never released a runnable recipe. Its last checkpoint initialises
# configs/videocutler/ (load_from there). Fidelity table:
# configs/cutler/README.md.
# Lineage: mmdet's VideoMask2Former R50 recipe -> the video stage's
# schedule (same optimiser; lr and length set below) -> the video model ->
# its image twin (_base_/models/mask2former_r50_cls_agnostic.py) -> the LSJ
# copy-paste data (_base_/datasets/) -> this file.
_base_ = '../_base_/datasets/maskcut_lsj_copypaste.py'

model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(
            type='BatchFixedSizePad',
            size='${image_size}',
            img_pad_value=0,
            pad_mask=True,
            mask_pad_value=0,
            pad_seg=False)
    ]),
    backbone=dict(
        # DINO ResNet-50 in mmdet names, made by
        # tools/model_converters/dino_resnet50_to_mmdet.py
        init_cfg=dict(
            _delete_=True,
            type='CheckedPretrained',
            checkpoint='checkpoints/dino_resnet50_mmdet.pth',
            config_key='model.backbone.init_cfg.checkpoint',
            hint='convert the DINO ResNet-50 weights with tools/'
            'model_converters/dino_resnet50_to_mmdet.py')))

max_iters = 160000
optim_wrapper = dict(type='DeviceAmpOptimWrapper', optimizer=dict(lr=2e-5))
# Sources: max_iters, milestones, lr: videocutler/configs/imagenet/
# instance-segmentation/mask2former_R50_imagenet.yaml (SOLVER.MAX_ITER,
# STEPS, BASE_LR); gamma: detectron2's default SOLVER.GAMMA = 0.1 (the YAML
# sets none). The paper's text says "decayed by 20x" (gamma=0.05); the code
# behind its numbers used 0.1, which we follow. For the paper's value:
# --cfg-options param_scheduler.gamma=0.05
param_scheduler = dict(end=max_iters, milestones=[80000], gamma=0.1)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)

default_hooks = dict(visualization=dict(type='DetVisualizationHook'))
visualizer = dict(type='DetLocalVisualizer')

# the image stage is evaluated through the video stage
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
test_pipeline = None  # mmdet's YouTube-VIS test input
