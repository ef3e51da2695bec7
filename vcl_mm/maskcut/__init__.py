"""MaskCut pseudo-labelling (imported lazily: training does not need it).

Needs only torch, torchvision, timm, numpy, scipy, pillow, pycocotools (and
pydensecrf for the CPU CRF): no mmcv, mmdet or mmengine.
``import vcl_mm.maskcut`` registers :class:`DinoViTKeyExtractor` with
:mod:`vcl_mm.maskcut.registry` (and in mmdet's ``MODELS`` when mmdet is
installed). The patch-level algorithm is :func:`maskcut_patch_masks`; the
whole job (images -> COCO JSON, sharded and resumable) is
:func:`run_maskcut`, driven by ``tools/maskcut.py``.
"""
from .coco_io import build_coco, decode_mask, encode_mask
from .eigensolver import fiedler_vectors
from .engine import run_maskcut, run_shard, run_shard_pipelined
from .features import DinoViTKeyExtractor, convert_dino_vit
from .images import SkipImage, list_images, load_image
from .ncut import (maskcut_patch_masks, maskcut_patch_masks_batch,
                   select_object)
from .parts import merge_parts
from .pipeline import MaskCutPipeline
from .refine import (crf_refine, dense_crf_batch, refine_masks,
                     refine_masks_batch, resize_mask)
from .registry import build_extractor, register_extractor

__all__ = [
    'maskcut_patch_masks', 'maskcut_patch_masks_batch', 'fiedler_vectors',
    'select_object', 'DinoViTKeyExtractor', 'convert_dino_vit', 'refine_masks',
    'refine_masks_batch', 'dense_crf_batch', 'crf_refine', 'resize_mask', 'encode_mask', 'decode_mask', 'build_coco',
    'list_images', 'load_image', 'SkipImage', 'MaskCutPipeline', 'run_shard',
    'run_shard_pipelined', 'merge_parts', 'run_maskcut', 'build_extractor',
    'register_extractor'
]
