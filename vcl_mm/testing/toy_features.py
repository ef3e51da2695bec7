"""A weight-free patch feature extractor for the quickstart.

DINO weights cannot ship with vcl_mm (nor be downloaded at run time), yet the
quickstart must run the real MaskCut path (the same NCut, CRF and JSON
writer). :class:`PatchStatsExtractor` stands in for the DINO keys: per patch,
the mean and standard deviation of each colour channel and the means of its
2x2 sub-patches, standardised over the image's patches. On the generated
images (textured objects on textured backgrounds) patches of one object are
alike and unlike the background, which is what NCut needs; on natural images
it is no substitute for DINO (use ``configs/maskcut/maskcut_dino-vitb8_480.py``
with the real weights).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from vcl_mm.maskcut.registry import EXTRACTORS


@EXTRACTORS.register_module()
class PatchStatsExtractor(nn.Module):
    """Colour and texture statistics per patch.

    Args:
        patch_size (int): patch side in pixels (the feature stride).
        eps (float): added to standard deviations.

    Forward: (B, 3, H, W) normalised images -> (B, 18, H // p, W // p)
    float32 features, zero mean and unit variance over each image's patches.
    """

    def __init__(self, patch_size=8, eps=1e-6):
        super().__init__()
        if patch_size % 2:
            raise ValueError(f'patch_size must be even, got {patch_size}')
        self.patch_size = patch_size
        self.eps = eps

    @torch.no_grad()
    def forward(self, images):
        p = self.patch_size
        h, w = images.shape[-2] // p, images.shape[-1] // p
        x = images[..., :h * p, :w * p].float()
        mean = F.avg_pool2d(x, p)
        std = (F.avg_pool2d(x * x, p) - mean * mean).clamp(min=0).sqrt()
        sub = F.avg_pool2d(x, p // 2)  # (B, 3, 2h, 2w)
        b = x.shape[0]
        sub = sub.reshape(b, 3, h, 2, w, 2).permute(0, 1, 3, 5, 2, 4)
        sub = sub.reshape(b, 12, h, w)
        feats = torch.cat([mean, 2 * std, sub], dim=1)
        flat = feats.flatten(2)
        flat = (flat - flat.mean(-1, keepdim=True)) / (
            flat.std(-1, keepdim=True) + self.eps)
        return flat.reshape(b, -1, h, w)
