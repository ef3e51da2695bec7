"""Training resizes as detectron2 does them (the official code's data path).

detectron2's ``ResizeTransform`` resizes a uint8 image with PIL bilinear
(antialiased when shrinking), a float image with ``F.interpolate``
bilinear (``align_corners=False``), and masks with PIL nearest; its
augmentations pick the output size with their own rounding:

* ``ResizeShortestEdge`` (video stage, ``size_rule='shortest_edge'``):
  short side = the drawn size, long side scaled, both shrunk together if the
  long side exceeds ``max_size``; ``int(x + 0.5)`` on each side.
* ``ResizeScale`` (image stage LSJ, ``size_rule='fit'``): the largest size
  that fits the ``scale``-scaled target box, ``np.round`` (half to even).

mmdet's ``Resize`` resizes with cv2 (no antialiasing) and rescales masks with
cv2 nearest (a different pixel grid), and mmcv's ``RandomResize`` truncates
the scaled target to integers; :class:`D2Resize` and :class:`D2RandomResize`
replace them where the recipe follows detectron2. The helpers
(:func:`shortest_edge_size`, :func:`fit_size`, :func:`resize_image`,
:func:`resize_masks_nearest`) are the one rule for any detectron2-style
resize.
"""
import sys
from typing import Sequence, Tuple

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import RandomResize
from mmdet.datasets.transforms import Resize
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks, PolygonMasks

SIZE_RULES = ('shortest_edge', 'fit')


def shortest_edge_size(height: int,
                       width: int,
                       short: float,
                       max_size: float = sys.maxsize) -> Tuple[int, int]:
    """Output (h, w) of detectron2's ``ResizeShortestEdge`` for one image.

    Args:
        height, width (int): input size in pixels.
        short (float): the drawn short-side length.
        max_size (float): cap on the long side.

    Returns:
        tuple[int, int]: (new_h, new_w), each ``int(x + 0.5)``.
    """
    scale = short * 1.0 / min(height, width)
    if height < width:
        new_h, new_w = short, scale * width
    else:
        new_h, new_w = scale * height, short
    if max(new_h, new_w) > max_size:
        scale = max_size * 1.0 / max(new_h, new_w)
        new_h = new_h * scale
        new_w = new_w * scale
    return int(new_h + 0.5), int(new_w + 0.5)


def fit_size(height: int, width: int, target_hw: Sequence[float],
             scale: float) -> Tuple[int, int]:
    """Output (h, w) of detectron2's ``ResizeScale`` for one image.

    Args:
        height, width (int): input size in pixels.
        target_hw (tuple): the target box (h, w) in pixels.
        scale (float): the drawn scale of the target box.

    Returns:
        tuple[int, int]: (new_h, new_w), ``np.round`` of the input size
        times ``min(box_h / h, box_w / w)``.
    """
    box = np.multiply(tuple(target_hw), scale)
    factor = np.minimum(box[0] / height, box[1] / width)
    new_h, new_w = np.round(np.multiply((height, width),
                                        factor)).astype(int)
    return int(new_h), int(new_w)


def resize_image(img: np.ndarray, size_hw: Tuple[int, int]) -> np.ndarray:
    """Resize (H, W[, C]) as detectron2's ``ResizeTransform.apply_image``.

    uint8: PIL bilinear (mmcv's pillow backend is exactly that call);
    any other dtype: ``F.interpolate`` bilinear, ``align_corners=False``.
    PIL resizes bands independently, so channel order (BGR) is irrelevant.
    """
    new_h, new_w = size_hw
    if img.dtype == np.uint8:
        if img.ndim == 3 and img.shape[2] not in (3, 4):
            # PIL has no mode for these; its bands are resized one by one
            return np.stack(
                [resize_image(img[..., c], size_hw)
                 for c in range(img.shape[2])], -1)
        return mmcv.imresize(
            img, (new_w, new_h), interpolation='bilinear', backend='pillow')
    tensor = torch.from_numpy(np.ascontiguousarray(img))
    chw = tensor[None, None] if img.ndim == 2 else \
        tensor.permute(2, 0, 1)[None]
    out = F.interpolate(
        chw, (new_h, new_w), mode='bilinear', align_corners=False)[0]
    out = out[0] if img.ndim == 2 else out.permute(1, 2, 0)
    return out.numpy()


def resize_masks_nearest(masks: np.ndarray,
                         size_hw: Tuple[int, int]) -> np.ndarray:
    """(N, H, W) uint8 -> (N, h, w) uint8 with PIL nearest per mask
    (``ResizeTransform.apply_segmentation``; its pixel grid differs from
    cv2's nearest)."""
    new_h, new_w = size_hw
    out = np.zeros((len(masks), new_h, new_w), np.uint8)
    for i, mask in enumerate(masks):
        out[i] = mmcv.imresize(
            np.ascontiguousarray(mask, np.uint8), (new_w, new_h),
            interpolation='nearest',
            backend='pillow')
    return out


@TRANSFORMS.register_module()
class D2Resize(Resize):
    """mmdet's ``Resize`` with detectron2's sizes and interpolation.

    Subclassed (not mmdet's ``backend='pillow'`` alone) because mmdet
    rescales masks with cv2 nearest and sizes with mmcv's rounding.

    With ``keep_ratio=True`` the output size follows ``size_rule``:
    ``'shortest_edge'`` reads ``scale`` as mmcv does (long edge cap, short
    edge) and applies ``ResizeShortestEdge``'s rule; ``'fit'`` reads it as
    a (w, h) box and applies ``ResizeScale``'s (the box may be float: see
    :class:`D2RandomResize`). ``keep_ratio=False``: exactly ``scale``
    (detectron2 ``Resize``). Images: :func:`resize_image`; masks: PIL
    nearest (bitmaps) or scaled vertices (polygons, as ``apply_coords``);
    boxes scaled by the size ratios, as mmdet.

    Required keys: ``img``; optional ``gt_bboxes``, ``gt_masks``,
    ``gt_seg_map``. Modified keys: those, ``img_shape``. Added keys:
    ``scale``, ``scale_factor`` (w, h), ``keep_ratio``.

    Args:
        size_rule (str): ``'shortest_edge'`` (default) or ``'fit'``.
        **kwargs: mmdet ``Resize`` arguments (``scale``, ``keep_ratio``,
            ``clip_object_border``); ``backend`` and ``interpolation`` are
            detectron2's and cannot be set.
    """

    def __init__(self, *args, size_rule: str = 'shortest_edge', **kwargs):
        for fixed in ('backend', 'interpolation'):
            if fixed in kwargs:
                raise ValueError(
                    f'D2Resize: {fixed} is detectron2\'s (PIL bilinear '
                    f'images, PIL nearest masks); use mmdet Resize for '
                    f'another {fixed}')
        if size_rule not in SIZE_RULES:
            raise ValueError(f'D2Resize: size_rule must be one of '
                             f'{SIZE_RULES}, got {size_rule!r}')
        super().__init__(*args, backend='pillow', **kwargs)
        self.size_rule = size_rule
        # (input, size, output) of the last call per kind: the frames of an
        # ImageCut2Video clip are one image until the per-frame crop (a
        # no-op below 600 px), so PIL runs once per clip instead of per frame
        self._last = {}

    def _cached(self, kind: str, array: np.ndarray, size: tuple, fn):
        """``fn(array, size)``, reused (copied) when ``array`` equals the
        previous call's input of this kind at the same size."""
        last = self._last.get(kind)
        if last is not None and last[1] == size and \
                last[0].dtype == array.dtype and \
                np.array_equal(last[0], array):
            return last[2].copy()
        out = fn(array, size)
        self._last[kind] = (array.copy(), size, out.copy())
        return out

    def output_size(self, height: int, width: int) -> Tuple[int, int]:
        """(new_h, new_w) for an input of (height, width) at
        ``self.scale``; at least 1 pixel each (detectron2 would fail)."""
        scale_w, scale_h = self.scale
        if not self.keep_ratio:
            new_h, new_w = int(scale_h), int(scale_w)
        elif self.size_rule == 'shortest_edge':
            new_h, new_w = shortest_edge_size(
                height, width, min(self.scale), max(self.scale))
        else:
            new_h, new_w = fit_size(height, width, (scale_h, scale_w), 1.0)
        return max(1, new_h), max(1, new_w)

    def _resize_img(self, results: dict) -> None:
        img = results.get('img')
        if img is None:
            return
        h, w = img.shape[:2]
        new_h, new_w = self.output_size(h, w)
        results['img'] = self._cached('img', img, (new_h, new_w),
                                      resize_image)
        results['img_shape'] = (new_h, new_w)
        results['scale_factor'] = (new_w / w, new_h / h)
        results['keep_ratio'] = self.keep_ratio

    def _resize_masks(self, results: dict) -> None:
        masks = results.get('gt_masks')
        if masks is None:
            return
        size = tuple(results['img_shape'][:2])
        if isinstance(masks, PolygonMasks):
            results['gt_masks'] = masks.resize(size)
        else:
            results['gt_masks'] = BitmapMasks(
                self._cached('masks', np.asarray(masks.masks), size,
                             resize_masks_nearest), *size)

    def _resize_seg(self, results: dict) -> None:
        seg = results.get('gt_seg_map')
        if seg is not None:
            size = tuple(results['img_shape'][:2])
            results['gt_seg_map'] = mmcv.imresize(
                seg, size[::-1], interpolation='nearest', backend='pillow')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'keep_ratio={self.keep_ratio}, '
                f'size_rule={self.size_rule!r})')


@TRANSFORMS.register_module()
class D2RandomResize(RandomResize):
    """detectron2's ``ResizeScale``: ``s ~ U(ratio_range)``, then the
    largest size fitting ``s * scale`` (``np.round``), PIL resampling.

    Subclassed because mmcv's ``RandomResize`` truncates ``s * scale`` to
    integers before resizing (a pixel off detectron2's sizes).

    Args:
        scale (tuple[int, int]): the target box (w, h) (LSJ canvas).
        ratio_range (tuple[float, float]): range of ``s``.
        **resize_kwargs: :class:`D2Resize` arguments; ``keep_ratio`` and
            ``size_rule`` default to ``True`` and ``'fit'``.
    """

    def __init__(self,
                 scale: Tuple[int, int],
                 ratio_range: Tuple[float, float],
                 resize_type: str = 'D2Resize',
                 **resize_kwargs) -> None:
        if ratio_range is None:
            raise ValueError('D2RandomResize needs ratio_range')
        resize_kwargs.setdefault('keep_ratio', True)
        resize_kwargs.setdefault('size_rule', 'fit')
        super().__init__(
            scale=tuple(int(v) for v in scale),
            ratio_range=tuple(float(v) for v in ratio_range),
            resize_type=resize_type,
            **resize_kwargs)

    @staticmethod
    def _random_sample_ratio(scale: tuple, ratio_range: Tuple[float,
                                                              float]) -> tuple:
        ratio = np.random.uniform(*ratio_range)
        return scale[0] * ratio, scale[1] * ratio

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'ratio_range={self.ratio_range}, '
                f'resize_cfg={self.resize_cfg})')

