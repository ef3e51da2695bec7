# Table 6b ablation: 2-frame ImageCut2Video clips instead of 3 (the
# clips and the track head follow the recipe variable).
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

num_frames = 2
