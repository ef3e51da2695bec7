"""Fast reading of a YouTube-VIS results file in compiled code (numba).

A results file is a JSON list of ``{"video_id": int, "score": number,
"category_id": int, "segmentations": [{"size": [h, w], "counts": str} |
null, ...]}``, nearly all of it compressed counts strings. Building one
Python dict and str per frame is most of the time ``json`` takes, so
:func:`scan_results` reads the raw bytes once and returns arrays instead:
per result the ids, the byte range of the score and its frames; per frame
the size and the byte range of its counts string in the file's buffer (an
:class:`.rle_table.RLETable` over the file's own bytes).

The scanner accepts only that layout (any key order and whitespace, each
key once, plain strings): anything else (other keys, escapes in strings,
list-form counts, numbers where ints belong, broken JSON) makes it return
None, and the caller reads the file with ``json`` instead, with the same
result (:class:`.ytvis_api.ResultsFile`).
"""
import numpy as np

from vcl_mm.utils.compiled import njit_cached

try:
    import numba as _nb
except ImportError:  # pragma: no cover
    _nb = None

__all__ = [
    'read_buffer', 'map_buffer', 'scan_results', 'ScannedResults'
]

_OK, _FALLBACK, _GROW = 0, 1, 2
# keys of a result (bits of the "seen" mask) and of a frame RLE
_VID, _SCORE, _CAT, _SEGS = 1, 2, 4, 8
_SIZE, _COUNTS = 1, 2
_N_VID, _N_SCORE, _N_CAT, _N_SEGS, _N_SIZE, _N_COUNTS = (
    tuple(k) for k in (b'video_id', b'score', b'category_id',
                       b'segmentations', b'size', b'counts'))


def _ws(b, i, n):  # pragma: no cover (compiled)
    while i < n and (b[i] == 32 or b[i] == 10 or b[i] == 13 or b[i] == 9):
        i += 1
    return i


def _is(b, s, m, name):  # pragma: no cover (compiled)
    if m != len(name):
        return False
    for k in range(m):
        if b[s + k] != name[k]:
            return False
    return True


def _key(b, i, n):  # pragma: no cover (compiled)
    """The key starting at ``b[i] == '"'``: (code, index after the closing
    quote); code 0 for other keys, -1 for escapes or unfinished text."""
    j = i + 1
    while j < n and b[j] != 34:
        if b[j] == 92 or b[j] < 32:
            return -1, j
        j += 1
    if j >= n:
        return -1, j
    s, m = i + 1, j - i - 1
    code = 0
    if _is(b, s, m, _N_VID):
        code = 101
    elif _is(b, s, m, _N_SCORE):
        code = 102
    elif _is(b, s, m, _N_CAT):
        code = 103
    elif _is(b, s, m, _N_SEGS):
        code = 104
    elif _is(b, s, m, _N_SIZE):
        code = 201
    elif _is(b, s, m, _N_COUNTS):
        code = 202
    return code, j + 1


def _int(b, i, n):  # pragma: no cover (compiled)
    """A JSON integer (no fraction or exponent, at most 18 digits) at
    ``b[i]``: (value, next index), next index -1 otherwise."""
    neg = False
    if i < n and b[i] == 45:
        neg = True
        i += 1
    s, v = i, np.int64(0)
    while i < n and b[i] >= 48 and b[i] <= 57:
        v = v * 10 + (b[i] - 48)
        i += 1
    d = i - s
    if d == 0 or d > 18 or (d > 1 and b[s] == 48):
        return v, -1
    if i < n and (b[i] == 46 or b[i] == 101 or b[i] == 69):
        return v, -1
    return (-v if neg else v), i


def _number(b, i, n):  # pragma: no cover (compiled)
    """The end of a JSON number at ``b[i]`` (the strict grammar), -1 if
    there is none."""
    if i < n and b[i] == 45:
        i += 1
    s = i
    while i < n and b[i] >= 48 and b[i] <= 57:
        i += 1
    if i == s or (i - s > 1 and b[s] == 48):
        return -1
    if i < n and b[i] == 46:
        i += 1
        s = i
        while i < n and b[i] >= 48 and b[i] <= 57:
            i += 1
        if i == s:
            return -1
    if i < n and (b[i] == 101 or b[i] == 69):
        i += 1
        if i < n and (b[i] == 43 or b[i] == 45):
            i += 1
        s = i
        while i < n and b[i] >= 48 and b[i] <= 57:
            i += 1
        if i == s:
            return -1
    return i


def _rle(b, i, n, f, fh, fw, fs, fe):  # pragma: no cover (compiled)
    """A ``{"size": [h, w], "counts": "..."}`` frame at ``b[i] == '{'``
    into frame row ``f``; returns the next index, -1 to fall back."""
    i = _ws(b, i + 1, n)
    seen = 0
    while True:
        if i >= n or b[i] != 34:
            return -1
        code, i = _key(b, i, n)
        i = _ws(b, i, n)
        if code < 0 or i >= n or b[i] != 58:
            return -1
        i = _ws(b, i + 1, n)
        if code == 201 and not seen & _SIZE:
            seen |= _SIZE
            if i >= n or b[i] != 91:
                return -1
            h, i = _int(b, _ws(b, i + 1, n), n)
            if i < 0:
                return -1
            i = _ws(b, i, n)
            if i >= n or b[i] != 44:
                return -1
            w, i = _int(b, _ws(b, i + 1, n), n)
            if i < 0:
                return -1
            i = _ws(b, i, n)
            if i >= n or b[i] != 93:
                return -1
            i += 1
            fh[f], fw[f] = h, w
        elif code == 202 and not seen & _COUNTS:
            seen |= _COUNTS
            if i >= n or b[i] != 34:
                return -1
            # up to the first escape nothing moves; control, non-ASCII
            # and other non-RLE characters are left to the decoder
            # (:meth:`.rle_table.RLETable.measure`: invalid, and the file
            # is read by json)
            j = i + 1
            while j < n and b[j] != 34 and b[j] != 92:
                j += 1
            o = j
            while j < n and b[j] != 34:  # unescape in place: \\ -> \
                c = b[j]
                if c == 92:
                    if j + 1 < n and b[j + 1] == 92:
                        b[o] = 92
                        o += 1
                        j += 2
                        continue
                    return -1  # other escapes: json
                b[o] = c
                o += 1
                j += 1
            if j >= n:
                return -1
            fs[f], fe[f] = i + 1, o
            i = j + 1
        else:
            return -1
        i = _ws(b, i, n)
        if i < n and b[i] == 44:
            i = _ws(b, i + 1, n)
            continue
        if i < n and b[i] == 125 and seen == _SIZE | _COUNTS:
            return i + 1
        return -1


def _scan(b, vid, cat, sa, se, flo, fh, fw, fs, fe):  # pragma: no cover
    """Scan a results list; returns (status, results, frames).
    ``flo[r]:flo[r + 1]`` are result r's frames."""
    n, cap_r, cap_f = len(b), len(vid), len(fh)
    i = _ws(b, 0, n)
    if i >= n or b[i] != 91:
        return _FALLBACK, 0, 0
    i = _ws(b, i + 1, n)
    r, f = 0, 0
    flo[0] = 0
    while True:
        if i >= n or b[i] != 123 or r >= cap_r:
            return (_GROW if r >= cap_r else _FALLBACK), r, f
        i = _ws(b, i + 1, n)
        seen = 0
        while True:
            if i >= n or b[i] != 34:
                return _FALLBACK, r, f
            code, i = _key(b, i, n)
            i = _ws(b, i, n)
            if code < 0 or i >= n or b[i] != 58:
                return _FALLBACK, r, f
            i = _ws(b, i + 1, n)
            if code == 101 and not seen & _VID:
                seen |= _VID
                vid[r], i = _int(b, i, n)
            elif code == 103 and not seen & _CAT:
                seen |= _CAT
                cat[r], i = _int(b, i, n)
            elif code == 102 and not seen & _SCORE:
                seen |= _SCORE
                sa[r] = i
                i = _number(b, i, n)
                se[r] = i
            elif code == 104 and not seen & _SEGS:
                seen |= _SEGS
                if i >= n or b[i] != 91:
                    return _FALLBACK, r, f
                i = _ws(b, i + 1, n)
                if i < n and b[i] == 93:
                    i += 1
                else:
                    while True:
                        if f >= cap_f:
                            return _GROW, r, f
                        if (i + 3 < n and b[i] == 110 and b[i + 1] == 117
                                and b[i + 2] == 108 and b[i + 3] == 108):
                            fs[f], fe[f], fh[f], fw[f] = -1, -1, 0, 0
                            i += 4
                        elif i < n and b[i] == 123:
                            i = _rle(b, i, n, f, fh, fw, fs, fe)
                            if i < 0:
                                return _FALLBACK, r, f
                        else:
                            return _FALLBACK, r, f
                        f += 1
                        i = _ws(b, i, n)
                        if i < n and b[i] == 44:
                            i = _ws(b, i + 1, n)
                            continue
                        if i < n and b[i] == 93:
                            i += 1
                            break
                        return _FALLBACK, r, f
            else:
                return _FALLBACK, r, f
            if i < 0:
                return _FALLBACK, r, f
            i = _ws(b, i, n)
            if i < n and b[i] == 44:
                i = _ws(b, i + 1, n)
                continue
            if i < n and b[i] == 125:
                i += 1
                break
            return _FALLBACK, r, f
        if seen != _VID | _SCORE | _CAT | _SEGS:
            return _FALLBACK, r, f
        r += 1
        flo[r] = f
        i = _ws(b, i, n)
        if i < n and b[i] == 44:
            i = _ws(b, i + 1, n)
            continue
        if i < n and b[i] == 93:
            break
        return _FALLBACK, r, f
    if _ws(b, i + 1, n) != n:
        return _FALLBACK, r, f
    return _OK, r, f


if _nb is not None:
    _jit = njit_cached(nogil=True)
    _ws, _is, _key, _int, _number, _rle = map(
        _jit, (_ws, _is, _key, _int, _number, _rle))
    # an explicit signature: compiled (or loaded from the cache) at import
    _scan_nb = njit_cached(
        'UniTuple(int64, 3)(uint8[::1], ' + ', '.join(['int64[::1]'] * 9) +
        ')',
        nogil=True)(
            _scan)


class ScannedResults:
    """A results file as arrays (see :func:`scan_results`).

    Attributes:
        buf (np.ndarray): the file's bytes (uint8).
        video_ids, category_ids (np.ndarray): (N,) int64.
        score_spans (np.ndarray): (N, 2) int64 byte ranges of the scores.
        frame_lo (np.ndarray): (N + 1,) int64, result r's frames are
            ``frame_lo[r]:frame_lo[r + 1]``.
        heights, widths (np.ndarray): (F,) int64 frame sizes (0 for null).
        starts, ends (np.ndarray): (F,) int64 byte ranges of the counts
            strings (-1 for null).
    """

    def __init__(self, buf, arrays):
        self.buf = buf
        (self.video_ids, self.category_ids, self.score_spans, self.frame_lo,
         self.heights, self.widths, self.starts, self.ends) = arrays

    def __len__(self):
        return len(self.video_ids)

    def scores(self):
        """(N,) float64 scores, as ``json`` reads them (``float`` of the
        number's text)."""
        raw = self.buf
        return np.array([
            float(raw[a:b].tobytes()) for a, b in self.score_spans.tolist()
        ], np.float64)


def read_buffer(path):
    """The bytes of a file as a writable uint8 array (no copy)."""
    import os
    with open(path, 'rb') as f:
        size = os.fstat(f.fileno()).st_size
        buf = np.empty(size, np.uint8)
        view, got = memoryview(buf), 0
        while got < size:
            k = f.readinto(view[got:])
            if not k:
                break
            got += k
    return buf[:got]


def map_buffer(path, writable=True):
    """A file mapped as a uint8 array, read ahead by the kernel where it
    can: private and writable for the kernels (copy-on-write: the file
    never changes; populating copies the pages), or read-only
    (``writable=False``: the page cache's own pages, nothing copied)."""
    import mmap
    import os
    if not hasattr(mmap, 'MAP_PRIVATE'):  # not POSIX
        return read_buffer(path)
    with open(path, 'rb') as f:
        size = os.fstat(f.fileno()).st_size
        if not size:
            return np.zeros(0, np.uint8)
        flags = mmap.MAP_PRIVATE | getattr(mmap, 'MAP_POPULATE', 0)
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        mapped = mmap.mmap(f.fileno(), size, flags=flags, prot=prot)
    return np.frombuffer(mapped, np.uint8)


def scan_results(buf):
    """Scan a results file's bytes.

    Args:
        buf (np.ndarray): uint8, writable (:func:`read_buffer`).

    Returns:
        ScannedResults | None: None when numba is missing or the file is
        not in the layout the scanner reads (read it with ``json``).
    """
    if _nb is None or not len(buf):
        return None
    cap_r = len(buf) // 128 + 16
    cap_f = len(buf) // 32 + 16
    while True:
        vid, cat = np.empty(cap_r, np.int64), np.empty(cap_r, np.int64)
        sa, se = np.empty(cap_r, np.int64), np.empty(cap_r, np.int64)
        flo = np.empty(cap_r + 1, np.int64)
        fh, fw = np.empty(cap_f, np.int64), np.empty(cap_f, np.int64)
        fs, fe = np.empty(cap_f, np.int64), np.empty(cap_f, np.int64)
        status, r, f = _scan_nb(buf, vid, cat, sa, se, flo, fh, fw, fs, fe)
        if status == _GROW:
            cap_r, cap_f = cap_r * 4, cap_f * 4
            continue
        break
    if status != _OK:
        return None
    spans = np.stack([sa[:r], se[:r]], 1)
    return ScannedResults(buf, (vid[:r].copy(), cat[:r].copy(), spans,
                                flo[:r + 1].copy(), fh[:f].copy(),
                                fw[:f].copy(), fs[:f].copy(), fe[:f].copy()))
