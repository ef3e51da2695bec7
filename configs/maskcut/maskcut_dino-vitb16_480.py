# MaskCut with DINO ViT-B/16 keys: 480x480 gives a 30x30 grid (4x fewer
# nodes, much faster NCut, coarser masks).
_base_ = './maskcut_dino-vitb8_480.py'

model = dict(patch_size=16, weights='checkpoints/dino_vitbase16_pretrain.pth')
