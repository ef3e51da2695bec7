"""The compiled kernels of the video IoU (numba): decode compressed RLE
strings straight from a buffer into cumulative run ends
(:func:`vcl_mm.datasets.api_wrappers.rle_table.decode_ends`, the one
decoder) and intersect the foreground intervals of two decoded masks,
for the wanted pairs of one video (:func:`nb_decode`,
:func:`nb_intersect`) or of many videos from two mask tables
(:func:`nb_videos`). Used by :mod:`.rle_iou`; import this module only
where numba is installed. numpy + numba."""
import numba as _nb
import numpy as np

from vcl_mm.datasets.api_wrappers.rle_table import decode_ends
from vcl_mm.utils.compiled import njit_cached

__all__ = ['nb_decode', 'nb_intersect', 'nb_videos']


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


_jit = njit_cached(nogil=True)
_decode_ends, _first_fg, _inter_ends = map(
    _jit, (_decode_ends, _first_fg, _inter_ends))


# :func:`video_iou`'s kernels load from the cache on first use; the
# :func:`videos_iou` one (explicit signature) at import
@njit_cached(nogil=True)
def nb_decode(buf, offs):  # pragma: no cover (compiled)
    """Decode compressed RLE strings: ``buf[offs[k]:offs[k + 1]]`` is
    string k; returns the flat cumulative run ends and their offsets
    (k's are ``ends[coff[k]:coff[k + 1]]``)."""
    n = len(offs) - 1
    ends = np.empty(len(buf), np.int64)
    coff = np.empty(n + 1, np.int64)
    m = 0
    for k in range(n):
        coff[k] = m
        m = _decode_ends(buf, offs[k], offs[k + 1], ends, m)
    coff[n] = m
    return ends, coff


@njit_cached(nogil=True)
def nb_intersect(ends, coff, qa, qb):  # pragma: no cover (compiled)
    """|a & b| in pixels for each pair (qa[k], qb[k]) of decoded RLEs."""
    out = np.zeros(len(qa), np.int64)
    big = np.int64(1) << 62
    for k in range(len(qa)):
        out[k] = _inter_ends(ends, coff[qa[k]], coff[qa[k] + 1], coff[qb[k]],
                             coff[qb[k] + 1], 0, big)
    return out


@njit_cached(
    'void(' + ', '.join(['uint8[::1]'] + ['int64[::1]'] * 5 + ['uint8[::1]'] +
                        ['int64[::1]'] * 11) +
    ', float64, int64, int64, float64[::1])',
    nogil=True)
def nb_videos(dbuf, dst, den, dar, dlo, dhi, gbuf, gst, gen, gar, glo, ghi,
              drows, doff, grows, goff, nframes, ioff, min_iou, v0, v1,
              out):  # pragma: no cover (compiled)
    """:func:`video_iou` of videos ``v0:v1`` from two
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
