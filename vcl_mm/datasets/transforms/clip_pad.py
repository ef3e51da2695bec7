"""Pad the frames of a clip to one size (before packing)."""
from typing import Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

from .mask_ops import masks_to_bboxes


@TRANSFORMS.register_module()
class PadClipFrames(BaseTransform):
    """Pad every frame of a clip at the bottom / right to the clip's largest
    height and width.

    Needed because a per-frame crop (upstream's video recipe) gives frames
    of different sizes, while mmdet's ``PackTrackInputs`` stacks the frames
    of a clip into one array. Upstream pads inside the model
    (``ImageList.from_tensors``) after normalisation with 0, i.e. with the
    pixel mean; so the default ``pad_val`` is the mean in the pipeline's
    channel order (BGR, rounded to integers: within 0.01 std of upstream's
    padded value). Masks are padded with 0; boxes do not move. A clip whose
    frames already agree is returned unchanged.

    Required keys (lists of length T): ``img`` (H_t, W_t, C). Optional:
    ``gt_masks`` BitmapMasks. Modified: ``img``, ``gt_masks``,
    ``gt_bboxes`` (recomputed when masks were padded). Added:
    ``pad_shape`` (per frame, the common (H, W)).

    Args:
        pad_val (int | sequence[int]): image fill per channel. Default
            (104, 116, 124): ImageNet mean in BGR order.
    """

    def __init__(self,
                 pad_val: Union[int, Sequence[int]] = (104, 116, 124)) -> None:
        self.pad_val = pad_val

    def transform(self, results: dict) -> dict:
        imgs = results['img']
        height = max(img.shape[0] for img in imgs)
        width = max(img.shape[1] for img in imgs)
        results['pad_shape'] = [(height, width)] * len(imgs)
        if all(img.shape[:2] == (height, width) for img in imgs):
            return results
        fill = np.asarray(self.pad_val, dtype=imgs[0].dtype)
        padded = []
        for img in imgs:
            out = np.empty((height, width) + img.shape[2:], img.dtype)
            out[...] = fill
            out[:img.shape[0], :img.shape[1]] = img
            padded.append(out)
        results['img'] = padded
        if 'gt_masks' in results:
            masks = []
            for frame_masks in results['gt_masks']:
                arr = np.asarray(frame_masks.masks, np.uint8)
                out = np.zeros((len(arr), height, width), np.uint8)
                out[:, :arr.shape[1], :arr.shape[2]] = arr
                masks.append(BitmapMasks(out, height, width))
            results['gt_masks'] = masks
            if 'gt_bboxes' in results:
                results['gt_bboxes'] = [
                    masks_to_bboxes(m.masks) for m in masks
                ]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(pad_val={self.pad_val})'
