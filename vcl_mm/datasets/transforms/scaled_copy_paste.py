"""Copy-paste with rescaled source objects (CutLER's image-stage recipe)."""
from typing import Sequence

import mmcv
import numpy as np

from mmdet.datasets.transforms import CopyPaste
from vcl_mm.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes, autocast_box_type
from mmdet.structures.mask import BitmapMasks


@TRANSFORMS.register_module()
class ScaledCopyPaste(CopyPaste):
    """mmdet's ``CopyPaste`` with the source scaled to ``r`` x the target.

    Subclassed because mmdet pastes the source objects at their own size and
    position (it expects both images padded to one fixed size), while CutLER
    shrinks them: the whole source image (and its masks) is resized to
    ``(r * H, r * W)`` of the target ``H x W`` (aspect ratio follows the
    target) with ``r ~ U(scale_range)``, placed at a random integer offset,
    and then pasted by mmdet's logic (random subset of the source objects,
    occluded target masks updated, fully occluded targets dropped).

    Use it as the first transform of a ``MultiImageMixDataset`` pipeline.

    Required keys: as ``CopyPaste`` (``img``, ``gt_bboxes``,
    ``gt_bboxes_labels``, ``gt_masks`` BitmapMasks, ``gt_ignore_flags``,
    ``mix_results``). The images may differ in size.

    Args:
        scale_range (tuple[float, float]): source scale ``r`` relative to the
            target size. Default (0.3, 1.0) (CutLER).
        prob (float): probability of pasting at all. Default 1.0.
        **kwargs: ``max_num_pasted``, ``bbox_occluded_thr``,
            ``mask_occluded_thr``, ``selected`` of ``CopyPaste``.
    """

    def __init__(self,
                 scale_range: Sequence[float] = (0.3, 1.0),
                 prob: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        low, high = (float(v) for v in scale_range)
        if not 0 < low <= high:
            raise ValueError(f'scale_range must be 0 < low <= high, got '
                             f'{scale_range}')
        self.scale_range = (low, high)
        self.prob = prob

    def _draw_placement(self, dst_hw):
        """Scale ``r`` and the (y, x) offset of the scaled source."""
        r = np.random.uniform(*self.scale_range)
        h = max(1, int(round(r * dst_hw[0])))
        w = max(1, int(round(r * dst_hw[1])))
        y0 = np.random.randint(0, max(0, dst_hw[0] - h) + 1)
        x0 = np.random.randint(0, max(0, dst_hw[1] - w) + 1)
        return h, w, y0, x0

    def _place_source(self, src: dict, dst_hw) -> dict:
        """Resize the source image and masks and put them on a target-size
        canvas (zeros elsewhere); boxes are recomputed from the masks and
        objects that vanished are dropped."""
        h, w, y0, x0 = self._draw_placement(dst_hw)
        img = mmcv.imresize(src['img'], (w, h), interpolation='bilinear')
        canvas = np.zeros(
            tuple(dst_hw) + src['img'].shape[2:], dtype=src['img'].dtype)
        ys, xs = slice(y0, y0 + h), slice(x0, x0 + w)
        canvas[ys, xs] = img[:dst_hw[0] - y0, :dst_hw[1] - x0]
        small = src['gt_masks'].resize((h, w)).masks
        masks = np.zeros((len(small), ) + tuple(dst_hw), np.uint8)
        masks[:, ys, xs] = small[:, :dst_hw[0] - y0, :dst_hw[1] - x0]
        keep = masks.reshape(len(masks), -1).any(1)
        masks = BitmapMasks(masks[keep], *dst_hw)
        out = dict(src)
        out.update(
            img=canvas,
            gt_masks=masks,
            gt_bboxes=masks.get_bboxes(HorizontalBoxes),
            gt_bboxes_labels=src['gt_bboxes_labels'][keep],
            gt_ignore_flags=src['gt_ignore_flags'][keep])
        return out

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        """Paste a rescaled subset of ``mix_results[0]`` onto ``results``."""
        assert len(results.get('mix_results', [])) == 1, \
            'ScaledCopyPaste needs exactly one source in mix_results ' \
            '(use it inside MultiImageMixDataset)'
        if np.random.rand() >= self.prob:
            return results
        src = results['mix_results'][0]
        if self.selected:
            src = self._select_object(src)
        if len(src['gt_bboxes']) == 0:
            return results
        src = self._place_source(src, results['img'].shape[:2])
        return self._copy_paste(results, src)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale_range={self.scale_range}, '
                f'prob={self.prob}, max_num_pasted={self.max_num_pasted}, '
                f'selected={self.selected})')
