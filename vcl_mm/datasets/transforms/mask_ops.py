"""Vectorised operations on stacks of binary masks (N, H, W) uint8.

OpenCV warps and resizes all N masks of a stack in one call (as channels), so
the clip transforms never loop over pixels in Python.
"""
from typing import Optional, Tuple

import cv2
import numpy as np

MASK_INTERPOLATIONS = ('nearest', 'any')


def _as_channels(masks: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (H, W, N) uint8, the layout cv2 expects (cv2.merge is
    ~30x faster than a numpy transpose copy)."""
    masks = np.ascontiguousarray(masks, dtype=np.uint8)
    return cv2.merge(list(masks))


def _from_channels(out: np.ndarray, num: int) -> np.ndarray:
    """cv2 output (H, W[, N]) -> (N, H, W); cv2 drops a channel axis of 1."""
    if out.ndim == 2:
        return out[None]
    return np.stack(cv2.split(out)[:num])


def _apply_stacked(masks: np.ndarray, size: Tuple[int, int], op) -> np.ndarray:
    """Run a cv2 image op on all N masks at once (as channels).

    Args:
        masks (np.ndarray): (N, H, W).
        size (tuple[int, int]): output (height, width), for N = 0.
        op (callable): (H, W[, N]) uint8 -> (h, w[, N]) uint8.

    Returns:
        np.ndarray: (N, h, w) uint8.
    """
    num = len(masks)
    if num == 0:
        return np.zeros((0, ) + tuple(size), np.uint8)
    return _from_channels(op(_as_channels(masks)), num)


def resize_masks(masks: np.ndarray,
                 size: Tuple[int, int],
                 mode: str = 'nearest') -> np.ndarray:
    """Resize a mask stack.

    Args:
        masks (np.ndarray): (N, H, W) uint8 in {0, 1}.
        size (tuple[int, int]): output (height, width) in pixels.
        mode (str): ``'nearest'``, or ``'any'``: bilinear then ``> 0``, as
            upstream's ``F.interpolate(mode='bilinear').bool()`` (a pixel is
            on when any source pixel it blends is on).

    Returns:
        np.ndarray: (N, height, width) uint8.
    """
    h, w = size
    if mode == 'any':
        return _apply_stacked(
            masks, size, lambda stack: (cv2.resize(
                stack.astype(np.float32), (w, h),
                interpolation=cv2.INTER_LINEAR) > 0).astype(np.uint8))
    return _apply_stacked(
        masks, size, lambda stack: cv2.resize(
            stack, (w, h), interpolation=cv2.INTER_NEAREST))


def warp_masks(masks: np.ndarray, matrix: np.ndarray,
               size: Tuple[int, int]) -> np.ndarray:
    """Affine warp with nearest-neighbour sampling and 0 outside.

    Args:
        masks (np.ndarray): (N, H, W) uint8.
        matrix (np.ndarray): (2, 3) forward affine matrix, as cv2.warpAffine.
        size (tuple[int, int]): output (height, width).

    Returns:
        np.ndarray: (N, height, width) uint8.
    """
    h, w = size
    return _apply_stacked(
        masks, size, lambda stack: cv2.warpAffine(
            stack,
            matrix, (w, h),
            flags=cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0))


def nonempty(masks: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (N,) bool, True where a mask has a foreground pixel."""
    if len(masks) == 0:
        return np.zeros(0, bool)
    return masks.reshape(len(masks), -1).any(1)


def cover_fractions(src: np.ndarray,
                    tgt: np.ndarray,
                    tgt_area: Optional[np.ndarray] = None) -> np.ndarray:
    """How much of each target mask each source mask covers (upstream's
    "IoY": intersection / target area).

    Args:
        src (np.ndarray): (N, H, W) binary source masks.
        tgt (np.ndarray): (M, H, W) binary target masks on the same pixels
            (may be a window of larger masks, see ``tgt_area``).
        tgt_area (np.ndarray, optional): (M,) full target areas in pixels;
            default the areas of ``tgt``.

    Returns:
        np.ndarray: (N, M') float64 fractions for the M' non-empty targets.
    """
    if tgt_area is None:
        tgt_area = tgt.reshape(len(tgt), -1).sum(1)
    tgt_area = np.asarray(tgt_area, np.float64)
    valid = tgt_area > 0
    inter = src.reshape(len(src), -1).astype(np.float32) @ \
        tgt[valid].reshape(int(valid.sum()), -1).astype(np.float32).T
    return inter / tgt_area[valid]
