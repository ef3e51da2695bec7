"""Per-frame photometric and geometric jitter of ImageCut2Video clips.

Both transforms work on one frame (``img`` (H, W, 3) uint8, ``gt_masks``
:class:`~mmdet.structures.mask.BitmapMasks`); wrap them in mmcv's
``TransformBroadcaster`` with ``share_random_params=False`` to give every
frame of a clip its own draw (or ``True`` to share one draw per clip, since
their random draws are ``cache_randomness`` methods).

Semantics follow detectron2's ``RandomBrightness``, ``RandomContrast`` and
``RandomRotation(expand=False, center=...)`` used by the official code.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from vcl_mm.registry import TRANSFORMS
from mmdet.structures.bbox import BaseBoxes, HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from vcl_mm.datasets.api_wrappers.masks import mask_boxes
from .mask_ops import MASK_INTERPOLATIONS, warp_masks

INTERPOLATIONS = dict(
    nearest=cv2.INTER_NEAREST,
    bilinear=cv2.INTER_LINEAR,
    bicubic=cv2.INTER_CUBIC)


def _check_range(name, value, allow_none=True):
    if value is None and allow_none:
        return None
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f'{name} must be (low, high), got {value}')
    return tuple(float(v) for v in value)


def _check_interpolation(name: str) -> str:
    if name not in INTERPOLATIONS:
        raise ValueError(f'interpolation must be one of '
                         f'{list(INTERPOLATIONS)}, got {name}')
    return name


def _check_mask_interpolation(name: str) -> str:
    if name not in MASK_INTERPOLATIONS:
        raise ValueError(f'mask_interpolation must be one of '
                         f'{MASK_INTERPOLATIONS}, got {name!r}')
    return name


def _check_prob(prob: float) -> float:
    if not 0 <= prob <= 1:
        raise ValueError(f'prob must be in [0, 1], got {prob}')
    return float(prob)


def update_boxes_from_masks(results: dict) -> None:
    """Recompute ``gt_bboxes`` from ``gt_masks`` in place, keeping the box
    container type (numpy (N, 4) float32 or mmdet ``HorizontalBoxes``)."""
    if 'gt_bboxes' not in results or 'gt_masks' not in results:
        return
    boxes = mask_boxes(results['gt_masks'].masks)
    if isinstance(results['gt_bboxes'], BaseBoxes):
        boxes = HorizontalBoxes(boxes)
    results['gt_bboxes'] = boxes


@TRANSFORMS.register_module()
class RandomBrightnessContrast(BaseTransform):
    """Brightness then contrast jitter of one image (masks untouched).

    brightness ``b ~ U(brightness)``: ``img <- clip(b * img)``;
    contrast ``c ~ U(contrast)``: ``img <- clip(mean + c * (img - mean))``
    with ``mean`` the mean over all pixels and channels (detectron2). Applied
    through 256-entry look-up tables, so the cost is one pass per op.

    Required keys: ``img`` (H, W, C) uint8. Modified keys: ``img``.

    Args:
        brightness (tuple[float, float] | None): factor range; None skips.
        contrast (tuple[float, float] | None): factor range; None skips.
    """

    def __init__(
        self,
        brightness: Optional[Sequence[float]] = (0.9, 1.1),
        contrast: Optional[Sequence[float]] = (0.9, 1.1)
    ) -> None:
        self.brightness = _check_range('brightness', brightness)
        self.contrast = _check_range('contrast', contrast)

    @cache_randomness
    def _sample(self) -> Tuple[float, float]:
        b = np.random.uniform(*self.brightness) if self.brightness else 1.
        c = np.random.uniform(*self.contrast) if self.contrast else 1.
        return b, c

    def transform(self, results: dict) -> dict:
        b, c = self._sample()
        img = results['img']
        assert img.dtype == np.uint8, 'RandomBrightnessContrast needs uint8'
        levels = np.arange(256, dtype=np.float32)
        if self.brightness:
            lut = np.clip(levels * b, 0, 255).astype(np.uint8)
            img = cv2.LUT(img, lut)
        if self.contrast:
            channels = img.shape[2] if img.ndim == 3 else 1
            mean = float(np.mean(cv2.mean(img)[:channels]))
            lut = np.clip(mean + c * (levels - mean), 0, 255).astype(np.uint8)
            img = cv2.LUT(img, lut)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast})')


@TRANSFORMS.register_module()
class RandomCenterRotate(BaseTransform):
    """Rotate an image and its masks about a random centre, same size out.

    ``angle ~ U(angle_range)`` degrees (counter-clockwise positive, as
    ``cv2.getRotationMatrix2D``), centre ``(U(center_range) * W,
    U(center_range) * H)`` in pixels, no canvas expansion, uncovered pixels
    set to ``img_border_value`` (image) and 0 (masks). Masks are warped with
    nearest-neighbour sampling in one call for the whole stack; boxes are
    recomputed from the warped masks.

    Required keys: ``img``. Modified keys: ``img``, ``gt_masks``,
    ``gt_bboxes`` (when present). Added keys: ``rotate_angle`` (degrees, 0
    when not rotated).

    Args:
        angle_range (tuple[float, float]): degrees. Default (-15, 15).
        center_range (tuple[float, float]): centre as a fraction of width and
            height (drawn independently). Default (0.4, 0.6).
        prob (float): probability of rotating. Default 1.
        img_border_value (int | tuple): fill value of the image border.
        interpolation (str): image interpolation, ``'nearest'``,
            ``'bilinear'`` (default) or ``'bicubic'``.
    """

    def __init__(self,
                 angle_range: Sequence[float] = (-15., 15.),
                 center_range: Sequence[float] = (0.4, 0.6),
                 prob: float = 1.0,
                 img_border_value=0,
                 interpolation: str = 'bilinear') -> None:
        self.angle_range = _check_range('angle_range', angle_range, False)
        self.center_range = _check_range('center_range', center_range, False)
        self.prob = _check_prob(prob)
        self.img_border_value = img_border_value
        self.interpolation = _check_interpolation(interpolation)

    @cache_randomness
    def _sample(self) -> Optional[Tuple[float, float, float]]:
        """(angle in degrees, centre x and y as fractions) or None."""
        if np.random.rand() >= self.prob:
            return None
        angle = np.random.uniform(*self.angle_range)
        cx, cy = np.random.uniform(*self.center_range, size=2)
        return angle, cx, cy

    def transform(self, results: dict) -> dict:
        params = self._sample()
        if params is None:
            results['rotate_angle'] = 0.
            return results
        angle, cx, cy = params
        img = results['img']
        h, w = img.shape[:2]
        matrix = cv2.getRotationMatrix2D((cx * w, cy * h), angle, 1.0)
        border = self.img_border_value
        if isinstance(border, (int, float)):
            border = (border, ) * 3
        results['img'] = cv2.warpAffine(
            img,
            matrix, (w, h),
            flags=INTERPOLATIONS[self.interpolation],
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=tuple(border))
        if 'gt_masks' in results:
            masks = warp_masks(results['gt_masks'].masks, matrix, (h, w))
            results['gt_masks'] = BitmapMasks(masks, h, w)
            update_boxes_from_masks(results)
        results['rotate_angle'] = float(angle)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(angle_range={self.angle_range}, '
                f'center_range={self.center_range}, prob={self.prob})')


@TRANSFORMS.register_module()
class RandomFrameCrop(BaseTransform):
    """Random crop of one frame, detectron2's ``RandomCrop`` semantics.

    Written instead of reusing mmdet's ``RandomCrop`` because that one drops
    instances that leave the crop without their ``gt_instances_ids`` (the
    clip's tracks would lose their alignment) and may refetch the item;
    here every instance is kept (its mask may become empty; ImageCut2Video
    drops empty masks per frame, as upstream's ``gt_ids = -1``).

    ``crop_type='absolute_range'`` (upstream's video recipe, sizes in
    pixels): crop height ``U{min(h, lo)..min(h, hi)}`` and width
    ``U{min(w, lo)..min(w, hi)}``, so a side shorter than ``lo`` is kept
    whole; the offset is uniform over the valid positions. Put it per frame
    (``TransformBroadcaster(share_random_params=False)``) before the
    clip-level resize, as upstream's augmentation list does.

    Required keys: ``img``. Modified keys: ``img``, ``gt_masks``,
    ``gt_bboxes`` (when present), ``img_shape``. Added: ``crop_box``
    (x0, y0, x1, y1) pixels.

    Args:
        crop_size (tuple[int, int]): (lo, hi) pixels. Default (600, 720).
        crop_type (str): only ``'absolute_range'``.
        prob (float): probability of cropping. Default 1.
    """

    def __init__(self,
                 crop_size: Sequence[int] = (600, 720),
                 crop_type: str = 'absolute_range',
                 prob: float = 1.0) -> None:
        if crop_type != 'absolute_range':
            raise ValueError("RandomFrameCrop supports crop_type="
                             f"'absolute_range' only, got {crop_type!r}")
        lo, hi = (int(v) for v in crop_size)
        if not 0 < lo <= hi:
            raise ValueError(f'crop_size must be (lo, hi) with 0 < lo <= hi,'
                             f' got {crop_size}')
        self.crop_size = (lo, hi)
        self.crop_type = crop_type
        self.prob = _check_prob(prob)

    @cache_randomness
    def _sample(self, h: int, w: int) -> Optional[Tuple[int, int, int, int]]:
        """(y0, x0, crop h, crop w) or None (no crop)."""
        if np.random.rand() >= self.prob:
            return None
        lo, hi = self.crop_size
        ch = np.random.randint(min(h, lo), min(h, hi) + 1)
        cw = np.random.randint(min(w, lo), min(w, hi) + 1)
        y0 = np.random.randint(h - ch + 1)
        x0 = np.random.randint(w - cw + 1)
        return int(y0), int(x0), int(ch), int(cw)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        params = self._sample(h, w)
        y0, x0, ch, cw = params if params is not None else (0, 0, h, w)
        results['crop_box'] = np.array([x0, y0, x0 + cw, y0 + ch], np.float32)
        if (ch, cw) == (h, w):
            return results
        results['img'] = img[y0:y0 + ch, x0:x0 + cw]
        results['img_shape'] = (ch, cw)
        if 'gt_masks' in results:
            results['gt_masks'] = results['gt_masks'].crop(
                results['crop_box'].astype(np.int64))
            update_boxes_from_masks(results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f"crop_type='{self.crop_type}', prob={self.prob})")
