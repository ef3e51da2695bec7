"""Many compressed RLE masks in one buffer, and the one compiled decoder
of pycocotools' compressed counts (numba + numpy).

An :class:`RLETable` keeps the ``counts`` strings of many masks as
``(start, end)`` byte ranges of one uint8 buffer (a results file's own
bytes, or the strings joined), with each mask's run total, foreground area
and foreground extent; :class:`TrackRLEs` is one track's per-frame masks
(rows of a table, -1 where absent) seen as the official list of RLE dicts.
The YouTube-VIS loaders (:mod:`.ytvis_api`) build them, the video IoU
kernels (``vcl_mm.evaluation.functional.rle_iou``) decode straight from
the buffer with :func:`decode_ends`, the only copy of the decoding loop
(which also measures each mask as it goes).
"""
from collections.abc import Sequence

import numpy as np

from vcl_mm.utils.compiled import njit_cached

try:
    import numba as _nb
except ImportError:  # pragma: no cover
    _nb = None

__all__ = ['HAVE_NUMBA', 'RLETable', 'TrackRLEs', 'decode_ends']

HAVE_NUMBA = _nb is not None


def _decode_ends(buf, a, e, ends, m):  # pragma: no cover (compiled)
    """Decode the compressed counts string ``buf[a:e]`` (pycocotools'
    ``rleFrString``: 5 bits per character from ``'0'``, continuation bit
    0x20, sign bit 0x10 on a number's last character, counts from the
    third on stored as differences to the count two back, unsigned 32-bit
    counts), measuring it on the way; with a non-empty ``ends``, the
    cumulative run ends go to ``ends[m:]`` (``e - a`` free slots needed).

    Returns:
        tuple: (new end of ``ends`` (``m`` when ``ends`` is empty), run
        total, foreground area, foreground extent [first, last) in
        column-major pixel indices (0, 0 when empty)); the first is -1
        (and the rest 0) if the string is not valid (a character outside
        '0'..'o', a number longer than 12 characters, an unfinished
        number).
    """
    store = len(ends) > 0
    j, c1, c2 = 0, np.int64(0), np.int64(0)  # the counts one, two back
    pos, area, lo, hi = np.int64(0), np.int64(0), np.int64(-1), np.int64(0)
    x, sh = np.int64(0), np.int64(0)
    p = a
    while p < e:
        c = np.int64(buf[p]) - 48
        p += 1
        if c < 0 or c > 63 or sh > 55:
            return -1, 0, 0, 0, 0
        x |= (c & 0x1f) << sh
        sh += 5
        if c & 0x20:  # the number goes on
            continue
        x |= (-((c >> 4) & 1)) << sh  # sign bit, without a branch
        if j > 2:
            x += c2
        x &= 0xffffffff
        if j & 1 and x > 0:
            if lo < 0:
                lo = pos
            hi = pos + x
            area += x
        pos += x
        if store:
            ends[m] = pos
            m += 1
        c2, c1 = c1, x
        j += 1
        x, sh = np.int64(0), np.int64(0)
    if sh:
        return -1, 0, 0, 0, 0
    return m, pos, area, max(lo, np.int64(0)), hi


def _rows_stats(buf, starts, ends, totals, areas, first, last):
    """Run total (-1: invalid string), foreground area and foreground
    extent [first, last) (column-major pixel indices; 0, 0 when empty) of
    the strings ``buf[starts[k]:ends[k]]``."""  # pragma: no cover
    none = np.empty(0, np.int64)
    for k in range(len(starts)):
        m, totals[k], areas[k], first[k], last[k] = decode_ends(
            buf, starts[k], ends[k], none, 0)
        if m < 0:
            totals[k] = -1


if _nb is not None:
    # compiled into the kernels that call it (no signature: nothing to
    # load at import); the entry points have explicit signatures, loaded
    # from the cache at import
    decode_ends = njit_cached(nogil=True)(_decode_ends)
    _rows_stats = njit_cached(
        'void(uint8[::1], ' + ', '.join(['int64[::1]'] * 6) + ')',
        nogil=True)(
            _rows_stats)
else:  # pragma: no cover
    decode_ends = None


def _stats_threads(buf, starts, ends, threads):
    """:func:`_rows_stats`, in two threads for long inputs when
    ``threads`` > 1 (the kernel releases the GIL)."""
    n = len(starts)
    out = [np.empty(n, np.int64) for _ in range(4)]
    if n < 4096 or threads < 2:
        _rows_stats(buf, starts, ends, *out)
        return out
    from concurrent.futures import ThreadPoolExecutor
    m = n // 2
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(_rows_stats, buf, starts[m:], ends[m:],
                             *(o[m:] for o in out))
        _rows_stats(buf, starts[:m], ends[:m], *(o[:m] for o in out))
        second.result()
    return out


class RLETable:
    """Compressed counts strings of many masks in one buffer.

    Args:
        buf (np.ndarray): uint8 bytes holding the strings.
        starts, ends (np.ndarray): (K,) int64, string k is
            ``buf[starts[k]:ends[k]]``.

    Attributes (after :meth:`measure`; needs numba):
        totals (np.ndarray): (K,) int64 pixels covered by all runs, -1
            where the string is not valid compressed RLE.
        areas (np.ndarray): (K,) int64 foreground pixels.
        first, last (np.ndarray): (K,) int64 foreground extent
            [first, last) in column-major pixel indices (0, 0 if empty).
    """

    def __init__(self, buf, starts, ends):
        if not len(buf):
            buf = np.zeros(1, np.uint8)
        self.buf = buf
        self.starts = np.ascontiguousarray(starts, np.int64)
        self.ends = np.ascontiguousarray(ends, np.int64)
        self.totals = self.areas = self.first = self.last = None

    def __len__(self):
        return len(self.starts)

    @classmethod
    def from_counts(cls, counts):
        """A table of ``counts`` strings (bytes, or ASCII str).

        Returns:
            tuple: (table, list of row indices whose str is not ASCII:
            their strings are empty in the table).
        """
        n, bad = len(counts), []
        try:  # all ASCII str (a results file): one join, one encode
            blob = ''.join(counts).encode('ascii')
            strs = counts
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
            blob = bytearray().join(strs)
        ends = np.cumsum(np.fromiter(map(len, strs), np.int64, n))
        starts = np.zeros(n, np.int64)
        starts[1:] = ends[:-1]
        if type(blob) is bytes:  # the kernels take writable buffers
            blob = bytearray(blob)
        return cls(np.frombuffer(blob, np.uint8), starts, ends), bad

    def measure(self, threads=2):
        """Fill :attr:`totals`, :attr:`areas`, :attr:`first`,
        :attr:`last` in one compiled pass (in ``threads`` threads, at most
        2); returns self."""
        if _nb is None:  # pragma: no cover
            raise RuntimeError('RLETable.measure needs numba')
        if self.totals is None:
            self.totals, self.areas, self.first, self.last = _stats_threads(
                self.buf, self.starts, self.ends, threads)
        return self

    def counts(self, k):
        """String ``k`` as bytes."""
        return self.buf[self.starts[k]:self.ends[k]].tobytes()

    def all_counts(self):
        """All strings as a list of bytes."""
        raw = self.buf.tobytes() if len(self.starts) else b''
        return [
            raw[a:b] for a, b in zip(self.starts.tolist(), self.ends.tolist())
        ]


class TrackRLEs(Sequence):
    """One track's per-frame masks as the official list of compressed RLE
    dicts (``{'size': [h, w], 'counts': bytes}``, None where absent),
    built on access from rows of an :class:`RLETable`.

    Read-only: compares equal to the list of the same dicts.

    Args:
        table (RLETable): where the strings are.
        rows (np.ndarray): (T,) int64 rows of ``table``, -1 where absent.
        h, w (int): the mask size.
    """

    __slots__ = ('table', 'rows', 'size')

    def __init__(self, table, rows, h, w):
        self.table, self.rows, self.size = table, rows, (int(h), int(w))

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, t):
        if isinstance(t, slice):
            return [self[k] for k in range(*t.indices(len(self)))]
        k = int(self.rows[t])
        if k < 0:
            return None
        return {'size': list(self.size), 'counts': self.table.counts(k)}

    def __eq__(self, other):
        if isinstance(other, (TrackRLEs, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self):
        return f'TrackRLEs({list(self)!r})'
