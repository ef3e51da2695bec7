# Table 6b ablation: 2-frame ImageCut2Video clips instead of 3. The clips
# and the track head must agree on the number of frames.
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

num_frames = 2
clip_pipeline = [
    dict(t, num_frames=num_frames) if t == _base_.to_clip else t
    for t in _base_.clip_pipeline
]
model = dict(track_head=dict(num_frames=num_frames))
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
