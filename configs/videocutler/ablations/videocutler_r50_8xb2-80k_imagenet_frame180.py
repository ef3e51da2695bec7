# Table 6a ablation: training frames with short side 180 (single scale)
# instead of the recipe's {360, 480} (the paper's "360" column). Tested at
# short side 360 like every recipe.
_base_ = '../videocutler_r50_8xb2-80k_imagenet.py'

train_scales = [(1333, 180)]
