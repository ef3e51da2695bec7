"""Helpers of the MaskCut tests: generated scenes, a colour extractor,
tiny configs."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from vcl_mm.maskcut.features import IMAGENET_MEAN, IMAGENET_STD
from vcl_mm.maskcut.registry import EXTRACTORS

COLOURS = np.array(
    [[200, 40, 40], [40, 180, 60], [50, 60, 210], [220, 200, 40]], np.uint8)
BACKGROUND = np.array([128, 128, 128], np.uint8)

#: random-weight ViT small enough for tests (32-d keys, 2 blocks)
TINY_VIT = dict(
    type='DinoViTKeyExtractor',
    arch=dict(embed_dims=32, num_layers=2, num_heads=2),
    patch_size=8,
    random_init=True)

#: MaskCut settings of the tests: 160 px -> a 20x20 grid (iterative
#: solver), official rules and CRF
MASKCUT = dict(fixed_size=160, tau=0.15, num_masks=3)


def colour_scene(rng, h, w, num_objects=2, noise=4):
    """Flat grey background with flat coloured rectangles / ellipses.

    Returns:
        tuple: (h, w, 3) uint8 image and (K, h, w) bool masks.
    """
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.broadcast_to(BACKGROUND, (h, w, 3)).astype(np.float32).copy()
    masks = []
    occupied = np.zeros((h, w), bool)
    for k in range(num_objects):
        for _ in range(50):
            ry, rx = rng.uniform(0.12, 0.25) * h, rng.uniform(0.12, 0.25) * w
            cy, cx = rng.uniform(ry + 2,
                                 h - ry - 2), rng.uniform(rx + 2, w - rx - 2)
            if k % 2:
                m = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1
            else:
                m = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
            grown = np.zeros_like(m)
            grown[max(0,
                      int(cy - ry) - 6):int(cy + ry) + 7,
                  max(0,
                      int(cx - rx) - 6):int(cx + rx) + 7] = True
            if not (grown & occupied).any():
                img[m] = COLOURS[k % len(COLOURS)]
                masks.append(m)
                occupied |= grown
                break
    img += rng.normal(scale=noise, size=img.shape)
    img = np.clip(img, 0, 255).round().astype(np.uint8)
    return img, np.array(masks, bool).reshape(-1, h, w)


def write_scenes(folder, sizes, seed=0, num_objects=2):
    """Write colour scenes as JPEGs (quality 95) named 000.jpg, ...

    Returns:
        dict: file name -> (K, h, w) ground-truth masks.
    """
    rng = np.random.default_rng(seed)
    gt = {}
    for i, (h, w) in enumerate(sizes):
        img, masks = colour_scene(rng, h, w, num_objects)
        name = f'{i:03d}.jpg'
        Image.fromarray(img).save(f'{folder}/{name}', quality=95)
        gt[name] = masks
    return gt


@EXTRACTORS.register_module(force=True)
class ColourBinExtractor(nn.Module):
    """Patch features that separate flat colours exactly: per patch, the
    fraction of its pixels in each of 4x4x4 colour bins (cosine similarity
    1 within a colour, 0 across colours).

    Args:
        patch_size (int): patch size in pixels.
    """

    def __init__(self, patch_size=8):
        super().__init__()
        self.patch_size = patch_size

    def forward(self, images):
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        rgb = (images * std + mean).clamp(0, 1)
        q = (rgb * 3.999).long()  # 4 levels per channel
        bins = q[:, 0] * 16 + q[:, 1] * 4 + q[:, 2]
        onehot = F.one_hot(bins, 64).permute(0, 3, 1, 2).float()
        return F.avg_pool2d(onehot, self.patch_size)


def best_iou(mask, gts):
    """Best IoU of ``mask`` with any of ``gts``."""
    ious = [(mask & g).sum() / max((mask | g).sum(), 1) for g in gts]
    return max(ious) if ious else 0.


COLOUR_MODEL_CFG = dict(type='ColourBinExtractor', patch_size=8)
