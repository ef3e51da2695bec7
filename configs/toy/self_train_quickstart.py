# Self-training round of the quickstart (tools/quickstart.py --self-train,
# tools/self_train.py): the quickstart's model fine-tuned on a mix of its
# ImageCut2Video clips (generated images + MaskCut pseudo-masks) and real
# clips of generated *unlabeled* training videos, pseudo-labelled by the
# model itself. Sizes as the quickstart's (short side 96/128); 500
# iterations per round (tools/quickstart.py --self-train sets --st-iters,
# 300 by default), lr 1e-4 (x0.1 for the last 20%).
_base_ = [
    './quickstart_videocutler.py', '../_base_/datasets/pseudo_video_clips.py'
]

load_from = None  # round 0: --checkpoint (the quickstart's model)

# the generated videos are 8-16 frames long: clips from a key frame +-4
pseudo_frame_range = 4
pseudo_frame_steps = [
    dict(t, scales=[(1333, 96), (1333, 128)])
    if t['type'] == 'RandomChoiceResize' else t
    for t in _base_.pseudo_frame_steps
]
# the base pipeline with these two values (a variable of a base is spelled
# out when the base is read, so redefining pseudo_frame_range alone is not
# enough)
pseudo_clip_pipeline = [
    dict(t, frame_range=pseudo_frame_range)
    if t['type'] == 'UniformClipSample' else
    dict(t, transforms=pseudo_frame_steps)
    if t['type'] == 'TransformBroadcaster' else t
    for t in _base_.pseudo_clip_pipeline
]
# every batch: one ImageCut2Video clip, one pseudo-labelled real clip
batch_size = 2
source_ratio = [1, 1]
train_dataloader = dict(
    _delete_=True,
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(
        type='MultiSourceSampler',
        batch_size=batch_size,
        source_ratio=source_ratio),
    batch_sampler=None,
    dataset=dict(
        type='ClipSourcesDataset',
        datasets=[
            _base_.train_dataloader.dataset,
            dict(_base_.pseudo_clips, pipeline=pseudo_clip_pipeline)
        ]))

# the quickstart's model tracks 8-16-frame videos in one window
self_training = dict(
    tracker=dict(window_size=16, window_overlap=4, short_side=112),
    filter=dict(score_thr=0.5, min_area=16, max_tracks=5))

max_iters = 500
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = dict(end=max_iters, milestones=[int(max_iters * 0.8)])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))

# real clips carry partial tracks: a (track, frame) without a pseudo-mask
# gets no mask loss (the head's switch; ImageCut2Video clips label their
# objects in every frame, so their loss is unchanged)
model = dict(track_head=dict(mask_loss_on_labelled_frames=True))

# a fixed seed: a round rerun after an interruption trains the same model
randomness = dict(seed=0)
