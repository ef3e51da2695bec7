# VideoCutLER video stage (paper sec. 4, official command line): Video
# Mask2Former R50, 100 queries, 1 class, trained on 3-frame ImageCut2Video
# clips of ImageNet with MaskCut pseudo-masks; short side {360, 480}; AdamW
# lr 5e-6, wd 0.05 (0 on norms/embeddings), backbone lr x0.1, grad-norm clip
# 0.01, 80k iterations, 16 clips per batch (8 GPUs x 2), AMP, dropout 0.3 in
# the pixel decoder encoder only; initialised from the image stage
# (configs/cutler/, or a converted CutLER checkpoint). Other GPU counts:
# tools/train.py --auto-scale-lr rescales lr linearly to the total batch
# (auto_scale_lr.base_batch_size = 16).
# Lineage: mmdet's VideoMask2Former R50 recipe -> the 80k schedule
# (_base_/schedules/) -> the class-agnostic video model and its official
# test, shared with eval_*.py (_base_/models/: whole video in one forward,
# top-10 queries, no score threshold, masks at logit 0;
# test_cfg.window_size=N runs N-frame windows linked into tracks for long
# videos) -> ImageCut2Video clips (_base_/datasets/) -> this file.
_base_ = '../_base_/datasets/imagecut2video.py'

# image-stage checkpoint: the last checkpoint of
# configs/cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py, or
# tools/model_converters/cutler_m2f_d2_to_mmdet.py output. mmdet renames its
# panoptic_head.* keys to track_head.* when loading.
load_from = 'checkpoints/cutler_mask2former_r50_imagenet.pth'

optim_wrapper = dict(type='DeviceAmpOptimWrapper')

# Evaluation (zero-shot on YouTube-VIS / DAVIS) lives in the eval configs;
# training does not validate, as upstream.
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
test_pipeline = None  # mmdet's YouTube-VIS test input
