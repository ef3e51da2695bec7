"""Fast reading of RLE-heavy JSON files (YouTube-VIS ground truth) and RLE
statistics, in compiled code (numba + numpy).

Most of a YouTube-VIS ground-truth file is run-length lists (``"counts":
[...]``, one Python int per run once parsed by ``json``).
:func:`load_rle_json` scans the raw bytes once, encodes every ``"counts"``
list to pycocotools' compressed string as ``pycocotools.mask.frPyObjects``
does (``rleToString``), and hands ``json`` the rest with each such list
replaced by its index; the counts come back as ``bytes`` together with
their total run length (to check against height x width) and foreground
area. Compressed counts strings are left to ``json`` (a results file has
its own scanner, :mod:`.results_json`); :func:`rle_string_stats`
measures them afterwards with :class:`.rle_table.RLETable` (the one
decoder of compressed counts). Anything the scanner does not expect
(negative, fractional or too large run lengths, broken JSON) makes it step
aside: the file is then read by ``json`` as it is.
"""
import json

import numpy as np

from vcl_mm.utils.compiled import njit_cached

from .results_json import map_buffer
from .rle_table import RLETable as _Table

try:
    import numba as _nb
except ImportError:  # pragma: no cover
    _nb = None

__all__ = [
    'load_rle_json', 'scan_rle_json', 'resolve_counts', 'rle_string_stats',
    'HAVE_NUMBA'
]

HAVE_NUMBA = _nb is not None

# scanner status codes
_OK, _FALLBACK, _GROW = 0, 1, 2

if _nb is not None:

    @njit_cached(nogil=True)  # compiled into _scan
    def _put_int(out, o, v, cap):  # pragma: no cover (compiled)
        """Write decimal ``v`` >= 0 at ``out[o:]``; return the new end
        (-1 when ``cap`` is reached)."""
        tmp = np.empty(20, np.uint8)
        n = 0
        while True:
            tmp[n] = 48 + v % 10
            n += 1
            v //= 10
            if v == 0:
                break
        if o + n > cap:
            return -1
        for k in range(n):
            out[o + k] = tmp[n - 1 - k]
        return o + n

    # the source may be a read-only mapping (map_buffer(writable=False))
    _SRC = [
        _nb.types.Array(_nb.types.uint8, 1, 'C', readonly=ro)
        for ro in (True, False)
    ]
    _U8, _I64 = _nb.uint8[::1], _nb.int64[::1]
    _FIND_SIGS = [_nb.int64(src, _U8) for src in _SRC]
    _SCAN_SIGS = [
        _nb.types.UniTuple(_nb.int64, 4)(src, _U8, _U8, _I64, _I64, _I64,
                                         _I64, _I64) for src in _SRC
    ]

    @njit_cached(_FIND_SIGS, nogil=True)
    def _find(src, key):  # pragma: no cover (compiled)
        """The first index of ``key`` in ``src``, -1 if absent."""
        n, m = len(src), len(key)
        for i in range(n - m + 1):
            j = 0
            while j < m and src[i + j] == key[j]:
                j += 1
            if j == m:
                return i
        return -1

    @njit_cached(_SCAN_SIGS, nogil=True)
    def _scan(src, out, cbuf, coff, totals, areas, first,
              last):  # pragma: no cover
        """Copy ``src`` to ``out`` with every ``"counts"`` list replaced by
        its index; their compressed strings go to ``cbuf`` (string k is
        ``cbuf[coff[k]:coff[k + 1]]``), with their run totals, areas and
        foreground extents. Returns (status, out length, number of counts,
        cbuf length)."""
        n, cap_o, cap_c, cap_k = len(src), len(out), len(cbuf), len(totals)
        lo, hi = np.int64(-1), np.int64(0)
        i, o, k, q = 0, 0, 0, 0
        coff[0] = 0
        while i < n:
            ch = src[i]
            if ch != 34:  # not '"'
                if o >= cap_o:
                    return _GROW, o, k, q
                out[o] = ch
                o += 1
                i += 1
                continue
            j = i + 1
            while j < n and src[j] != 34:
                j += 2 if src[j] == 92 else 1  # skip escapes
            if j >= n:
                return _FALLBACK, o, k, q
            if o + (j - i + 1) > cap_o:
                return _GROW, o, k, q
            key = (j - i - 1 == 6 and src[i + 1] == 99 and src[i + 2] == 111
                   and src[i + 3] == 117 and src[i + 4] == 110
                   and src[i + 5] == 116 and src[i + 6] == 115)  # counts
            for m in range(i, j + 1):
                out[o] = src[m]
                o += 1
            i = j + 1
            if not key:
                continue
            p = i
            while p < n and (src[p] == 32 or src[p] == 10 or src[p] == 13
                             or src[p] == 9):
                p += 1
            if p >= n or src[p] != 58:  # ':' -- a value, not a key
                continue
            p += 1
            while p < n and (src[p] == 32 or src[p] == 10 or src[p] == 13
                             or src[p] == 9):
                p += 1
            if p >= n:
                return _FALLBACK, o, k, q
            if k + 1 >= cap_k:
                return _GROW, o, k, q
            if src[p] == 91:  # '[': run lengths, encode (rleToString)
                p += 1
                idx = 0
                c1, c2 = np.int64(0), np.int64(0)
                total, area = np.int64(0), np.int64(0)
                lo, hi = np.int64(-1), np.int64(0)
                while True:
                    while p < n and (src[p] == 32 or src[p] == 10
                                     or src[p] == 13 or src[p] == 9):
                        p += 1
                    if p >= n:
                        return _FALLBACK, o, k, q
                    if src[p] == 93:  # ']'
                        p += 1
                        break
                    if idx > 0:
                        if src[p] != 44:  # ','
                            return _FALLBACK, o, k, q
                        p += 1
                        while p < n and (src[p] == 32 or src[p] == 10
                                         or src[p] == 13 or src[p] == 9):
                            p += 1
                    v, digits = np.int64(0), 0
                    while p < n and src[p] >= 48 and src[p] <= 57:
                        v = v * 10 + (src[p] - 48)
                        digits += 1
                        p += 1
                        if digits > 10:
                            return _FALLBACK, o, k, q
                    if digits == 0 or v > 0xffffffff:
                        return _FALLBACK, o, k, q
                    if p < n and (src[p] == 46 or src[p] == 101
                                  or src[p] == 69):  # . e E
                        return _FALLBACK, o, k, q
                    x = v
                    if idx > 2:
                        x -= c2
                    more = True
                    while more:
                        c = x & 0x1f
                        x >>= 5
                        more = (x != -1) if (c & 0x10) else (x != 0)
                        if more:
                            c |= 0x20
                        if q >= cap_c:
                            return _GROW, o, k, q
                        cbuf[q] = c + 48
                        q += 1
                    if idx % 2 == 1 and v > 0:
                        area += v
                        if lo < 0:
                            lo = total
                        hi = total + v
                    total += v
                    c2, c1 = c1, v
                    idx += 1
                totals[k] = total
                areas[k] = area
                first[k], last[k] = max(lo, 0), hi
                i = p
            else:  # a string (compressed), null, ...: left to json
                continue
            if o >= cap_o:
                return _GROW, o, k, q
            out[o] = 58  # ':'
            o = _put_int(out, o + 1, k, cap_o)
            if o < 0:
                return _GROW, 0, k, q
            k += 1
            coff[k] = q
        return _OK, o, k, q


def resolve_counts(obj, table, index=None):
    """Replace the counts rows left by :func:`scan_rle_json` in ``obj`` by
    their bytes, in place; fills ``index`` (id(rle dict) -> row)."""
    index = {} if index is None else index
    stack = [obj]
    counts = table.all_counts()
    while stack:
        x = stack.pop()
        if type(x) is dict:
            c = x.get('counts')
            if type(c) is int and 'size' in x:
                x['counts'] = counts[c]
                index[id(x)] = c
            else:
                stack.extend(v for v in x.values()
                             if type(v) in (dict, list))
        elif type(x) is list:
            stack.extend(v for v in x if type(v) in (dict, list))


def scan_rle_json(path):
    """Parse a JSON file whose mask counts are the bulk of it, leaving
    each ``"counts"`` list as its row in a table.

    Returns:
        tuple: (the parsed object, with each RLE's ``counts`` list replaced
        by its row (int) in the table, rows 0, 1, ... in file order;
        :class:`.rle_table.RLETable` of their compressed strings, measured:
        totals, areas, extents). Without numba, or for input the scanner
        does not expect (or without counts lists), the plain ``json``
        result and None.
    """
    src = map_buffer(path, writable=False)  # only read: nothing copied
    if _nb is None:
        return json.loads(src.tobytes()), None
    key = np.frombuffer(bytearray(b'"counts"'), np.uint8)
    at = _find(src, key)
    if at < 0 or bytes(src[at + 8:at + 32]).lstrip(b' \t\r\n:')[:1] != b'[':
        return json.loads(src.tobytes()), None  # compressed: json
    # compressed strings take a fifth of the lists' text in YouTube-VIS
    out_cap, c_cap, num = len(src) + 1024, len(src) // 4 + 1024, (
        len(src) // 64 + 16)
    while True:
        out = np.empty(out_cap, np.uint8)
        cbuf = np.empty(c_cap, np.uint8)
        coff = np.empty(num + 1, np.int64)
        stats = [np.empty(num, np.int64) for _ in range(4)]
        status, o, k, q = _scan(src, out, cbuf, coff, *stats)
        if status == _GROW:
            out_cap, c_cap, num = out_cap * 2, c_cap * 4, num * 4
            continue
        break
    if status != _OK:
        return json.loads(src.tobytes()), None
    del src
    obj = json.loads(out[:o].tobytes())
    del out
    table = _Table(cbuf[:q], coff[:k].copy(), coff[1:k + 1].copy())
    table.totals, table.areas, table.first, table.last = (
        x[:k].copy() for x in stats)
    return obj, table


def load_rle_json(path):
    """Parse a JSON file whose mask counts are the bulk of it.

    Returns:
        tuple: (the parsed object with every RLE's ``counts`` as compressed
        ``bytes``, :class:`.rle_table.RLETable` or None, dict id(rle dict)
        -> row in the table). Without numba, or for input the scanner does
        not expect, the plain ``json`` result, None and {}.
    """
    obj, table = scan_rle_json(path)
    index = {}
    if table is not None:
        resolve_counts(obj, table, index)
    return obj, table, index


def rle_string_stats(counts):
    """Total runs and foreground area of compressed counts strings.

    Args:
        counts (list[bytes | str]): compressed ``counts``.

    Returns:
        tuple: (N,) int64 totals (-1 where the string is not valid
        compressed RLE), (N,) int64 areas and the N strings as bytes; None
        when numba is missing.
    """
    if _nb is None:
        return None
    table, bad = _Table.from_counts(counts)
    table.measure()
    table.totals[bad] = -1
    return table.totals, table.areas, table.all_counts()
