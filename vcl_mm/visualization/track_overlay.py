"""Track overlays drawn with OpenCV, in mmdet's random palette.

mmdet's ``TrackLocalVisualizer`` renders through matplotlib (about a tenth
of a second per frame, and its track colours need seaborn); the video demo
writes every frame of long videos and the dataset browser many clips, so
both draw here with OpenCV instead, in the colours of mmdet's ``'random'``
palette indexed by track id.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

_PALETTE_SIZE = 256
_palette = None


def track_colour(track_id: int, rgb: bool = True) -> Tuple[int, int, int]:
    """The colour of a track id, stable across runs and frames.

    Args:
        track_id (int): track id (any integer).
        rgb (bool): RGB (default) or BGR order.

    Returns:
        tuple[int, int, int]: 0-255 components.
    """
    global _palette
    if _palette is None:
        from mmdet.visualization.palette import get_palette
        _palette = get_palette('random', _PALETTE_SIZE)
    colour = tuple(int(c) for c in _palette[int(track_id) % _PALETTE_SIZE])
    return colour if rgb else colour[::-1]


def draw_tracks(image: np.ndarray,
                masks: np.ndarray,
                ids: Sequence[int],
                scores: Optional[Sequence[float]] = None,
                alpha: float = 0.5,
                rgb: bool = True) -> np.ndarray:
    """Fill, outline and label each track's mask on one frame.

    Args:
        image (np.ndarray): (H, W, 3) uint8 frame.
        masks (np.ndarray): (K, H, W) binary masks.
        ids (Sequence[int]): track id of each mask (its colour and label).
        scores (Sequence[float], optional): written after the id.
        alpha (float): fill opacity.
        rgb (bool): channel order of ``image`` (True: RGB, False: BGR).

    Returns:
        np.ndarray: (H, W, 3) uint8, a new array.
    """
    out = image.astype(np.float32)
    masks = np.asarray(masks, bool).reshape((-1, ) + image.shape[:2])
    for mask, tid in zip(masks, ids):
        out[mask] = (1 - alpha) * out[mask] + alpha * np.array(
            track_colour(tid, rgb), np.float32)
    out = out.clip(0, 255).astype(np.uint8)
    for k, (mask, tid) in enumerate(zip(masks, ids)):
        if not mask.any():
            continue
        colour = track_colour(tid, rgb)
        contours, _ = cv2.findContours(
            mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, colour, 2)
        ys, xs = np.nonzero(mask)
        org = (int(xs.min()), max(12, int(ys.min()) - 4))
        text = f'#{int(tid)}' if scores is None else \
            f'#{int(tid)} {float(scores[k]):.2f}'
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1,
                    cv2.LINE_AA)
    return out
