"""Reading JSON files whose bulk is RLE run-length lists (the YouTube-VIS
ground truth), numpy + numba + orjson.

Kept (not ``orjson`` + ``pycocotools.mask.frPyObjects`` alone) because
parsing a run-length list builds one Python int per run and
``frPyObjects`` then walks them one frame per call: scanning the raw bytes
and encoding the lists in compiled code loads the YouTube-VIS-2019
ground truth several times faster (``benchmarks/eval_bench.py``).
:func:`load_rle_json` encodes every ``"counts"`` list to pycocotools'
compressed string as ``frPyObjects`` does (``rleToString``) and hands
``orjson`` the rest with each list replaced by its index. Anything the
scanner does not expect (negative, fractional or too large run lengths,
broken JSON) makes it step aside: the file is then parsed by ``orjson``
as it is (and the lists are encoded later, by pycocotools).
"""
import mmap
import os

import numba as _nb
import numpy as np
import orjson

from vcl_mm.utils.compiled import njit_cached

__all__ = ['load_rle_json', 'map_buffer']

# scanner status codes
_OK, _FALLBACK, _GROW = 0, 1, 2


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
    _nb.types.UniTuple(_nb.int64, 4)(src, _U8, _U8, _I64) for src in _SRC
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
def _scan(src, out, cbuf, coff):  # pragma: no cover (compiled)
    """Copy ``src`` to ``out`` with every ``"counts"`` list replaced by
    its index; their compressed strings go to ``cbuf`` (string k is
    ``cbuf[coff[k]:coff[k + 1]]``). Returns (status, out length, number of counts,
    cbuf length)."""
    n, cap_o, cap_c, cap_k = len(src), len(out), len(cbuf), len(coff) - 1
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
                c2, c1 = c1, v
                idx += 1
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



def map_buffer(path):
    """A file mapped read-only as a uint8 array (the page cache's own
    pages, read ahead by the kernel where it can; nothing copied)."""
    with open(path, 'rb') as f:
        size = os.fstat(f.fileno()).st_size
        if not size:
            return np.zeros(0, np.uint8)
        flags = mmap.MAP_SHARED | getattr(mmap, 'MAP_POPULATE', 0)
        mapped = mmap.mmap(
            f.fileno(), size, flags=flags, prot=mmap.PROT_READ)
    return np.frombuffer(mapped, np.uint8)


def _resolve_counts(obj, cbuf, coff):
    """Replace the counts rows left by :func:`_scan` in ``obj`` by their
    compressed strings (bytes), in place."""
    raw = cbuf.tobytes()
    offs = coff.tolist()
    stack = [obj]
    while stack:
        x = stack.pop()
        if type(x) is dict:
            c = x.get('counts')
            if type(c) is int and 'size' in x:
                x['counts'] = raw[offs[c]:offs[c + 1]]
            else:
                stack.extend(v for v in x.values()
                             if type(v) in (dict, list))
        elif type(x) is list:
            stack.extend(v for v in x if type(v) in (dict, list))


def load_rle_json(path):
    """Parse a JSON file, with every ``"counts"`` list of run lengths
    encoded on the way to pycocotools' compressed string (bytes, as
    ``pycocotools.mask.frPyObjects``).

    The raw bytes are scanned once in compiled code; the rest (and a file
    without counts lists, or with lists the scanner does not take:
    negative, fractional or too large runs) is parsed by ``orjson``.

    Raises:
        orjson.JSONDecodeError: (a ValueError) the file is not valid JSON.
    """
    src = map_buffer(path)
    key = np.frombuffer(bytearray(b'"counts"'), np.uint8)
    at = _find(src, key)
    if at < 0 or bytes(src[at + 8:at + 32]).lstrip(b' \t\r\n:')[:1] != b'[':
        return orjson.loads(memoryview(src))  # no counts lists
    # compressed strings take a fifth of the lists' text in YouTube-VIS
    out_cap, c_cap, num = len(src) + 1024, len(src) // 4 + 1024, (
        len(src) // 64 + 16)
    while True:
        out = np.empty(out_cap, np.uint8)
        cbuf = np.empty(c_cap, np.uint8)
        coff = np.empty(num + 1, np.int64)
        status, o, k, q = _scan(src, out, cbuf, coff)
        if status == _GROW:
            out_cap, c_cap, num = out_cap * 2, c_cap * 4, num * 4
            continue
        break
    if status != _OK:
        return orjson.loads(memoryview(src))
    del src
    obj = orjson.loads(memoryview(out[:o]))
    del out
    _resolve_counts(obj, cbuf[:q], coff[:k + 1])
    return obj
