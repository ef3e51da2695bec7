"""ImageCut2Video: synthetic training clips from still images.

:class:`ImageCut2Video` pastes the masked objects of a second clip (the
source) onto a clip made by :class:`~.clip_layout.ImageToClip` (the target),
per frame at a new random scale and position, so the pasted objects move and
the target's objects stay still (possibly occluded). Paper section 3.2; how
each rule compares with the official code is in the fidelity table of
``configs/videocutler/README.md``.

A full train pipeline is in ``configs/_base_/datasets/imagecut2video.py``.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from vcl_mm.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

from vcl_mm.datasets.api_wrappers.masks import mask_boxes
from vcl_mm.utils import InputError
from ..target_aware_mix import draw_source_index
from .frame_augment import (INTERPOLATIONS, _check_interpolation,
                            _check_mask_interpolation, _check_prob,
                            _check_range)
from .mask_ops import cover_fractions, nonempty, resize_masks

# (masks (N, H, W) uint8, ids (N,) int64, labels (N,) int64) of one frame
FrameAnns = Tuple[np.ndarray, np.ndarray, np.ndarray]

PASTED = 'pasted'
SKIP_COVER = 'skipped_cover'
SKIP_COUNT = 'skipped_count'
NO_SOURCE = 'no_source_masks'
NOT_DRAWN = 'not_drawn'


@TRANSFORMS.register_module()
class ImageCut2Video(BaseTransform):
    """Paste a source clip's objects, moving, onto a static target clip.

    The source comes from :meth:`get_indexes` (mmdet's MixUp pattern: the
    dataset wrapper runs the inner pipeline on it and passes it in
    ``results['mix_results']``); with ``match_orientation`` it has the
    target's orientation (``w > h`` or not), which needs
    :class:`~vcl_mm.datasets.TargetAwareMixDataset` as the wrapper. One
    source frame is pasted into every target frame (``source_frame='one'``)
    or source frame ``t`` into target frame ``t`` (``'matching'``).

    Per target frame t (H x W; frames may differ in size), independently:

    1. ``r ~ U(scale_range)``; the whole source frame (image and masks) is
       resized to ``(round(r H), round(r W))`` and placed at a random
       integer offset inside the frame.
    2. ``alpha`` = union of the placed source masks; the frame becomes
       ``alpha * source + (1 - alpha) * target``.
    3. Target masks become ``mask AND NOT alpha``; pasted masks get ids
       ``max(target ids) + source id`` (the same in every frame: each
       pasted object is a track) and keep their labels.
    4. Instances whose mask is empty in a frame leave that frame.

    The clip is returned un-pasted when a placed source mask covers at
    least ``max_cover_ratio`` of a target mask in frame 0, when the
    instance count differs between frames (``require_equal_count``), or
    when the source has no masks; a target without masks gets the pasted
    objects only. Each clip draws its own
    ``numpy.random.Generator`` from numpy's global one (seeded per worker
    by mmengine), so a seed reproduces it. How each term compares with the
    official code: the fidelity table in ``configs/videocutler/README.md``.

    Required keys (lists of length T): ``img`` (H, W, 3) uint8,
    ``gt_masks`` BitmapMasks (N, H, W), ``gt_instances_ids`` (N, ),
    ``gt_bboxes_labels`` (N, ); ``mix_results`` [source clip] with the
    same keys. Modified: ``img``, ``gt_masks``, ``gt_bboxes`` (N, 4)
    float32 from the masks, ``gt_bboxes_labels``, ``gt_instances_ids``,
    ``gt_ignore_flags``. Added: ``paste_status`` per frame (``'pasted'``,
    ``'skipped_cover'``, ``'skipped_count'``, ``'no_source_masks'`` or
    ``'not_drawn'``).

    Args:
        scale_range (tuple[float, float]): source scale r relative to the
            target size, in (0, 1]. Default (0.8, 1.0).
        max_cover_ratio (float | None): frame-0 coverage skip threshold;
            None disables the rule. Default 0.5.
        require_equal_count (bool): equal-count skip rule. Default True.
        upstream_cumulative (bool): for frames >= 1, rescale the previous
            frame's placed mask canvas while the pixels come from the
            source frame (the official code; labels drift off the pasted
            objects). Default False.
        prob (float): probability of pasting at all. Default 1.0.
        interpolation (str): source image resize. Default ``'bilinear'``.
        source_frame (str): ``'one'`` (default) or ``'matching'``.
        match_orientation (bool): draw the source from the target's
            orientation group. Default True.
        mask_interpolation (str): ``'any'`` (bilinear, then > 0; default)
            or ``'nearest'``.
    """

    #: :class:`~vcl_mm.datasets.TargetAwareMixDataset` passes the target
    needs_target = True

    def __init__(self,
                 scale_range: Sequence[float] = (0.8, 1.0),
                 max_cover_ratio: Optional[float] = 0.5,
                 require_equal_count: bool = True,
                 upstream_cumulative: bool = False,
                 prob: float = 1.0,
                 interpolation: str = 'bilinear',
                 source_frame: str = 'one',
                 match_orientation: bool = True,
                 mask_interpolation: str = 'any') -> None:
        self.scale_range = _check_range('scale_range', scale_range, False)
        if not 0 < self.scale_range[0] <= self.scale_range[1] <= 1:
            raise ValueError('scale_range must lie in (0, 1], got '
                             f'{scale_range}')
        self.max_cover_ratio = max_cover_ratio
        self.require_equal_count = require_equal_count
        self.upstream_cumulative = upstream_cumulative
        self.prob = _check_prob(prob)
        self.interpolation = _check_interpolation(interpolation)
        if source_frame not in ('one', 'matching'):
            raise ValueError("source_frame must be 'one' or 'matching', got "
                             f'{source_frame!r}')
        self.source_frame = source_frame
        self.match_orientation = bool(match_orientation)
        self.mask_interpolation = _check_mask_interpolation(mask_interpolation)

    def get_indexes(self, dataset, target: Optional[dict] = None) -> List[int]:
        """Index of the source item (called by the dataset wrapper, which
        passes the loaded ``target`` when it is a TargetAwareMixDataset)."""
        return [draw_source_index(self, dataset, target)]

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _frame_anns(clip: dict, t: int) -> FrameAnns:
        masks = np.asarray(clip['gt_masks'][t].masks, dtype=np.uint8)
        num = len(masks)
        ids = np.asarray(clip['gt_instances_ids'][t], np.int64).reshape(-1)
        labels = clip.get('gt_bboxes_labels')
        labels = np.zeros(num, np.int64) if labels is None else \
            np.asarray(labels[t], np.int64).reshape(-1)
        return masks, ids, labels

    @staticmethod
    def _check_clip(clip: dict, what: str) -> None:
        for key in ('img', 'gt_masks', 'gt_instances_ids'):
            if not isinstance(clip.get(key), list):
                raise InputError(
                    f'ImageCut2Video: the {what} has no per-frame list '
                    f'"{key}"; put ImageToClip in the dataset pipeline '
                    '(see configs/_base_/datasets/imagecut2video.py)')

    def _place(self, frame_shape, src_img, src_anns, rng):
        """Draw scale and offset; resize the source into a window.

        Returns:
            tuple: window (y0, x0, h, w), source image (h, w, 3) and masks
            (N, h, w) resized into the window.
        """
        height, width = frame_shape
        r = rng.uniform(*self.scale_range)
        h = min(height, max(1, int(round(r * height))))
        w = min(width, max(1, int(round(r * width))))
        y0 = int(rng.integers(0, height - h + 1))
        x0 = int(rng.integers(0, width - w + 1))
        img = cv2.resize(
            src_img, (w, h), interpolation=INTERPOLATIONS[self.interpolation])
        masks = resize_masks(src_anns[0], (h, w), self.mask_interpolation)
        return (y0, x0, h, w), img, masks

    @staticmethod
    def _covers(win_masks, window, tgt_masks, thr) -> bool:
        """True if some placed mask covers >= thr of some target mask."""
        if len(win_masks) == 0 or len(tgt_masks) == 0:
            return False
        y0, x0, h, w = window
        area = tgt_masks.reshape(len(tgt_masks), -1).sum(1)
        ratio = cover_fractions(win_masks, tgt_masks[:, y0:y0 + h,
                                                     x0:x0 + w], area)
        return bool((ratio >= thr).any())

    # ---------------------------------------------------------- transform
    def _paste(self, imgs, tgt, src_imgs, src, rng, one):
        """Paste every frame. Returns (status, frames) where frames is a
        list of (img, FrameAnns) or None when a skip rule fires."""
        offset = max([int(ids.max()) for _, ids, _ in tgt if len(ids)] + [0])
        frames, prev = [], None
        for t, img in enumerate(imgs):
            st = one if one is not None else t % len(src_imgs)
            window, s_img, win_masks = self._place(img.shape[:2], src_imgs[st],
                                                   src[st], rng)
            s_ids, s_labels = src[st][1], src[st][2]
            if self.upstream_cumulative and prev is not None:
                # quirk: labels follow the previous canvas, pixels the source
                win_masks = resize_masks(prev[0], window[2:],
                                         self.mask_interpolation)
                s_ids, s_labels = prev[1], prev[2]
            y0, x0, h, w = window
            t_masks, t_ids, t_labels = tgt[t]
            if t == 0 and self.max_cover_ratio is not None and self._covers(
                    win_masks, window, t_masks, self.max_cover_ratio):
                return SKIP_COVER, None
            alpha = win_masks.any(0) if len(win_masks) else np.zeros(
                (h, w), bool)
            out = img.copy()
            np.copyto(out[y0:y0 + h, x0:x0 + w], s_img, where=alpha[..., None])
            static = t_masks.copy()
            static[:, y0:y0 + h, x0:x0 + w] &= (~alpha).astype(np.uint8)
            canvas = np.zeros((len(win_masks), ) + img.shape[:2], np.uint8)
            canvas[:, y0:y0 + h, x0:x0 + w] = win_masks
            prev = (canvas, s_ids, s_labels)
            frames.append((out, (np.concatenate([static, canvas]),
                                 np.concatenate([t_ids, s_ids + offset]),
                                 np.concatenate([t_labels, s_labels]))))
        return PASTED, frames

    def _source_frame_id(self, src, rng) -> Optional[int]:
        """The one source frame pasted everywhere (``source_frame='one'``):
        uniform over the source frames. Upstream draws
        ``randint(1, max(1, T)) - 1``, i.e. never the last frame; the frames
        are i.i.d. jitters of one image, so the distribution is the same."""
        if self.source_frame != 'one':
            return None
        return int(rng.integers(len(src)))

    def transform(self, results: dict) -> dict:
        self._check_clip(results, 'target clip')
        mix = results.get('mix_results')
        if not mix:
            raise InputError(
                'ImageCut2Video needs a source clip in results["mix_results"]'
                ': wrap the dataset in TargetAwareMixDataset (see '
                'configs/_base_/datasets/imagecut2video.py)')
        source = mix[0]
        self._check_clip(source, 'source clip')
        rng = np.random.default_rng(np.random.randint(0, 2**31))
        imgs = results['img']
        tgt = [self._frame_anns(results, t) for t in range(len(imgs))]
        src = [self._frame_anns(source, t) for t in range(len(source['img']))]

        frames = None
        one = self._source_frame_id(src, rng)
        if rng.random() >= self.prob:
            status = NOT_DRAWN
        elif not any(
                len(src[t][0]) and src[t][0].any()
                for t in (range(len(src)) if one is None else [one])):
            status = NO_SOURCE
        else:
            status, frames = self._paste(imgs, tgt, source['img'], src, rng,
                                         one)
        if frames is not None:
            frames = [(img, _drop_empty(anns)) for img, anns in frames]
            counts = {len(anns[1]) for _, anns in frames}
            if self.require_equal_count and len(counts) > 1:
                status, frames = SKIP_COUNT, None
        if frames is None:
            frames = [(img, _drop_empty(anns)) for img, anns in zip(imgs, tgt)]
        return _write_frames(results, frames, status)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale_range={self.scale_range}, '
                f'max_cover_ratio={self.max_cover_ratio}, '
                f'require_equal_count={self.require_equal_count}, '
                f'upstream_cumulative={self.upstream_cumulative}, '
                f'prob={self.prob})')


def _drop_empty(anns: FrameAnns) -> FrameAnns:
    masks, ids, labels = anns
    keep = nonempty(masks)
    if keep.all():
        return anns
    return masks[keep], ids[keep], labels[keep]


def _write_frames(results: dict, frames, status: str) -> dict:
    """Store per-frame images and annotations back into the clip dict."""
    results['img'] = [img for img, _ in frames]
    masks_list, boxes, ids, labels, flags = [], [], [], [], []
    for img, (masks, frame_ids, frame_labels) in frames:
        h, w = img.shape[:2]
        masks_list.append(BitmapMasks(masks, h, w))
        boxes.append(mask_boxes(masks))
        ids.append(frame_ids.astype(np.int64))
        labels.append(frame_labels.astype(np.int64))
        flags.append(np.zeros(len(masks), bool))
    results.update(
        gt_masks=masks_list,
        gt_bboxes=boxes,
        gt_instances_ids=ids,
        gt_bboxes_labels=labels,
        gt_ignore_flags=flags,
        paste_status=[status] * len(frames))
    return results
