# One round of self-training of the VideoCutLER R50 on the user's unlabeled
# videos (tools/self_train.py): fine-tune the previous round's
# model (round 0: --checkpoint, e.g. the converted official VideoCutLER) on
# a 1:1 mix of the recipe's ImageCut2Video clips of ImageNet and real
# 3-frame clips of the pseudo-labelled videos, every batch holding both
# (mmdet's MultiSourceSampler). Not part of the paper: our choices are the
# mix ratio, 10k iterations per round at the recipe's lr (5e-6, constant)
# and the quality filter (configs/_base_/datasets/pseudo_video_clips.py);
# DropLoss (drop_loss_iou_thr) is in the *_droploss variant.
_base_ = [
    './videocutler_r50_8xb2-80k_imagenet.py',
    '../_base_/datasets/pseudo_video_clips.py'
]

load_from = None  # round 0: --checkpoint; later rounds: the previous round

batch_size = 2  # per GPU; 8 GPUs as the recipe
source_ratio = [1, 1]  # ImageCut2Video : pseudo-labelled real clips
train_dataloader = dict(
    _delete_=True,
    batch_size=batch_size,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(
        type='MultiSourceSampler',
        batch_size=batch_size,
        source_ratio=source_ratio),
    batch_sampler=None,
    dataset=dict(
        type='ClipSourcesDataset',
        datasets=[_base_.train_dataloader.dataset, _base_.pseudo_clips]))

# real clips carry partial tracks: a (track, frame) without a pseudo-mask
# gets no mask loss (the head's switch; ImageCut2Video clips label their
# objects in every frame, so their loss is unchanged)
model = dict(track_head=dict(mask_loss_on_labelled_frames=True))

max_iters = 10000
param_scheduler = dict(end=max_iters, milestones=[max_iters - 1])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))

# a fixed seed: a round rerun after an interruption trains the same model
randomness = dict(seed=0)
