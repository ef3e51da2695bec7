"""CutLER's image-stage copy-paste (``cutler/engine/train_loop.py``)."""
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from vcl_mm.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from vcl_mm.utils import InputError
from ..target_aware_mix import draw_source_index
from .frame_augment import _check_mask_interpolation, _check_prob
from .mask_ops import cover_fractions, nonempty, resize_masks


@TRANSFORMS.register_module()
class CutLERCopyPaste(BaseTransform):
    """Paste a rescaled random subset of another image's objects.

    Written for CutLER's rules, which differ from mmdet's ``CopyPaste``
    (that one pastes at the source's own size and drops targets occluded
    beyond pixel/box thresholds). Put it first in a
    :class:`~vcl_mm.datasets.TargetAwareMixDataset` pipeline, on images
    already padded to the fixed LSJ canvas (``Pad(size=...)``), so the
    source scales isotropically as upstream's 896 x 896 tensors do.

    Per target image (H x W canvas), as upstream:

    1. With probability ``prob``: ``n`` source objects (ignored ones
       excluded); ``k = 1 if n == 1 else U{1..n-1}`` (``random_num``, the
       official RANDOM_NUM; ``k = n`` otherwise) drawn without replacement.
    2. ``r ~ U(scale_range)``; the whole source canvas is resized to
       ``(int(r H), int(r W))`` (bilinear, truncated to integers as
       upstream's ``.byte()``; masks bilinear then ``> 0``) and placed at a
       random integer offset inside the canvas.
    3. If the target has objects, pasted objects covering
       ``>= max_cover_ratio`` of some target object (IoY: intersection /
       target area) are dropped; if none survive the image is returned
       un-pasted. Pasted objects whose mask became empty are dropped too
       (upstream would keep an empty target).
    4. ``img = alpha * source + (1 - alpha) * target`` with ``alpha`` the
       union of the kept pasted masks; target masks lose ``alpha`` and are
       dropped only when nothing is left; boxes come from the masks.

    Required keys: ``img`` (H, W, 3), ``gt_masks`` BitmapMasks (N, H, W),
    ``gt_bboxes_labels`` (N,), ``gt_ignore_flags`` (N,) bool,
    ``mix_results`` [source with the same keys]. Modified: ``img``,
    ``gt_masks``, ``gt_bboxes`` (HorizontalBoxes), ``gt_bboxes_labels``,
    ``gt_ignore_flags``.

    Args:
        scale_range (tuple[float, float]): ``r`` range. Default (0.3, 1.0)
            (official COPY_PASTE_MIN/MAX_RATIO).
        random_num (bool): paste ``U{1..n-1}`` objects (official) or all.
        max_cover_ratio (float): IoY threshold of rule 3. Default 0.5.
        prob (float): probability of pasting (official COPY_PASTE_RATE 1).
        match_orientation (bool): draw the source from the target's
            orientation group (upstream's aspect-ratio grouped batches).
        mask_interpolation (str): ``'any'`` (upstream) or ``'nearest'``.
    """

    #: :class:`~vcl_mm.datasets.TargetAwareMixDataset` passes the target
    needs_target = True

    def __init__(self,
                 scale_range: Sequence[float] = (0.3, 1.0),
                 random_num: bool = True,
                 max_cover_ratio: float = 0.5,
                 prob: float = 1.0,
                 match_orientation: bool = True,
                 mask_interpolation: str = 'any') -> None:
        low, high = (float(v) for v in scale_range)
        if not 0 < low <= high <= 1:
            raise ValueError('scale_range must satisfy 0 < low <= high <= 1,'
                             f' got {scale_range}')
        self.scale_range = (low, high)
        self.random_num = bool(random_num)
        self.max_cover_ratio = float(max_cover_ratio)
        self.prob = _check_prob(prob)
        self.match_orientation = bool(match_orientation)
        self.mask_interpolation = _check_mask_interpolation(
            mask_interpolation)

    def get_indexes(self, dataset, target: Optional[dict] = None) -> List[int]:
        """Index of the source image (see ``match_orientation``)."""
        return [draw_source_index(self, dataset, target)]

    def _num_copies(self, n: int) -> int:
        if n == 1 or not self.random_num:
            return n
        return int(np.random.randint(1, n))

    def _place(self, src_img, src_masks, canvas_hw):
        """Scale the source canvas by ``r`` of the target canvas and put it
        at a random offset; returns (image (H, W, C), masks (k, H, W))."""
        height, width = canvas_hw
        r = np.random.uniform(*self.scale_range)
        h, w = max(1, int(r * height)), max(1, int(r * width))
        y0 = np.random.randint(0, height - h + 1)
        x0 = np.random.randint(0, width - w + 1)
        # resized in float and floored whatever the image dtype (uint8 or
        # float32 loading give the same pasted pixels)
        small = np.floor(
            cv2.resize(
                src_img.astype(np.float32), (w, h),
                interpolation=cv2.INTER_LINEAR)).astype(src_img.dtype)
        img = np.zeros((height, width) + src_img.shape[2:], src_img.dtype)
        img[y0:y0 + h, x0:x0 + w] = small.reshape((h, w) + src_img.shape[2:])
        masks = np.zeros((len(src_masks), height, width), np.uint8)
        masks[:, y0:y0 + h, x0:x0 + w] = resize_masks(
            src_masks, (h, w), self.mask_interpolation)
        return img, masks

    def _kept(self, pasted, tgt_masks, tgt_valid) -> np.ndarray:
        """(k,) bool: pasted objects that cover < max_cover_ratio of every
        (non-ignored) target object."""
        keep = nonempty(pasted)
        tgt = tgt_masks[tgt_valid]
        if len(tgt) == 0 or not keep.any():
            return keep
        ioy = cover_fractions(pasted, tgt)
        if ioy.shape[1]:
            keep &= ioy.max(1) < self.max_cover_ratio
        return keep

    def transform(self, results: dict) -> dict:
        mix = results.get('mix_results')
        if not mix or len(mix) != 1:
            raise InputError(
                'CutLERCopyPaste needs exactly one source image in '
                'results["mix_results"]: use it inside TargetAwareMixDataset'
                ' (see configs/_base_/datasets/maskcut_lsj_copypaste.py)')
        src = mix[0]
        if np.random.rand() >= self.prob:
            return results
        valid = ~np.asarray(src['gt_ignore_flags'], bool).reshape(-1)
        src_masks = np.asarray(src['gt_masks'].masks, np.uint8)[valid]
        if len(src_masks) == 0:
            return results
        choice = np.random.choice(
            len(src_masks), self._num_copies(len(src_masks)), replace=False)
        canvas_hw = results['img'].shape[:2]
        src_img, pasted = self._place(src['img'], src_masks[choice],
                                      canvas_hw)
        tgt_masks = np.asarray(results['gt_masks'].masks, np.uint8)
        tgt_ignore = np.asarray(results['gt_ignore_flags'], bool).reshape(-1)
        keep = self._kept(pasted, tgt_masks, ~tgt_ignore)
        if not keep.any():
            return results
        pasted = pasted[keep]
        src_labels = np.asarray(src['gt_bboxes_labels']).reshape(-1)[valid]
        alpha = pasted.any(0)
        results['img'] = np.where(alpha[..., None], src_img, results['img'])
        tgt_masks = tgt_masks & (~alpha)[None].astype(np.uint8)
        alive = nonempty(tgt_masks)
        masks = np.concatenate([tgt_masks[alive], pasted])
        gt_masks = BitmapMasks(masks, *canvas_hw)
        results.update(
            gt_masks=gt_masks,
            gt_bboxes=gt_masks.get_bboxes(HorizontalBoxes),
            gt_bboxes_labels=np.concatenate([
                np.asarray(results['gt_bboxes_labels']).reshape(-1)[alive],
                src_labels[choice][keep]
            ]).astype(np.int64),
            gt_ignore_flags=np.concatenate(
                [tgt_ignore[alive],
                 np.zeros(len(pasted), bool)]))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale_range={self.scale_range}, '
                f'random_num={self.random_num}, '
                f'max_cover_ratio={self.max_cover_ratio}, prob={self.prob}, '
                f'match_orientation={self.match_orientation})')
