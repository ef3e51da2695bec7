"""DINO ViT attention keys, the patch features MaskCut cuts.

:class:`DinoViTKeyExtractor` wraps timm's ``VisionTransformer`` (whose
parameter names are the official DINO checkpoints' names) and returns the
keys of the last block's attention: the output of ``blocks[-1].attn.qkv``
reshaped to (3, heads, tokens, head_dim), the keys of all heads
concatenated, the CLS token dropped. It runs the blocks up to that linear
layer and stops (the last block's attention and MLP do not change the
keys), which gives the same numbers as hooking ``blocks[-1].attn.qkv`` in a
full forward pass (checked by the tests). Position embeddings are resized
the way DINO does (bicubic with DINO's ``+0.1`` scale offset), so a 480x480
input gives a 60x60 grid with ViT-B/8.

``feature`` chooses the last block's keys (``'k'``, official), queries
(``'q'``), values (``'v'``) or their concatenation ``[k, q, v]`` along the
channels (``'kqv'``, upstream's ``--vit-feat``; upstream issues #25, #49).
``autocast_dtype`` runs the ViT under ``torch.autocast`` in bfloat16 or
float16 (default None: float32, as upstream; the output is float32 either
way; ``benchmarks/maskcut_precision_bench.py`` measures the masks'
agreement with float32).
"""
import math
import os.path as osp
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vcl_mm.utils import InputError
from vcl_mm.utils.state_dict import (check_fits, read_state_dict,
                                     strip_prefixes)

from .registry import EXTRACTORS

__all__ = [
    'DinoViTKeyExtractor', 'VIT_ARCHS', 'VIT_FEATURES', 'AUTOCAST_DTYPES',
    'IMAGENET_MEAN', 'IMAGENET_STD', 'convert_dino_vit', 'images_to_tensor'
]

#: name -> (embed_dims, num_layers, num_heads)
VIT_ARCHS = {
    'small': (384, 12, 6),
    'base': (768, 12, 12),
}
#: feature name -> parts of the last block's qkv (0 q, 1 k, 2 v), in
#: channel order
VIT_FEATURES = dict(k=(1, ), q=(0, ), v=(2, ), kqv=(1, 0, 2))
#: autocast_dtype name -> torch dtype
AUTOCAST_DTYPES = dict(bfloat16=torch.bfloat16, float16=torch.float16)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def images_to_tensor(images, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """ToTensor + Normalize as torchvision does it.

    Args:
        images (np.ndarray): (B, H, W, 3) uint8 RGB.

    Returns:
        torch.Tensor: (B, 3, H, W) float32.
    """
    x = torch.from_numpy(np.require(images, np.uint8, ['C', 'W']))
    x = x.permute(0, 3, 1, 2)
    x = x.float().div(255)
    mean = torch.tensor(mean).view(1, 3, 1, 1)
    std = torch.tensor(std).view(1, 3, 1, 1)
    return (x - mean) / std


def convert_dino_vit(state):
    """DINO ViT weights -> the extractor's ViT (timm names, which are
    DINO's own).

    Backbone-only release files (``dino_vitbase8_pretrain.pth``) pass
    unchanged. Full training checkpoints (the ``teacher`` entry, read by
    :func:`~vcl_mm.utils.state_dict.read_state_dict`) and wrapped ones lose
    their ``module.`` / ``backbone.`` prefixes; keys outside the backbone
    are dropped by name.

    Args:
        state (dict[str, torch.Tensor]): flat checkpoint weights.

    Returns:
        tuple: converted state dict and ``{dropped key: reason}``.
    """
    state = strip_prefixes(state, ('module.', ))
    dropped = {}
    if any(k.startswith('backbone.') for k in state):
        for k in state:
            if not k.startswith('backbone.'):
                dropped[k] = ('DINO projection head' if k.startswith('head.')
                              else 'outside the backbone')
        state = {k: v for k, v in state.items() if k.startswith('backbone.')}
        state = strip_prefixes(state, ('backbone.', ))
    for k in [k for k in state if k.startswith('head.')]:
        dropped[k] = 'DINO projection head'
        del state[k]
    return state, dropped


@EXTRACTORS.register_module()
class DinoViTKeyExtractor(nn.Module):
    """Last-block attention keys of a DINO ViT.

    Args:
        arch (str | dict): ``'small'`` or ``'base'``, or a dict with
            ``embed_dims``, ``num_layers`` and ``num_heads``.
        patch_size (int): 8 or 16 for the released DINO models.
        weights (str, optional): local checkpoint file (the official
            ``dino_vitbase8_pretrain.pth`` format, or the output of
            ``tools/model_converters/dino_vit_to_maskcut.py``).
        random_init (bool): use seeded random weights instead of
            ``weights`` (testing only: the masks are meaningless).
        pretrain_img_size (int): image size of the checkpoint's position
            embeddings (224 for DINO).
        seed (int): seed of the random weights.
        feature (str): ``'k'`` (keys, official), ``'q'``, ``'v'`` or
            ``'kqv'`` (the three concatenated: 3x the channels).
        autocast_dtype (str, optional): ``'bfloat16'`` or ``'float16'``
            runs the ViT under ``torch.autocast`` on the input's device;
            None (default) runs it in float32.
    """

    def __init__(self,
                 arch='base',
                 patch_size=8,
                 weights=None,
                 random_init=False,
                 pretrain_img_size=224,
                 seed=0,
                 feature='k',
                 autocast_dtype=None):
        super().__init__()
        if feature not in VIT_FEATURES:
            raise InputError(f'model.feature={feature!r} is unknown; use '
                             f'one of {sorted(VIT_FEATURES)}')
        if autocast_dtype is not None and \
                autocast_dtype not in AUTOCAST_DTYPES:
            raise InputError(
                f'model.autocast_dtype={autocast_dtype!r} is unknown; use '
                f'None (float32) or one of {sorted(AUTOCAST_DTYPES)}')
        self.feature = feature
        self.autocast_dtype = autocast_dtype
        from timm.models.vision_transformer import VisionTransformer
        if isinstance(arch, str):
            if arch not in VIT_ARCHS:
                raise InputError(f'unknown ViT arch {arch!r}; use one of '
                                 f'{sorted(VIT_ARCHS)} or a dict')
            dims, layers, heads = VIT_ARCHS[arch]
        else:
            dims, layers, heads = (arch['embed_dims'], arch['num_layers'],
                                   arch['num_heads'])
        if not random_init and not weights:
            raise InputError('no DINO weights given: set model.weights in '
                             'the config or pass --weights PATH (or '
                             '--cfg-options model.random_init=True, for '
                             'testing only)')
        if not random_init:
            weights = osp.expanduser(weights)
            if not osp.isfile(weights):
                raise InputError(
                    f'DINO weights not found: {weights} (download the DINO '
                    f'release file, e.g. dino_vitbase8_pretrain.pth, and '
                    f'put it there, or pass --weights PATH)')
        self.patch_size = patch_size
        self.num_heads = heads
        self.embed_dims = dims
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.vit = VisionTransformer(
                img_size=pretrain_img_size,
                patch_size=patch_size,
                embed_dim=dims,
                depth=layers,
                num_heads=heads,
                mlp_ratio=4.,
                qkv_bias=True,
                num_classes=0,
                weight_init='' if random_init else 'skip')
        if not random_init:
            self.load_weights(weights)
        self.eval()
        self.requires_grad_(False)

    def load_weights(self, path):
        """Load a DINO checkpoint strictly; an error names the keys that
        do not fit."""
        state, _ = convert_dino_vit(read_state_dict(path))
        try:
            check_fits(state, self.vit, what='ViT')
        except InputError as err:
            raise InputError(
                f'{path} does not fit ViT(embed_dims={self.embed_dims}, '
                f'patch_size={self.patch_size}): {err} (check model.arch / '
                'patch_size, or convert the file with tools/'
                'model_converters/dino_vit_to_maskcut.py)') from None

    def position_embedding(self, h, w):
        """Position embeddings for an (h, w) patch grid, resized like DINO.

        Returns:
            torch.Tensor: (1, 1 + h * w, C).
        """
        pos = self.vit.pos_embed
        n = pos.shape[1] - 1
        if n == h * w and h == w:
            return pos
        side = int(math.sqrt(n))
        grid = pos[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(
            grid,
            scale_factor=((h + 0.1) / side, (w + 0.1) / side),
            mode='bicubic')
        assert grid.shape[-2:] == (h, w), grid.shape
        grid = grid.permute(0, 2, 3, 1).reshape(1, h * w, -1)
        return torch.cat([pos[:, :1], grid], dim=1)

    @torch.no_grad()
    def forward(self, images):
        """Last-block attention features (keys by default).

        Args:
            images (torch.Tensor): (B, 3, H, W) normalised images (see
                :func:`images_to_tensor`).

        Returns:
            torch.Tensor: (B, C, H // p, W // p) float32 features, C the
            embed dims (heads concatenated; 3x for ``'kqv'``), p the patch
            size.
        """
        if self.autocast_dtype is None:
            context = nullcontext()
        else:
            context = torch.autocast(
                images.device.type, dtype=AUTOCAST_DTYPES[self.autocast_dtype])
        with context:
            qkv, (b, c, h, w) = self._last_qkv(images)
        qkv = qkv.reshape(b, 1 + h * w, 3, self.num_heads,
                          c // self.num_heads)[:, 1:]
        parts = [
            qkv[:, :, i].reshape(b, h, w, c)
            for i in VIT_FEATURES[self.feature]
        ]
        feats = parts[0] if len(parts) == 1 else torch.cat(parts, -1)
        return feats.permute(0, 3, 1, 2).float()

    def _last_qkv(self, images):
        """The last block's qkv projection (B, 1 + h * w, 3 C) and the
        patch grid's (B, C, h, w)."""
        vit = self.vit
        x = vit.patch_embed.proj(images)
        b, c, h, w = x.shape
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([vit.cls_token.expand(b, -1, -1), x], dim=1)
        x = x + self.position_embedding(h, w)
        for block in vit.blocks[:-1]:
            x = block(x)
        last = vit.blocks[-1]
        return last.attn.qkv(last.norm1(x)), (b, c, h, w)
