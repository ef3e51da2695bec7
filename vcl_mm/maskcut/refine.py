"""From patch masks to pixel masks: upsampling, dense CRF, resizing back.

The steps and numbers are upstream MaskCut's:

1. each patch mask is upsampled to the fixed input size by nearest
   interpolation and the earlier masks are subtracted (no overlaps);
2. a dense CRF (pydensecrf) on the fixed-size image: unary from the softmax
   of ``[1 - m, m]``, Gaussian pairwise ``sxy=3, compat=7``, bilateral
   ``sxy=50, srgb=5, compat=10``, 10 mean-field iterations, argmax, holes
   filled; the mask is dropped if its IoU with the upsampled mask is below
   0.5 (``crf.backend='torch'`` runs the same CRF in torch on the job's
   device, batched over images: :mod:`vcl_mm.maskcut.crf_torch`);
3. the mask is resized to the original image size (bicubic of a 0/255
   image, thresholded at half of its maximum).
"""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

from vcl_mm.datasets.api_wrappers.masks import mask_iou
from vcl_mm.utils import InputError

__all__ = [
    'CRF_DEFAULTS', 'CRF_BACKENDS', 'split_crf', 'upsample_patch_masks',
    'crf_refine',
    'dense_crf_batch', 'fill_holes', 'refine_masks', 'refine_masks_batch',
    'resize_mask'
]

#: 'pydensecrf': the reference (CPU, one mask at a time); 'torch': the
#: same CRF in torch on any device, batched (crf_torch.py)
CRF_BACKENDS = ('pydensecrf', 'torch')

#: upstream's CRF parameters: the one table of CRF defaults (the kernels,
#: crf_refine and crf_torch.dense_crf_torch, take them from here through
#: split_crf; the configs spell them out)
CRF_DEFAULTS = dict(
    backend='pydensecrf',
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


def crf_refine(image, mask, *, iterations, gaussian_sxy, gaussian_compat,
               bilateral_sxy, bilateral_srgb, bilateral_compat):
    """Dense-CRF refinement of one mask, holes filled.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        mask (np.ndarray): (H, W) bool.
        iterations, gaussian_*, bilateral_*: the CRF parameters
            (:data:`CRF_DEFAULTS`, e.g. ``**split_crf(crf)[2]``).

    Returns:
        np.ndarray: (H, W) bool.
    """
    try:
        import pydensecrf.densecrf as dcrf
        from pydensecrf.utils import unary_from_softmax
    except ImportError as err:
        raise InputError(
            f'maskcut.crf.backend=\'pydensecrf\' needs pydensecrf ({err}): '
            'pip install pydensecrf2, or set maskcut.crf.backend=\'torch\''
        ) from None
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


def split_crf(crf):
    """(backend, min_iou, CRF parameters) of a ``maskcut.crf`` dict, its
    missing keys from :data:`CRF_DEFAULTS`."""
    params = {**CRF_DEFAULTS, **crf}
    backend = params.pop('backend')
    if backend not in CRF_BACKENDS:
        raise InputError(f'maskcut.crf.backend={backend!r} is unknown; use '
                         f'one of {CRF_BACKENDS}')
    min_iou = params.pop('min_iou')
    return backend, min_iou, params


def fill_holes(labels, on_device=False):
    """Holes filled in each image's masks, as numpy arrays.

    Args:
        labels (list[torch.Tensor]): per image, (K_i, H_i, W_i) bool.
        on_device (bool): fill on the tensors' device
            (:func:`~vcl_mm.maskcut.crf_torch.fill_holes_torch`, all masks
            of one size at once) instead of ``scipy.ndimage`` on the CPU;
            the results are the same.

    Returns:
        list[list[np.ndarray]]: per image, K_i (H_i, W_i) bool masks.
    """
    if not on_device:
        return [[ndimage.binary_fill_holes(m) for m in lab.cpu().numpy()]
                for lab in labels]
    from .crf_torch import fill_holes_torch
    out = [None] * len(labels)
    by_shape = {}
    for i, lab in enumerate(labels):
        by_shape.setdefault(tuple(lab.shape[1:]), []).append(i)
    for idx in by_shape.values():
        filled = fill_holes_torch(torch.cat([labels[i] for i in idx]))
        parts, start = filled.cpu().numpy(), 0
        for i in idx:
            out[i] = list(parts[start:start + len(labels[i])])
            start += len(labels[i])
    return out


def dense_crf_batch(images, masks, crf=CRF_DEFAULTS, device='cpu'):
    """The dense CRF of many masks of many images, with the drop decision.

    Args:
        images (list[np.ndarray]): (H_i, W_i, 3) uint8 RGB images.
        masks (list[np.ndarray]): per image a (K_i, H_i, W_i) bool (or
            float foreground probability in [0, 1]) array; its unary is
            ``-log softmax([1 - m, m])``.
        crf (dict): ``backend`` (:data:`CRF_BACKENDS`), ``min_iou`` and
            the CRF parameters (see :data:`CRF_DEFAULTS`).
        device (str | torch.device): where the ``'torch'`` backend runs
            (pydensecrf always runs on the CPU).

    Returns:
        list[tuple[np.ndarray, np.ndarray]]: per image, the (K_i, H_i, W_i)
        bool refined masks (holes filled) and (K_i,) bool keep flags:
        False where the IoU of the refined mask with ``m > 0.5`` is below
        ``min_iou`` (upstream drops those; two empty masks are kept).
    """
    if len(images) != len(masks):
        raise InputError(f'{len(images)} images but {len(masks)} mask '
                         'stacks given to the CRF')
    backend, min_iou, params = split_crf(crf)
    masks = [np.asarray(m) for m in masks]
    for i, (img, m) in enumerate(zip(images, masks)):
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 \
                or m.ndim != 3 or m.shape[1:] != img.shape[:2]:
            raise InputError(
                f'CRF input {i}: image {img.shape} {img.dtype} and masks '
                f'{m.shape} do not fit; need (H, W, 3) uint8 and (K, H, W)')
    if backend == 'torch':
        from .crf_torch import dense_crf_torch
        labels = dense_crf_torch(images, masks, device=device, **params)
        # scipy is faster on the CPU; elsewhere the same on the device
        refined = fill_holes(labels, torch.device(device).type != 'cpu')
    else:
        refined = [[crf_refine(img, m, **params) for m in stack]
                   for img, stack in zip(images, masks)]
    refined = [
        np.stack(ref) if ref else np.zeros(stack.shape, bool)
        for ref, stack in zip(refined, masks)
    ]
    out = []
    for stack, ref in zip(masks, refined):
        given = stack > 0.5 if stack.dtype != bool else stack
        keep = np.array([
            not mask_iou(a, b, empty=float('nan')) < min_iou
            for a, b in zip(given, ref)
        ], bool)
        out.append((ref, keep))
    return out


def refine_masks_batch(images, patch_masks, crf=CRF_DEFAULTS, device='cpu'):
    """Pixel masks at the fixed size from MaskCut's patch masks, a batch.

    Args:
        images (list[np.ndarray]): (H, W, 3) uint8 images at the fixed
            size the features were computed at.
        patch_masks (list[list[np.ndarray]]): per image, (h, w) bool patch
            masks in discovery order.
        crf (dict | None): CRF parameters (see :data:`CRF_DEFAULTS`;
            ``min_iou`` drops masks the CRF changed too much); None skips
            the CRF.
        device (str | torch.device): device of the ``'torch'`` CRF.

    Returns:
        list[list[np.ndarray]]: per image, (H, W) bool non-empty masks in
        discovery order (disjoint before the CRF, which may make them
        overlap, as upstream's do).
    """
    ups = [
        upsample_patch_masks(m, img.shape[:2])
        for img, m in zip(images, patch_masks)
    ]
    if crf is None:
        return [[m for m in up if m.any()] for up in ups]
    out = []
    for refined, keep in dense_crf_batch(images, ups, crf, device):
        out.append([m for m, k in zip(refined, keep) if k and m.any()])
    return out


def refine_masks(image, patch_masks, crf=CRF_DEFAULTS, device='cpu'):
    """:func:`refine_masks_batch` of one image.

    Args:
        image (np.ndarray): (H, W, 3) uint8, the image at the fixed size
            the features were computed at.
        patch_masks (list[np.ndarray]): (h, w) bool patch masks in
            discovery order.
        crf (dict | None): CRF parameters; None skips the CRF.
        device (str | torch.device): device of the ``'torch'`` CRF.

    Returns:
        list[np.ndarray]: (H, W) bool non-empty masks in discovery order.
    """
    return refine_masks_batch([image], [patch_masks], crf, device)[0]


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
