"""MaskCut pseudo-labelling (imported lazily: training does not need it).

Needs the ``maskcut`` profile only (torch, torchvision, timm, mmengine,
numpy, scipy, pillow, pycocotools, and pydensecrf2 for the CPU CRF): no mmcv
or mmdet. ``import vcl_mm.maskcut`` registers :class:`DinoViTKeyExtractor`
in :data:`~vcl_mm.maskcut.registry.EXTRACTORS` (mmengine's registry).
The patch-level algorithm is :func:`maskcut_patch_masks`; the whole job
(images -> COCO JSON, sharded and resumable) is :func:`run_maskcut`, driven
by ``tools/maskcut.py``.
"""
from .coco_io import build_coco, decode_mask, encode_mask
from .eigensolver import fiedler_vectors
from .job import run_maskcut
from .features import DinoViTKeyExtractor, convert_dino_vit
from .images import SkipImage, list_images, load_image
from .ncut import (maskcut_patch_masks, maskcut_patch_masks_batch,
                   select_object)
from .parts import merge_parts
from .refine import (crf_refine, dense_crf_batch, refine_masks,
                     refine_masks_batch, resize_mask)
from .registry import EXTRACTORS, build_extractor
from .shard_pipelined import run_shard_pipelined
from .shard_serial import run_shard_serial
from .steps import MaskCutSteps

__all__ = [
    'maskcut_patch_masks', 'maskcut_patch_masks_batch', 'fiedler_vectors',
    'select_object', 'DinoViTKeyExtractor', 'convert_dino_vit', 'refine_masks',
    'refine_masks_batch', 'dense_crf_batch', 'crf_refine', 'resize_mask',
    'encode_mask', 'decode_mask', 'build_coco',
    'list_images', 'load_image', 'SkipImage', 'MaskCutSteps',
    'run_shard_serial',
    'run_shard_pipelined', 'merge_parts', 'run_maskcut', 'build_extractor',
    'EXTRACTORS'
]
