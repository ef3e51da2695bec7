"""Clip layout: one image as a clip of frames, and frames padded to one size.

* :class:`ImageToClip` duplicates one loaded image and its masks into a
  static clip of T frames (the layout of mmdet's video pipelines: every key
  a list of length T) with instance ids 1..N.
* :class:`PadClipFrames` pads the frames of a clip to a common size before
  ``PackTrackInputs`` stacks them.
"""
from typing import Sequence, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from vcl_mm.registry import TRANSFORMS
from vcl_mm.utils.config_variables import require_resolved
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from vcl_mm.datasets.api_wrappers.masks import mask_boxes
from vcl_mm.utils import InputError


@TRANSFORMS.register_module()
class ImageToClip(BaseTransform):
    """Turn one image and its masks into a static clip of ``num_frames``.

    Put it right after loading: the official augmentation list crops each
    frame before the clip-level resize and flip, so those run per frame
    with shared random parameters
    (``TransformBroadcaster(share_random_params=True)``) and the per-frame
    ones with independent draws (``share_random_params=False``).

    Required keys: ``img`` (H, W, 3) uint8. Optional: ``gt_masks``
    (BitmapMasks (N, H, W)), ``gt_bboxes_labels`` (N,), ``gt_ignore_flags``
    (N,) bool (ignored instances are dropped), ``img_id``.

    Output: every key becomes a list of length T, and per frame
    ``gt_masks`` BitmapMasks (N, H, W) uint8, ``gt_bboxes``
    HorizontalBoxes (N, 4) xyxy pixels (from the masks, so that mmdet's
    resize and flip transforms update them), ``gt_bboxes_labels`` (N,) int64,
    ``gt_instances_ids`` (N,) int64 ``1..N``, ``gt_ignore_flags`` (N,) bool
    (all False), ``frame_id`` ``t``, ``video_id`` (= ``img_id``),
    ``video_length`` / ``ori_video_length`` ``T``.

    Args:
        num_frames (int): frames per clip T (>= 1). Default 3 (official).
        drop_keys (tuple[str]): keys not carried into the clip (the raw
            ``instances`` annotations are decoded already).
    """

    def __init__(self,
                 num_frames: int = 3,
                 drop_keys: Sequence[str] = ('instances', )) -> None:
        require_resolved(num_frames, 'ImageToClip.num_frames')
        if int(num_frames) < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.num_frames = int(num_frames)
        self.drop_keys = tuple(drop_keys)

    def transform(self, results: dict) -> dict:
        num = self.num_frames
        img = results['img']
        h, w = img.shape[:2]
        if 'gt_masks' in results:
            masks = np.asarray(results['gt_masks'].masks, dtype=np.uint8)
        else:
            masks = np.zeros((0, h, w), np.uint8)
        if masks.shape[1:] != (h, w):
            raise InputError(
                f'masks of {results.get("img_path", "an image")} are '
                f'{masks.shape[1]}x{masks.shape[2]} but the image is {h}x{w}'
                ' (HxW); regenerate its pseudo-labels, or build the dataset '
                "with size_source='image' to drop mismatched masks")
        keep = ~np.asarray(
            results.get('gt_ignore_flags', np.zeros(len(masks), bool)),
            dtype=bool).reshape(-1)
        masks = masks[keep]
        labels = np.asarray(
            results.get('gt_bboxes_labels', np.zeros(len(keep), np.int64)),
            dtype=np.int64).reshape(-1)[keep]
        ids = np.arange(1, len(masks) + 1, dtype=np.int64)
        boxes = mask_boxes(masks)

        img_id = results.get('img_id', results.get('sample_idx', 0))
        # Frames share one read-only image and mask array: the transforms
        # after this one return new arrays, and one that wrote in place
        # would fail loudly instead of changing every frame.
        img = _read_only(img)
        masks = _read_only(masks)
        per_frame = ('img', 'gt_masks', 'gt_bboxes', 'gt_bboxes_labels',
                     'gt_ignore_flags')
        clip = {}
        for key, value in results.items():
            if key in self.drop_keys or key in per_frame:
                continue
            if isinstance(value, np.ndarray):
                clip[key] = [value.copy() for _ in range(num)]
            else:
                clip[key] = [value] * num
        clip.update(
            img=[img] * num,
            gt_masks=[BitmapMasks(masks, h, w) for _ in range(num)],
            gt_bboxes=[HorizontalBoxes(boxes.copy()) for _ in range(num)],
            gt_bboxes_labels=[labels.copy() for _ in range(num)],
            gt_instances_ids=[ids.copy() for _ in range(num)],
            gt_ignore_flags=[np.zeros(len(masks), bool) for _ in range(num)],
            img_id=[img_id] * num,
            frame_id=list(range(num)),
            video_id=[img_id] * num,
            video_length=[num] * num,
            ori_video_length=[num] * num)
        return clip

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_frames={self.num_frames})'


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
    padded value). Masks are padded with 0; boxes do not move (bottom /
    right padding). A clip whose frames already agree is returned unchanged.

    Required keys (lists of length T): ``img`` (H_t, W_t, C). Optional:
    ``gt_masks`` BitmapMasks. Modified: ``img``, ``gt_masks``. Added:
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
        pad_val = self.pad_val if isinstance(self.pad_val, (int, float)) \
            else tuple(self.pad_val)
        results['img'] = [
            mmcv.impad(img, shape=(height, width), pad_val=pad_val)
            for img in imgs
        ]
        if 'gt_masks' in results:
            results['gt_masks'] = [
                m.pad((height, width), pad_val=0) for m in results['gt_masks']
            ]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(pad_val={self.pad_val})'


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (no copy)."""
    view = array.view()
    view.flags.writeable = False
    return view
