"""Video IoU of mask tracks on compressed RLEs, the hot path of the
YouTube-VIS evaluation, in compiled code (numpy + numba): decode
compressed counts straight from an :class:`~vcl_mm.datasets.api_wrappers.
rle_table.RLETable` buffer into cumulative run ends
(:func:`~vcl_mm.datasets.api_wrappers.rle_table.decode_ends`, the one
decoder) and intersect the foreground intervals of the wanted pairs.

Callers choose: :func:`videos_iou` for all videos of two loaded APIs'
mask tables at once (``FastYTVISeval.evaluate``), :func:`video_iou` for
one video's RLE dicts (``FastYTVISeval.evaluate_video``); both run the
same kernel (:func:`nb_videos`).
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vcl_mm.datasets.api_wrappers.rle_table import RLETable, decode_ends
from vcl_mm.utils.compiled import njit_cached

__all__ = ['video_iou', 'videos_iou']


def _decode_ends(buf, a, e, cnts, m):  # pragma: no cover (compiled)
    """Decode ``buf[a:e]`` to ``cnts[m:]`` as cumulative run ends
    (:func:`~vcl_mm.datasets.api_wrappers.rle_table.decode_ends`);
    returns the new end."""
    k = decode_ends(buf, a, e, cnts, m)[0]
    if k < 0:
        raise ValueError('not valid compressed RLE counts')
    return k


def _first_fg(ends, i0, n, lo):  # pragma: no cover (compiled)
    """The first foreground run (odd index) of ``ends[i0:i0 + n]``
    that ends after pixel ``lo``."""
    a, b = 0, n
    while a < b:
        mid = (a + b) // 2
        if ends[i0 + mid] > lo:
            b = mid
        else:
            a = mid + 1
    return a + 1 if a % 2 == 0 else a


def _inter_ends(ends, ia, ea, ib, eb, lo, hi):  # pragma: no cover
    """|a & b| of two decoded RLEs (cumulative run ends
    ``ends[ia:ea]``, ``ends[ib:eb]``): their foreground intervals
    intersected in the window [lo, hi) outside which one of them has
    no foreground."""
    na, nb = ea - ia, eb - ib
    ja, jb = _first_fg(ends, ia, na, lo), _first_fg(ends, ib, nb, lo)
    tot = 0
    if ja >= na or jb >= nb:
        return tot
    pa, pb = ia + ja, ib + jb
    la, lb = ia + na, ib + nb
    sa, xa = ends[pa - 1], ends[pa]
    sb, xb = ends[pb - 1], ends[pb]
    while sa < hi and sb < hi:
        s, x = max(sa, sb), min(xa, xb)
        if x > s:
            tot += x - s
        if xa <= xb:
            pa += 2
            if pa >= la:
                break
            sa, xa = ends[pa - 1], ends[pa]
        else:
            pb += 2
            if pb >= lb:
                break
            sb, xb = ends[pb - 1], ends[pb]
    return tot


# compiled into nb_videos (loaded from the cache at import)
_jit = njit_cached(nogil=True)
_decode_ends, _first_fg, _inter_ends = map(
    _jit, (_decode_ends, _first_fg, _inter_ends))


@njit_cached(
    'void(' + ', '.join(['uint8[::1]'] + ['int64[::1]'] * 5 + ['uint8[::1]'] +
                        ['int64[::1]'] * 11) +
    ', float64, int64, int64, float64[::1])',
    nogil=True)
def nb_videos(dbuf, dst, den, dar, dlo, dhi, gbuf, gst, gen, gar, glo, ghi,
              drows, doff, grows, goff, nframes, ioff, min_iou, v0, v1,
              out):  # pragma: no cover (compiled)
    """Video IoU of videos ``v0:v1`` from two
    :class:`~vcl_mm.datasets.api_wrappers.rle_table.RLETable` (d: the
    predictions, g: the ground truth; strings, areas, extents).

    Video v: ``drows[doff[v]:doff[v + 1]]`` its (D, T) rows (row-major,
    -1 absent), likewise ``grows``; its (D, G) IoU goes to
    ``out[ioff[v]:]`` (row-major). A pair whose bound on the summed
    intersection (per frame min(|d|, |g|, overlap of the extents))
    cannot reach ``min_iou`` (< 0: none) gets 0, checked again after
    each frame with the exact intersections so far; the others are
    exact. Each wanted mask is decoded once per video."""
    # scratch for the largest video, allocated once
    cap, dn, gn = 1, 1, 1
    for v in range(v0, v1):
        c = 0
        for k in range(doff[v], doff[v + 1]):
            if drows[k] >= 0:
                c += den[drows[k]] - dst[drows[k]]
        for k in range(goff[v], goff[v + 1]):
            if grows[k] >= 0:
                c += gen[grows[k]] - gst[grows[k]]
        cap = max(cap, c)
        dn = max(dn, doff[v + 1] - doff[v])
        gn = max(gn, goff[v + 1] - goff[v])
    cnts = np.empty(cap, np.int64)
    dpos, dend = np.empty(dn, np.int64), np.empty(dn, np.int64)
    gpos, gend = np.empty(gn, np.int64), np.empty(gn, np.int64)
    totd, totg = np.empty(dn, np.int64), np.empty(gn, np.int64)
    for v in range(v0, v1):
        T = nframes[v]
        if T == 0:
            continue
        D = (doff[v + 1] - doff[v]) // T
        G = (goff[v + 1] - goff[v]) // T
        dr = drows[doff[v]:doff[v + 1]]
        gr = grows[goff[v]:goff[v + 1]]
        totd[:D] = 0
        totg[:G] = 0
        for k in range(D * T):
            if dr[k] >= 0:
                totd[k // T] += dar[dr[k]]
        for k in range(G * T):
            if gr[k] >= 0:
                totg[k // T] += gar[gr[k]]
        dpos[:D * T] = -1
        gpos[:G * T] = -1
        m = 0
        for d in range(D):
            for g in range(G):
                bound = 0
                for t in range(T):
                    rd, rg = dr[d * T + t], gr[g * T + t]
                    if rd < 0 or rg < 0:
                        continue
                    hi = min(dhi[rd], ghi[rg]) - max(dlo[rd], glo[rg])
                    if hi > 0:
                        bound += min(dar[rd], gar[rg], hi)
                tot = totd[d] + totg[g]
                o = ioff[v] + d * G + g
                out[o] = 0.
                if bound == 0 or (min_iou >= 0 and not bound >= min_iou *
                                  (tot - bound) * (1 - 1e-9)):
                    continue
                inter, rest, lost = 0, bound, False
                for t in range(T):
                    a, b = d * T + t, g * T + t
                    rd, rg = dr[a], gr[b]
                    if rd < 0 or rg < 0 or min(dar[rd], gar[rg]) == 0:
                        continue
                    lo = max(dlo[rd], glo[rg])
                    hi = min(dhi[rd], ghi[rg])
                    if hi <= lo:
                        continue
                    # what is left of the bound after this frame
                    rest -= min(dar[rd], gar[rg], hi - lo)
                    if dpos[a] < 0:
                        dpos[a] = m
                        m = _decode_ends(dbuf, dst[rd], den[rd], cnts, m)
                        dend[a] = m
                    if gpos[b] < 0:
                        gpos[b] = m
                        m = _decode_ends(gbuf, gst[rg], gen[rg], cnts, m)
                        gend[b] = m
                    inter += _inter_ends(cnts, dpos[a], dend[a], gpos[b],
                                         gend[b], lo, hi)
                    up = inter + rest
                    if min_iou >= 0 and not up >= min_iou * (tot -
                                                             up) * (1 - 1e-9):
                        lost = True  # cannot reach min_iou any more
                        break
                union = tot - inter
                if union > 0 and not lost:
                    out[o] = np.float64(inter) / np.float64(union)


def _rows(tracks, start):
    """(N, T) int64 rows of the present masks of ``tracks`` (track by
    track, frame by frame, numbered from ``start``), -1 where absent."""
    here = np.array([[r is not None for r in rles] for rles in tracks],
                    bool).reshape(len(tracks), -1)
    rows = np.full(here.shape, -1, np.int64)
    rows[here] = np.arange(start, start + np.count_nonzero(here))
    return rows


def video_iou(d_rles, g_rles, min_iou=None):
    """Video IoU of every prediction / ground-truth pair of one video
    (:func:`videos_iou` of one video, its masks in one table).

    Args:
        d_rles (list[list]): D predictions, per frame a compressed RLE dict
            or None.
        g_rles (list[list]): G ground-truth tracks, same number of frames.
        min_iou (float, optional): pairs that cannot reach it get 0.

    Returns:
        np.ndarray: (D, G) float64.
    """
    D, G = len(d_rles), len(g_rles)
    if D == 0 or G == 0:
        return np.zeros((D, G))
    d_rows = _rows(d_rles, 0)
    g_rows = _rows(g_rles, np.count_nonzero(d_rows >= 0))
    table, bad = RLETable.from_counts([
        r['counts'] for rles in (*d_rles, *g_rles) for r in rles
        if r is not None
    ])
    if bad:
        raise ValueError(f'compressed RLE counts {bad[0]} is not ASCII')
    table.measure(threads=1)
    return videos_iou(table, table, [d_rows], [g_rows], min_iou, 1)[0]


def videos_iou(d_table, g_table, d_rows, g_rows, min_iou=None, threads=2):
    """Video IoU of many videos in one compiled call per thread.

    IoU = sum_t |d_t & g_t| / sum_t |d_t | g_t|, 0 when the union is empty
    (absent masks are empty): the official ``YTVISeval.computeIoU``, which
    walks each pair and frame with two pycocotools ``merge`` and two
    ``area`` calls. Here each wanted mask is decoded once per video and the
    foreground intervals of the pairs intersected in compiled code.

    Args:
        d_table, g_table (RLETable): the predictions' and the ground
            truth's masks, measured
            (:meth:`~vcl_mm.datasets.api_wrappers.rle_table.RLETable.measure`).
        d_rows (list[np.ndarray]): per video, (D, T) int64 rows of
            ``d_table`` (-1 where absent), D >= 1.
        g_rows (list[np.ndarray]): per video, (G, T) rows of ``g_table``.
        min_iou (float, optional): pairs that cannot reach it get 0 (a
            bound on the summed intersections: per frame the smaller area
            and the overlap of the masks' extents); the others are exact.
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
        nb_videos(*args, 0, n, out)
    else:
        with ThreadPoolExecutor(parts - 1) as pool:
            jobs = [
                pool.submit(nb_videos, *args, a, b, out)
                for a, b in zip(cuts[1:-1], cuts[2:])
            ]
            nb_videos(*args, cuts[0], cuts[1], out)
            for j in jobs:
                j.result()
    return [
        out[a:b].reshape(len(d), len(g)) for a, b, d, g in zip(
            ioff[:-1].tolist(), ioff[1:].tolist(), d_rows, g_rows)
    ]
