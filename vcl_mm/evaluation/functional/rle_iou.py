"""Video IoU of mask tracks on compressed RLEs (the hot path of the
YouTube-VIS evaluation): which pairs and frames to intersect, and the
IoU from the summed intersections, for one video (:func:`video_iou`,
with a one-call-per-video pycocotools path when numba is missing) or for
all videos at once from the loaded mask tables (:func:`videos_iou`); the
compiled decoding and intersecting are :mod:`.rle_iou_kernels`.
numpy + pycocotools (+ numba)."""
import numpy as np
from pycocotools import mask as mask_utils

__all__ = ['video_iou', 'videos_iou', 'HAVE_VIDEOS_IOU']

_TAGGING_OK = []


def _frame_tagging_ok():
    """Check once that pycocotools keeps pairs of differently tagged frames
    apart (see :func:`_pair_intersections`)."""
    if not _TAGGING_OK:
        a = np.zeros((6, 5), np.uint8, order='F')
        b = np.zeros((6, 5), np.uint8, order='F')
        a[1:4, 1:3] = 1
        b[2:5, 2:4] = 1
        ra, rb = mask_utils.encode(a), mask_utils.encode(b)
        tag = [dict(size=[6, 5 + k], counts=rb['counts']) for k in (1, 2)]
        got = mask_utils.iou([dict(size=[6, 6], counts=ra['counts'])], tag,
                             [0, 0])
        _TAGGING_OK.append(
            np.allclose(got, [[0.2, -1.]])
            and np.allclose(mask_utils.toBbox(tag), [[2, 2, 2, 3]] * 2))
    return _TAGGING_OK[0]


try:  # compiled RLE kernels (decode + intersect); pycocotools otherwise
    from . import rle_iou_kernels as _nb
except ImportError:  # pragma: no cover (numba missing)
    _nb = None


def _as_bytes(counts):
    return counts if type(counts) is bytes else counts.encode('ascii')


def _pair_intersections_nb(d_rles, g_rles, work):
    """:func:`_pair_intersections` with the compiled kernels: each wanted
    mask is decoded once, then the wanted pairs intersected."""
    D, G = len(d_rles), len(g_rles)
    i, j, t = np.nonzero(work)
    dd, dt_ = np.nonzero(work.any(1))  # wanted prediction masks (d, t)
    gg, gt_ = np.nonzero(work.any(0))  # wanted ground-truth masks (g, t)
    T = work.shape[2]
    strs = [
        _as_bytes(d_rles[a][b]['counts'])
        for a, b in zip(dd.tolist(), dt_.tolist())
    ]
    strs += [
        _as_bytes(g_rles[a][b]['counts'])
        for a, b in zip(gg.tolist(), gt_.tolist())
    ]
    offs = np.zeros(len(strs) + 1, np.int64)
    np.cumsum([len(x) for x in strs], out=offs[1:])
    buf = np.frombuffer(bytearray(b''.join(strs)), np.uint8)
    cnts, coff = _nb.nb_decode(buf, offs)
    d_id = np.full((D, T), -1, np.int64)
    d_id[dd, dt_] = np.arange(len(dd))
    g_id = np.full((G, T), -1, np.int64)
    g_id[gg, gt_] = np.arange(len(gg)) + len(dd)
    v = _nb.nb_intersect(cnts, coff, d_id[i, t], g_id[j, t])
    inter = np.zeros((D, G), np.int64)
    np.add.at(inter, (i, j), v)
    return inter


def _pair_intersections(d_rles, g_rles, work, d_areas, g_areas):
    """Summed per-frame intersections of the (d, g, t) in ``work``.

    One ``pycocotools`` IoU call per video computes exactly the wanted
    pairs: each ground-truth mask (g, t) is declared with its own width
    W + 1 + t * G + g, and each prediction mask d_t once per wanted (g, t)
    with that width. pycocotools reads pixel rows with the height only
    (boxes stay exact), skips pairs with disjoint boxes and refuses pairs
    of different declared sizes (-1), so it walks the RLEs of wanted,
    overlapping pairs only. Falls back to one call per frame if
    :func:`_frame_tagging_ok` fails.

    Returns:
        np.ndarray: (D, G) int64.
    """
    D, G = len(d_rles), len(g_rles)
    di, dg, dt_ = np.nonzero(work)  # wanted (d, g, t)
    if _frame_tagging_ok():
        gj, gt_ = np.nonzero(work.any(0))  # ground-truth pieces (g, t)
        gp = []
        for j, t in zip(gj.tolist(), gt_.tolist()):
            r = g_rles[j][t]
            gp.append(
                dict(
                    size=[r['size'][0], r['size'][1] + 1 + t * G + j],
                    counts=r['counts']))
        dp = []
        for i, j, t in zip(di.tolist(), dg.tolist(), dt_.tolist()):
            r = d_rles[i][t]
            dp.append(
                dict(
                    size=[r['size'][0], r['size'][1] + 1 + t * G + j],
                    counts=r['counts']))
        ious = np.asarray(mask_utils.iou(dp, gp, [0] * len(gp)))
        pi, pj = np.nonzero(ious > 0)  # only same-tag pairs can be > 0
        i, j, t = di[pi], dg[pi], dt_[pi]
        v = ious[pi, pj]
    else:  # one call per frame, all pairs of the frame
        i, j, t, v = [], [], [], []
        for f in np.unique(dt_).tolist():
            dl = np.flatnonzero(work[:, :, f].any(1))
            gl = np.flatnonzero(work[:, :, f].any(0))
            res = np.asarray(
                mask_utils.iou([d_rles[k][f] for k in dl.tolist()],
                               [g_rles[k][f] for k in gl.tolist()],
                               [0] * len(gl)))
            a, b = np.nonzero(res > 0)
            i.append(dl[a])
            j.append(gl[b])
            t.append(np.full(len(a), f))
            v.append(res[a, b])
        i, j, t, v = map(np.concatenate, (i, j, t, v))
    # iou = i / (a + b - i)  =>  i = iou (a + b) / (1 + iou), exact after
    # rounding (integers far below 2^53)
    sums = d_areas[i, t] + g_areas[j, t]
    inter = np.zeros((D, G), np.int64)
    np.add.at(inter, (i, j), np.rint(v * sums / (1. + v)).astype(np.int64))
    return inter


def video_iou(d_rles, g_rles, d_areas, g_areas, min_iou=None, allowed=None):
    """Video IoU of every prediction / ground-truth pair of one video.

    IoU = sum_t |d_t & g_t| / sum_t |d_t | g_t|, 0 when the union is empty
    (|d_t | g_t| = |d_t| + |g_t| - |d_t & g_t|, absent masks are empty):
    the official ``YTVISeval.computeIoU``, which walks each pair and frame
    with two ``merge`` and two ``area`` calls. Here each wanted mask is
    decoded once and the foreground intervals of the wanted pairs
    intersected in compiled code (pycocotools in one call per video
    without numba). With
    ``min_iou``, pairs whose bound sum_t min(|d_t|, |g_t|) / (union lower
    bound) is below it are not computed and get 0: they could not match at
    a threshold >= ``min_iou``.

    Args:
        d_rles (list[list]): D predictions, per frame a compressed RLE dict
            or None.
        g_rles (list[list]): G ground-truth tracks, same number of frames.
        d_areas (np.ndarray): (D, T) int64 per-frame mask areas.
        g_areas (np.ndarray): (G, T) int64 per-frame mask areas.
        min_iou (float, optional): skip pairs that cannot reach it.
        allowed (np.ndarray, optional): (D, G) bool, only these pairs are
            computed (the others get 0).

    Returns:
        np.ndarray: (D, G) float64 (exact, or 0 for skipped pairs).
    """
    D, G = len(d_rles), len(g_rles)
    if D == 0 or G == 0:
        return np.zeros((D, G))
    d_areas = np.asarray(d_areas, np.int64).reshape(D, -1)
    g_areas = np.asarray(g_areas, np.int64).reshape(G, -1)
    both = np.minimum(d_areas[:, None], g_areas[None])  # (D, G, T)
    total = d_areas.sum(1)[:, None] + g_areas.sum(1)[None, :]  # (D, G)
    cand = np.ones((D, G), bool)
    if min_iou is not None:
        bound = both.sum(2)
        # I / (A - I) grows with I: prune when even the bound fails
        cand = bound >= min_iou * (total - bound) * (1 - 1e-9)
    if allowed is not None:
        cand &= allowed
    work = (both > 0) & cand[:, :, None]
    inter = np.zeros((D, G), np.int64)
    if work.any():
        if _nb is not None:
            inter = _pair_intersections_nb(d_rles, g_rles, work)
        else:
            inter = _pair_intersections(d_rles, g_rles, work, d_areas, g_areas)
    union = total - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        ious = np.where(union > 0,
                        inter.astype(np.float64) / union.astype(np.float64),
                        0.)
    ious[~cand] = 0.
    return ious


#: whether :func:`videos_iou` can run (it needs numba)
HAVE_VIDEOS_IOU = _nb is not None


def videos_iou(d_table, g_table, d_rows, g_rows, min_iou=None, threads=2):
    """:func:`video_iou` of many videos in one compiled call per thread.

    Args:
        d_table, g_table (RLETable): the predictions' and the ground
            truth's masks, measured
            (:meth:`~vcl_mm.datasets.api_wrappers.rle_table.RLETable.measure`).
        d_rows (list[np.ndarray]): per video, (D, T) int64 rows of
            ``d_table`` (-1 where absent), D >= 1.
        g_rows (list[np.ndarray]): per video, (G, T) rows of ``g_table``.
        min_iou (float, optional): pairs that cannot reach it get 0 (the
            bound is tighter than :func:`video_iou`'s: per frame also the
            overlap of the masks' extents); the others are exact.
        threads (int): the kernels release the GIL.

    Returns:
        list[np.ndarray]: per video, (D, G) float64.
    """
    n = len(d_rows)
    nframes = np.array([r.shape[1] for r in d_rows], np.int64)
    dn = np.array([r.size for r in d_rows], np.int64)
    gn = np.array([r.size for r in g_rows], np.int64)
    pairs = np.array([len(a) * len(b) for a, b in zip(d_rows, g_rows)],
                     np.int64)
    doff, goff, ioff = (
        np.concatenate([[0], np.cumsum(x)]) for x in (dn, gn, pairs))
    cat = (lambda rs: np.concatenate([r.ravel() for r in rs]).astype(np.int64)
           if rs else np.zeros(0, np.int64))
    drows, grows = cat(d_rows), cat(g_rows)
    out = np.zeros(int(ioff[-1]), np.float64)
    args = (d_table.buf, d_table.starts, d_table.ends, d_table.areas,
            d_table.first, d_table.last, g_table.buf, g_table.starts,
            g_table.ends, g_table.areas, g_table.first, g_table.last, drows,
            doff, grows, goff, nframes, ioff,
            -1. if min_iou is None else float(min_iou))
    work = np.cumsum(pairs * nframes)
    parts = max(1, min(int(threads), n))
    cuts = [0] + [
        int(np.searchsorted(work, work[-1] * k / parts))
        for k in range(1, parts)
    ] + [n] if n else [0, 0]
    if parts == 1:
        _nb.nb_videos(*args, 0, n, out)
    else:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(parts - 1) as pool:
            jobs = [
                pool.submit(_nb.nb_videos, *args, a, b, out)
                for a, b in zip(cuts[1:-1], cuts[2:])
            ]
            _nb.nb_videos(*args, cuts[0], cuts[1], out)
            for j in jobs:
                j.result()
    return [
        out[a:b].reshape(len(d), len(g)) for a, b, d, g in zip(
            ioff[:-1].tolist(), ioff[1:].tolist(), d_rows, g_rows)
    ]
