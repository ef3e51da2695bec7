"""From patch masks to pixel masks: upsampling, dense CRF, resizing back.

The steps and numbers are upstream MaskCut's:

1. each patch mask is upsampled to the fixed input size by nearest
   interpolation and the earlier masks are subtracted (no overlaps);
2. a dense CRF (pydensecrf) on the fixed-size image: unary from the softmax
   of ``[1 - m, m]``, Gaussian pairwise ``sxy=3, compat=7``, bilateral
   ``sxy=50, srgb=5, compat=10``, 10 mean-field iterations, argmax, holes
   filled; the mask is dropped if its IoU with the upsampled mask is below
   0.5;
3. the mask is resized to the original image size (bicubic of a 0/255
   image, thresholded at half of its maximum).
"""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

from vcl_mm.datasets.api_wrappers.masks import mask_iou

__all__ = [
    'CRF_DEFAULTS', 'upsample_patch_masks', 'crf_refine', 'refine_masks',
    'resize_mask'
]

#: upstream's CRF parameters
CRF_DEFAULTS = dict(
    iterations=10,
    gaussian_sxy=3,
    gaussian_compat=7,
    bilateral_sxy=50,
    bilateral_srgb=5,
    bilateral_compat=10,
    min_iou=0.5)


def upsample_patch_masks(patch_masks, size):
    """Nearest upsampling, each mask minus the masks before it.

    Args:
        patch_masks (list[np.ndarray]): (h, w) bool masks in discovery
            order.
        size (tuple[int, int]): (H, W) output size in pixels.

    Returns:
        np.ndarray: (K, H, W) bool, pairwise disjoint (some may be empty).
    """
    if not len(patch_masks):
        return np.zeros((0, ) + tuple(size), bool)
    stack = torch.from_numpy(np.stack(patch_masks).astype(np.float32))
    up = F.interpolate(stack[None], size=tuple(size), mode='nearest')[0]
    up = up.numpy() > 0.5
    taken = np.zeros(up.shape[1:], bool)
    for m in up:
        m &= ~taken
        taken |= m
    return up


def crf_refine(image,
               mask,
               iterations=10,
               gaussian_sxy=3,
               gaussian_compat=7,
               bilateral_sxy=50,
               bilateral_srgb=5,
               bilateral_compat=10):
    """Dense-CRF refinement of one mask, holes filled.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        mask (np.ndarray): (H, W) bool.

    Returns:
        np.ndarray: (H, W) bool.
    """
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax
    h, w = mask.shape
    fg = mask.astype(np.float32)[None]
    logits = torch.from_numpy(np.concatenate([1 - fg, fg]))
    probs = F.softmax(logits, dim=0).numpy()
    crf = dcrf.DenseCRF2D(w, h, 2)
    crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(probs)))
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(
        sxy=bilateral_sxy,
        srgb=bilateral_srgb,
        rgbim=np.require(image, np.uint8, ['C', 'W']),  # needs a writable
        compat=bilateral_compat)
    q = np.array(crf.inference(iterations)).reshape(2, h, w)
    return ndimage.binary_fill_holes(np.argmax(q, axis=0) >= 0.5)


def refine_masks(image, patch_masks, crf=CRF_DEFAULTS):
    """Pixel masks at the fixed size from MaskCut's patch masks.

    Args:
        image (np.ndarray): (H, W, 3) uint8, the image at the fixed size
            the features were computed at.
        patch_masks (list[np.ndarray]): (h, w) bool patch masks in
            discovery order.
        crf (dict | None): CRF parameters (see :data:`CRF_DEFAULTS`;
            ``min_iou`` drops masks the CRF changed too much); None skips
            the CRF.

    Returns:
        list[np.ndarray]: (H, W) bool non-empty masks in discovery order
        (disjoint before the CRF, which may make them overlap, as
        upstream's do).
    """
    out = []
    for m in upsample_patch_masks(patch_masks, image.shape[:2]):
        if crf is not None:
            params = dict(crf)
            min_iou = params.pop('min_iou', 0.5)
            refined = crf_refine(image, m, **params)
            # upstream: IoU < 0.5 drops it (an empty pair gives NaN, kept)
            if mask_iou(m, refined, empty=float('nan')) < min_iou:
                continue
            m = refined
        if m.any():
            out.append(m)
    return out


def resize_mask(mask, width, height):
    """Resize a mask to the original image size as upstream does.

    Args:
        mask (np.ndarray): (H, W) bool.
        width (int): output width.
        height (int): output height.

    Returns:
        np.ndarray: (height, width) bool; bicubic resize of the 0/255
        image, pixels above half of its maximum (empty if the maximum is
        0).
    """
    img = Image.fromarray(mask.astype(np.uint8) * 255)
    arr = np.asarray(img.resize((width, height), Image.BICUBIC))
    top = int(arr.max())
    return arr > top / 2. if top > 0 else np.zeros((height, width), bool)
