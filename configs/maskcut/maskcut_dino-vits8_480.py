# MaskCut with DINO ViT-S/8 keys (384-d), otherwise the official settings.
_base_ = './maskcut_dino-vitb8_480.py'

model = dict(arch='small', weights='checkpoints/dino_deitsmall8_pretrain.pth')
