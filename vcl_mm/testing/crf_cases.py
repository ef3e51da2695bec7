"""Inputs of MaskCut's CRF as the pipeline makes them, for the parity tests
and ``benchmarks/crf_bench.py``.

A case is an image resized to MaskCut's fixed size (LANCZOS) and the
upsampled patch masks MaskCut hands to the CRF (:func:`upsample_patch_masks`
of :func:`maskcut_patch_masks_batch` on weight-free patch features,
:class:`~vcl_mm.testing.toy_features.PatchStatsExtractor`): the unaries are
MaskCut's own. Images come from ``../shared/data/davis2016-mini`` (real
frames) or :func:`~vcl_mm.testing.toy_data.render_image` (generated).
"""
import os.path as osp

import numpy as np
import torch
from PIL import Image

from vcl_mm.maskcut.features import images_to_tensor
from vcl_mm.maskcut.ncut import maskcut_patch_masks_batch
from vcl_mm.maskcut.refine import upsample_patch_masks
from vcl_mm.testing.toy_data import render_image
from vcl_mm.testing.toy_features import PatchStatsExtractor

__all__ = ['davis_frames', 'generated_images', 'crf_cases']

DAVIS_SEQUENCES = ('bear', 'rollerblade', 'soccerball')


def davis_frames(root, per_sequence=2, step=10):
    """Real frames of the shared DAVIS sequences.

    Args:
        root (str): the ``davis2016-mini`` folder.
        per_sequence (int): frames taken from each sequence.
        step (int): frame stride (0, step, 2 step, ...).

    Returns:
        list[np.ndarray]: (480, 854, 3) uint8 RGB frames.
    """
    frames = []
    for seq in DAVIS_SEQUENCES:
        for i in range(per_sequence):
            path = osp.join(root, 'JPEGImages', '480p', seq,
                            f'{i * step:05d}.jpg')
            if osp.isfile(path):
                frames.append(np.asarray(Image.open(path).convert('RGB')))
    return frames


def generated_images(num, size=(192, 256), seed=0, num_objects=2):
    """Generated scenes (textured objects on textured backgrounds).

    Returns:
        list[np.ndarray]: (H, W, 3) uint8 RGB images.
    """
    rng = np.random.default_rng(seed)
    return [render_image(rng, *size, num_objects)[0] for _ in range(num)]


def crf_cases(images, fixed_size=480, tau=0.15, num_masks=3, patch_size=8):
    """MaskCut's CRF inputs for each image.

    Args:
        images (list[np.ndarray]): (H, W, 3) uint8 RGB images.
        fixed_size (int): MaskCut's fixed input size.
        tau (float): NCut affinity threshold.
        num_masks (int): NCut solves per image.
        patch_size (int): feature stride of the toy extractor.

    Returns:
        list[tuple[np.ndarray, np.ndarray]]: per image, the (S, S, 3) uint8
        fixed-size image and its (K, S, S) bool upsampled masks (K may be
        0).
    """
    if not len(images):
        return []
    size = (fixed_size, fixed_size)
    fixed = np.stack([
        np.asarray(Image.fromarray(img).resize(size, Image.LANCZOS))
        for img in images
    ])
    with torch.no_grad():
        feats = PatchStatsExtractor(patch_size)(images_to_tensor(fixed))
    patch_masks = maskcut_patch_masks_batch(
        feats, tau=tau, num_masks=num_masks)
    return [(img, upsample_patch_masks(m, size))
            for img, m in zip(fixed, patch_masks)]
