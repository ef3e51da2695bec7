"""Fast reading of RLE-heavy JSON files (YouTube-VIS ground truth) and RLE
statistics, in compiled code (numba + numpy).

Most of a YouTube-VIS ground-truth file is run-length lists (``"counts":
[...]``, one Python int per run once parsed by ``json``).
:func:`load_rle_json` scans the raw bytes once, encodes every ``"counts"``
list to pycocotools' compressed string as ``pycocotools.mask.frPyObjects``
does (``rleToString``), and hands ``json`` the rest with each such list
replaced by its index; the counts come back as ``bytes`` together with
their total run length (to check against height x width) and foreground
area. Compressed counts strings (results) are left to ``json``, which
reads them faster than a scan; :func:`rle_string_stats` measures them
afterwards in one compiled pass. Anything the scanner does not expect
(negative, fractional or too large run lengths, broken JSON) makes it step
aside: the file is then read by ``json`` as it is.
"""
import json

import numpy as np

try:
    import numba as _nb
except ImportError:  # pragma: no cover
    _nb = None

__all__ = ['load_rle_json', 'rle_string_stats', 'HAVE_NUMBA']

HAVE_NUMBA = _nb is not None

# scanner status codes
_OK, _FALLBACK, _GROW = 0, 1, 2

if _nb is not None:

    @_nb.njit('int64(uint8[:], int64, int64, int64)', cache=True,
              nogil=True)
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

    @_nb.njit('Tuple((int64, int64, int64))(uint8[:], int64, int64)',
              cache=True, nogil=True)
    def _decode_stats(buf, a, e):  # pragma: no cover (compiled)
        """(total runs, foreground area, ok) of the compressed string
        ``buf[a:e]`` (pycocotools' ``rleFrString``, uint32 counts)."""
        p, j = a, 0
        c1, c2 = np.int64(0), np.int64(0)  # counts j-1, j-2
        total, area = np.int64(0), np.int64(0)
        while p < e:
            x, sh, more, length = np.int64(0), 0, True, 0
            while more:
                if p >= e:
                    return 0, 0, 0  # unfinished number
                c = np.int64(buf[p]) - 48
                if c < 0 or c > 63:
                    return 0, 0, 0
                length += 1
                if length > 12:
                    return 0, 0, 0
                x |= (c & 0x1f) << sh
                more = (c & 0x20) != 0
                p += 1
                sh += 5
                if not more and (c & 0x10):
                    x |= np.int64(-1) << sh
            if j > 2:
                x += c2
            x &= 0xffffffff
            total += x
            if j % 2 == 1:
                area += x
            c2, c1 = c1, x
            j += 1
        return total, area, 1

    @_nb.njit('Tuple((int64[:], int64[:]))(uint8[:], int64[:])', cache=True,
              nogil=True)
    def _strings_stats(buf, offs):  # pragma: no cover (compiled)
        n = len(offs) - 1
        totals = np.empty(n, np.int64)
        areas = np.empty(n, np.int64)
        for k in range(n):
            t, a, ok = _decode_stats(buf, offs[k], offs[k + 1])
            totals[k] = t if ok else -1
            areas[k] = a if ok else 0
        return totals, areas

    @_nb.njit(
        'Tuple((int64, int64, int64, int64))(uint8[:], uint8[:], uint8[:],'
        ' int64[:], int64[:], int64[:])',
        cache=True,
        nogil=True)
    def _scan(src, out, cbuf, coff, totals, areas):  # pragma: no cover
        """Copy ``src`` to ``out`` with every ``"counts"`` list replaced by
        its index; their compressed strings go to ``cbuf`` (string k is
        ``cbuf[coff[k]:coff[k + 1]]``). Returns (status, out length,
        number of counts, cbuf length)."""
        n, cap_o, cap_c, cap_k = len(src), len(out), len(cbuf), len(totals)
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
                    total += v
                    if idx % 2 == 1:
                        area += v
                    c2, c1 = c1, v
                    idx += 1
                totals[k] = total
                areas[k] = area
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


class RLETable:
    """The counts found by :func:`load_rle_json`.

    Attributes:
        counts (list[bytes]): compressed counts strings, by index.
        totals (np.ndarray): (K,) int64 runs' total (-1: invalid string).
        areas (np.ndarray): (K,) int64 foreground pixels.
    """

    def __init__(self, counts, totals, areas):
        self.counts, self.totals, self.areas = counts, totals, areas


def _resolve(obj, table, index):
    """Replace the counts indices of ``obj`` by their bytes, in place;
    ``index`` maps id(rle dict) -> counts index."""
    stack = [obj]
    counts = table.counts
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


def load_rle_json(path):
    """Parse a JSON file whose mask counts are the bulk of it.

    Returns:
        tuple: (the parsed object with every RLE's ``counts`` as compressed
        ``bytes``, :class:`RLETable` or None, dict id(rle dict) -> index in
        the table). Without numba, or for input the scanner does not
        expect, the plain ``json`` result, None and {}.
    """
    with open(path, 'rb') as f:
        raw = f.read()
    if _nb is None:
        return json.loads(raw), None, {}
    src = np.frombuffer(bytearray(raw), np.uint8)
    first = raw.find(b'"counts"')
    if first < 0 or raw[first + 8:first + 32].lstrip(b' \t\r\n:')[:1] != b'[':
        return json.loads(raw), None, {}  # compressed (results): json
    num = raw.count(b'"counts"') + 2
    out_cap, c_cap = len(src) + 16 * num, len(src) // 2 + 1024
    while True:
        out = np.empty(out_cap, np.uint8)
        cbuf = np.empty(c_cap, np.uint8)
        coff = np.empty(num + 1, np.int64)
        totals = np.empty(num, np.int64)
        areas = np.empty(num, np.int64)
        status, o, k, q = _scan(src, out, cbuf, coff, totals, areas)
        if status == _GROW:
            out_cap, c_cap = out_cap * 2, c_cap * 4
            continue
        break
    if status != _OK:
        return json.loads(raw), None, {}
    del raw
    obj = json.loads(out[:o].tobytes())
    del out
    blob = cbuf[:q].tobytes()
    offs = coff[:k + 1].tolist()
    table = RLETable([blob[offs[m]:offs[m + 1]] for m in range(k)],
                     totals[:k].copy(), areas[:k].copy())
    index = {}
    _resolve(obj, table, index)
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
    n = len(counts)
    bad = []
    try:  # all ASCII str (a results file): one join, one encode
        blob = ''.join(counts).encode('ascii')
        strs = None
    except (TypeError, UnicodeEncodeError):
        strs = []
        for k, c in enumerate(counts):
            if type(c) is str:
                try:
                    c = c.encode('ascii')
                except UnicodeEncodeError:
                    bad.append(k)
                    c = b''
            strs.append(c)
        blob = b''.join(strs)
    offs = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, counts if strs is None else strs),
                          np.int64, n), out=offs[1:])
    buf = np.frombuffer(bytearray(blob), np.uint8)
    if not len(buf):
        buf = np.zeros(1, np.uint8)
    totals, areas = _halves_stats(buf, offs)
    totals[bad] = -1
    if strs is None:
        bounds = offs.tolist()
        strs = [blob[bounds[k]:bounds[k + 1]] for k in range(n)]
    return totals, areas, strs


def _halves_stats(buf, offs):
    """:func:`_strings_stats` in two threads for long inputs (the kernel
    releases the GIL)."""
    n = len(offs) - 1
    if n < 4096 or len(buf) < (1 << 22):
        return _strings_stats(buf, offs)
    from concurrent.futures import ThreadPoolExecutor
    m = n // 2
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(_strings_stats, buf, offs[m:])
        t0, a0 = _strings_stats(buf, offs[:m + 1])
        t1, a1 = second.result()
    return np.concatenate([t0, t1]), np.concatenate([a0, a1])
