"""Track overlays drawn with OpenCV, in mmdet's random palette: the
drawing primitive of :class:`~vcl_mm.visualization.TrackOverlayVisualizer`.

Readable at any frame size: a pixel covered by several tracks shows the
best one only (as the demo's mask PNGs), and labels, outlines and fonts
scale with the frame (:func:`label_style`), so a 160x120 frame is not
covered by its labels. Imports no torch or mmdet (only the palette, on
first use).
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

_PALETTE_SIZE = 256
_palette = None
_FONT = cv2.FONT_HERSHEY_SIMPLEX

#: the score threshold of mmdet's visualizers and inferencers
#: (``DetLocalVisualizer`` / ``TrackLocalVisualizer.add_datasample``,
#: ``DetInferencer``): only tracks scoring above it are drawn by default
DEFAULT_PRED_SCORE_THR = 0.3


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


def label_style(height: int, width: int) -> dict:
    """Font and line sizes for a frame, proportional to its short side.

    Returns:
        dict: ``font_scale`` (OpenCV Hershey scale; 0.3 at a short side of
        120 px or less, about 0.67 at 480, 1.2 from 864 up), ``thickness``
        of the text strokes and ``line`` width of the mask outlines (px).
    """
    short = min(height, width)
    scale = float(np.clip(short / 720, 0.3, 1.2))
    return dict(font_scale=scale,
                thickness=1 if scale < 0.9 else 2,
                line=max(1, int(short / 240)))


def _owner_map(masks: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """(H, W) index of the mask drawn at each pixel (-1: none); earlier
    entries of ``order`` win overlaps."""
    owner = np.full(masks.shape[1:], -1, np.int32)
    for k in reversed(list(order)):
        owner[masks[k]] = k
    return owner


def _label_box(text, anchor, style, frame_hw, taken):
    """Where a label goes: above the mask's top-left corner where there is
    room, else inside its top, moved down past labels already placed
    (``taken``: their boxes), always inside the frame.

    Returns:
        tuple: box ``(x, y, w, h)`` and the text baseline origin.
    """
    scale, thick = style['font_scale'], style['thickness']
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, thick)
    pad = max(1, th // 4)
    bw, bh = tw + 2 * pad, th + base + pad
    h, w = frame_hw
    x = int(np.clip(anchor[0], 0, max(0, w - bw)))
    y = anchor[1] - bh if anchor[1] - bh >= 0 else anchor[1]
    y = int(np.clip(y, 0, max(0, h - bh)))

    def clash(y):
        return any(x < ox + ow and ox < x + bw and y < oy + oh
                   and oy < y + bh for ox, oy, ow, oh in taken)

    for _ in range(len(taken)):
        if not clash(y) or y + 2 * bh > h:
            break
        y = max(oy + oh for ox, oy, ow, oh in taken
                if x < ox + ow and ox < x + bw and y < oy + oh
                and oy < y + bh)
    return (x, y, bw, bh), (x + pad, y + pad + th)


def _draw_label(out, text, box, origin, colour, style):
    """A filled box in the track colour with the text in black or white."""
    x, y, bw, bh = box
    cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), colour, -1)
    luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(out, text, origin, _FONT, style['font_scale'], ink,
                style['thickness'], cv2.LINE_AA)


def draw_tracks(image: np.ndarray,
                masks: np.ndarray,
                ids: Sequence[int],
                scores: Optional[Sequence[float]] = None,
                alpha: float = 0.5,
                rgb: bool = True,
                labels: bool = True) -> np.ndarray:
    """Fill, outline and label each track's mask on one frame.

    Every track given is drawn (the score threshold is
    ``TrackOverlayVisualizer.add_datasample``'s). Where masks overlap, the
    pixel shows the best-scoring track (the first given when there are no
    scores), filled once.

    Args:
        image (np.ndarray): (H, W, 3) uint8 frame.
        masks (np.ndarray): (K, H, W) binary masks.
        ids (Sequence[int]): track id of each mask (its colour and label).
        scores (Sequence[float], optional): written after the id; also
            orders overlaps.
        alpha (float): fill opacity.
        rgb (bool): channel order of ``image`` (True: RGB, False: BGR).
        labels (bool): write the id (and score) labels.

    Returns:
        np.ndarray: (H, W, 3) uint8, a new array.
    """
    masks = np.asarray(masks, bool).reshape((-1, ) + image.shape[:2])
    keep = list(range(len(masks)))
    if scores is not None:
        keep.sort(key=lambda k: -float(scores[k]))
    out = image.astype(np.float32)
    owner = _owner_map(masks, keep)
    for k in keep:
        region = owner == k
        out[region] = (1 - alpha) * out[region] + alpha * np.array(
            track_colour(ids[k], rgb), np.float32)
    out = out.clip(0, 255).astype(np.uint8)
    style = label_style(*image.shape[:2])
    placed = []
    for k in keep:
        if not masks[k].any():
            continue
        colour = track_colour(ids[k], rgb)
        contours, _ = cv2.findContours(masks[k].astype(np.uint8),
                                       cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, colour, style['line'])
        ys, xs = np.nonzero(masks[k])
        placed.append((k, colour, (int(xs.min()), int(ys.min()))))
    if labels:
        # better tracks choose their label's place first
        taken = []
        for k, colour, anchor in placed:
            text = f'{int(ids[k])}' if scores is None else \
                f'{int(ids[k])} {float(scores[k]):.2f}'
            box, origin = _label_box(text, anchor, style, out.shape[:2],
                                     taken)
            taken.append(box)
            _draw_label(out, text, box, origin, colour, style)
    return out
