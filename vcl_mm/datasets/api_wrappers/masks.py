"""Masks in the COCO RLE format: the one place that encodes, decodes and
measures them (numpy + pycocotools only).

An RLE is ``dict(size=[H, W], counts=...)``: *compressed* when ``counts`` is
a str or bytes (pycocotools' LEB128-like string), *uncompressed* when it is
a list of run lengths (the official YouTube-VIS ground truth). A
*segmentation* is an RLE, a polygon list ``[[x0, y0, x1, y1, ...], ...]``
or something falsy (absent). Boxes are ``[x, y, w, h]`` in pixels, as
``pycocotools.mask.toBbox``.
"""
import numpy as np
from pycocotools import mask as mask_utils

from vcl_mm.utils.errors import InputError

__all__ = [
    'encode', 'decode', 'to_rle', 'segs_to_rles', 'seg_to_box',
    'polygon_box', 'rle_boxes', 'mask_boxes', 'mask_iou', 'rle_iou',
    'rle_areas',
    'track_areas', 'mean_area', 'rle_run_totals', 'check_rle_runs'
]


def encode(masks, str_counts=True):
    """Compressed RLEs of one mask or a stack of masks.

    Args:
        masks (np.ndarray): (H, W) or (N, H, W), bool or 0/1 (a torch
            tensor is accepted too).
        str_counts (bool): ``counts`` as str (JSON-ready) instead of bytes.

    Returns:
        dict | list[dict]: one RLE for an (H, W) input, else N RLEs.
    """
    if hasattr(masks, 'detach'):
        masks = masks.detach().cpu().numpy()
    masks = np.asarray(masks)
    if masks.ndim == 2:
        return encode(masks[None], str_counts)[0]
    if len(masks) == 0:
        return []
    rles = mask_utils.encode(
        np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    if str_counts:
        for rle in rles:
            rle['counts'] = rle['counts'].decode('ascii')
    return rles


def decode(rles):
    """Masks of one compressed RLE or a list of them.

    Returns:
        np.ndarray: (H, W) bool for one RLE, else (N, H, W) bool.
    """
    if isinstance(rles, dict):
        return mask_utils.decode(rles).astype(bool)
    if not rles:
        return np.zeros((0, 0, 0), bool)
    return mask_utils.decode(list(rles)).transpose(2, 0, 1).astype(bool)


def to_rle(seg, h, w):
    """A segmentation (polygon list, uncompressed or compressed RLE) as one
    compressed RLE of an (h, w) image (polygons are merged)."""
    if isinstance(seg, list):
        return mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
    if isinstance(seg.get('counts'), list):
        return mask_utils.frPyObjects(seg, h, w)
    return seg


def segs_to_rles(segs, h, w, where):
    """Per-frame segmentations of one track to compressed RLEs, checked.

    Args:
        segs (list): one entry per frame; falsy means absent (the official
            ``if seg`` test).
        h, w (int): the video size; every mask must have it.
        where (str): names the track in error messages.

    Returns:
        list: compressed RLE dicts (``counts`` bytes or str) or None.
    """
    size = [h, w]
    for seg in segs:  # the usual results track: one quick pass
        if seg is not None and (type(seg) is not dict
                                or seg.get('size') != size
                                or type(seg.get('counts')) not in (str,
                                                                   bytes)):
            break
    else:
        return list(segs)
    out = [None] * len(segs)
    uncompressed = []
    for t, seg in enumerate(segs):
        if not seg:
            continue
        if type(seg) is dict:
            counts, sz = seg.get('counts'), seg.get('size')
            if sz != size and (sz is None or list(sz) != size):
                raise InputError(
                    f'{where}, frame {t}: mask size {sz} differs from the '
                    f'video size [{h}, {w}]')
            if type(counts) is list:
                uncompressed.append(t)
            elif isinstance(counts, (str, bytes)):
                out[t] = seg
            else:
                raise InputError(f'{where}, frame {t}: RLE without valid '
                                 '"counts"')
        elif isinstance(seg, list):  # polygons
            try:
                out[t] = to_rle(seg, h, w)
            except Exception as e:
                raise InputError(f'{where}, frame {t}: bad polygon ({e})')
        else:
            raise InputError(f'{where}, frame {t}: segmentation must be an '
                             'RLE dict, a polygon list or null')
    if uncompressed:
        for t, rle in zip(
                uncompressed,
                mask_utils.frPyObjects([segs[t] for t in uncompressed], h, w)):
            out[t] = rle
    return out


def seg_to_box(seg, h, w):
    """[x, y, w, h] box (floats) of the mask of a segmentation."""
    return [float(v) for v in mask_utils.toBbox(to_rle(seg, h, w))]


def polygon_box(polygons):
    """[x, y, w, h] box (floats) spanned by the points of a polygon list
    (no rasterisation; an empty list gives a zero box at the origin)."""
    pts = np.concatenate(
        [np.asarray(p, np.float64).reshape(-1, 2)
         for p in polygons]) if polygons else np.zeros((1, 2))
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def rle_boxes(rles):
    """(N, 4) float64 [x, y, w, h] boxes of compressed RLEs."""
    if not len(rles):
        return np.zeros((0, 4))
    return np.asarray(mask_utils.toBbox(list(rles)), np.float64)


def mask_boxes(masks, mode='xyxy'):
    """Tight boxes of a stack of dense masks (all zeros for an empty one).

    Args:
        masks (np.ndarray): (N, H, W) binary.
        mode (str): ``'xyxy'``: mmdet's ``[x1, y1, x2, y2]``, x2 and y2
            exclusive; ``'xywh'``: COCO's ``[x, y, w, h]``, as pycocotools'
            ``toBbox`` of the mask's RLE.

    Returns:
        np.ndarray: (N, 4) float32 boxes in pixels.
    """
    if mode not in ('xyxy', 'xywh'):
        raise ValueError(f"mode must be 'xyxy' or 'xywh', not {mode!r}")
    masks = np.asarray(masks)
    boxes = np.zeros((len(masks), 4), np.float32)
    if not len(masks):
        return boxes
    rows = masks.any(2)  # (N, H)
    cols = masks.any(1)  # (N, W)
    h, w = rows.shape[1], cols.shape[1]
    boxes[:, 0] = cols.argmax(1)
    boxes[:, 1] = rows.argmax(1)
    boxes[:, 2] = w - cols[:, ::-1].argmax(1)
    boxes[:, 3] = h - rows[:, ::-1].argmax(1)
    boxes[~rows.any(1)] = 0
    if mode == 'xywh':
        boxes[:, 2:] -= boxes[:, :2]
    return boxes


def mask_iou(a, b, empty=0.):
    """IoU of two dense bool masks of one shape.

    Args:
        a (np.ndarray): (H, W) bool (any shape, as ``b``).
        b (np.ndarray): bool, the shape of ``a``.
        empty (float): the value when both masks are empty (the callers'
            convention: MaskCut's rules use 0, upstream's CRF check NaN,
            which compares False with any threshold).

    Returns:
        float: |a & b| / |a | b|, or ``empty``.
    """
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else empty


def rle_iou(dts, gts, iscrowd=None):
    """(D, G) float64 mask IoU of compressed RLEs (pycocotools; a crowd
    ground truth divides by the prediction's area)."""
    if not len(dts) or not len(gts):
        return np.zeros((len(dts), len(gts)))
    iscrowd = [0] * len(gts) if iscrowd is None else [int(c) for c in iscrowd]
    return np.asarray(mask_utils.iou(list(dts), list(gts), iscrowd))


def rle_areas(rles):
    """(N,) int64 pixel areas of compressed RLEs."""
    # pycocotools' area() builds a placeholder np.array((n, ), np.uint8):
    # keep n < 256 (numpy warns, numpy 2 would raise)
    out = np.zeros(len(rles), np.int64)
    for k in range(0, len(rles), 255):
        out[k:k + 255] = mask_utils.area(list(rles[k:k + 255]))
    return out


def track_areas(tracks, flat=None):
    """Per-frame mask areas of many tracks at once.

    Args:
        tracks (list[list]): per track, per frame an RLE dict or None.
        flat (np.ndarray, optional): the areas of the present RLEs (track
            by track, frame by frame) when already known.

    Returns:
        list[np.ndarray]: per track (T,) int64 areas, 0 where absent.
    """
    if flat is None:
        flat = rle_areas(
            [r for rles in tracks for r in rles if r is not None])
    out, k = [], 0
    for rles in tracks:
        areas = np.zeros(len(rles), np.int64)
        idx = [t for t, r in enumerate(rles) if r is not None]
        areas[idx] = flat[k:k + len(idx)]
        k += len(idx)
        out.append(areas)
    return out


def mean_area(values):
    """The official YouTube-VIS ``avg_area`` of a track: the mean of its
    truthy per-frame areas (absent frames are None, empty ones 0), 0 if
    there are none.

    Args:
        values (Sequence): per-frame areas.
    """
    nonzero = [a for a in values if a]
    return float(np.array(nonzero).mean()) if nonzero else 0


def rle_run_totals(counts):
    """Pixels covered by all runs of compressed RLE strings, vectorised.

    Decodes as ``pycocotools``' ``rleFrString`` does (5 bits per character
    from ``'0'``, continuation bit 0x20, sign bit 0x10 on a number's last
    character, counts from the third on stored as differences to the count
    two back, unsigned 32-bit counts) and sums the counts of each string.

    Args:
        counts (list[bytes | str]): compressed ``counts`` strings.

    Returns:
        np.ndarray: (N,) int64 sum of the runs per string, -1 where the
        string is not valid compressed RLE.
    """
    n = len(counts)
    bad = np.zeros(n, bool)
    strs = []
    for k, cnt in enumerate(counts):
        if isinstance(cnt, str):
            try:
                cnt = cnt.encode('ascii')
            except UnicodeEncodeError:
                bad[k], cnt = True, b''
        strs.append(cnt)
    lens = np.fromiter(map(len, strs), np.int64, n)
    totals = np.zeros(n, np.int64)
    if lens.sum():
        c = np.frombuffer(b''.join(strs), np.uint8).astype(np.int64) - 48
        owner = np.repeat(np.arange(n), lens)  # string of each character
        bad[owner[(c < 0) | (c > 63)]] = True
        end = (c & 0x20) == 0  # the last character of a number
        last = np.cumsum(lens)[lens > 0] - 1
        bad[owner[last[~end[last]]]] = True  # unfinished last number
        end[last] = True  # so no number runs into the next string
        ends = np.flatnonzero(end)
        starts = np.r_[0, ends[:-1] + 1]
        length = ends - starts + 1
        bad[owner[ends[length > 12]]] = True  # beyond 64 bits (valid: <= 7)
        length = np.minimum(length, 12)
        pos = np.minimum(
            np.arange(len(c)) - np.repeat(starts, ends - starts + 1), 11)
        x = np.add.reduceat((c & 0x1f) << (5 * pos), starts)
        sign = (c[ends] & 0x10) != 0
        x[sign] |= np.int64(-1) << (5 * length[sign])
        string = owner[ends]  # string of each number, non-decreasing
        first = np.flatnonzero(np.r_[True, string[1:] != string[:-1]])
        j = np.arange(len(x)) - np.repeat(first, np.diff(np.r_[first, len(x)]))
        # count j >= 3 is x_j + count j-2: a running sum along j = 1, 3, 5,
        # ... and j = 2, 4, ... of each string (mod 2^32, as uint)
        cnts = x.copy()
        for parity in (0, 1):
            sel = np.flatnonzero((j >= 1) & (j % 2 == parity))
            if not len(sel):
                continue
            cum = np.cumsum(x[sel])
            new = np.flatnonzero(np.r_[True,
                                       string[sel][1:] != string[sel][:-1]])
            before = np.r_[0, cum[:-1]][new]
            cnts[sel] = cum - np.repeat(before, np.diff(np.r_[new, len(sel)]))
        cnts &= 0xffffffff
        totals[string[first]] = np.add.reduceat(cnts, first)
    totals[bad] = -1
    return totals


def check_rle_runs(tracks, wheres, totals=None, pixels=None):
    """Raise :class:`InputError` unless the runs of every RLE cover exactly
    its height x width pixels (``pycocotools`` would read past the mask, or
    leave pixels undefined, and score the result).

    Args:
        tracks (list[list]): per track, per frame a compressed RLE dict
            (``size`` already checked) or None.
        wheres (list[str]): names the tracks in the message.
        totals (np.ndarray, optional): :func:`rle_run_totals` of the
            present RLEs (track by track, frame by frame) when known.
        pixels (Sequence[int], optional): height x width of each track
            (all its frames have that ``size``), when known.
    """
    if totals is None:
        totals = rle_run_totals(
            [r['counts'] for rles in tracks for r in rles if r is not None])
    if pixels is not None:
        present = np.fromiter(
            (len(rles) - rles.count(None) for rles in tracks), np.int64,
            len(tracks))
        sizes = np.repeat(np.asarray(pixels, np.int64), present)
    else:
        sizes = np.array([
            int(r['size'][0]) * int(r['size'][1]) for rles in tracks
            for r in rles if r is not None
        ], np.int64)
    wrong = np.flatnonzero(totals != sizes)
    if not len(wrong):
        return
    present = [(k, t, r) for k, rles in enumerate(tracks)
               for t, r in enumerate(rles) if r is not None]
    k, t, r = present[wrong[0]]
    h, w = r['size']
    got = ('is not valid compressed RLE' if totals[wrong[0]] < 0 else
           f'has runs covering {totals[wrong[0]]} pixels')
    raise InputError(
        f'{wheres[k]}, frame {t}: the RLE {got}, the mask has {h}x{w}'
        f' = {h * w}; encode each mask with pycocotools.mask.encode '
        'at the video size')
