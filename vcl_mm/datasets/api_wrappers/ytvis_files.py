"""Reading YouTube-VIS JSON files for :mod:`.ytvis_api`: ground truth and
results through the compiled readers (:mod:`.rle_json`,
:mod:`.results_json`), and the result annotations built straight from the
scanned arrays, with the checks of ``CheckedYTVIS.loadRes`` done on the
arrays (anything wrong: None, and the caller parses the file with
``json`` to name the error). numpy (+ numba) only.
"""
import os

import numpy as np

from vcl_mm.utils.errors import InputError
from .results_json import map_buffer, scan_results
from .rle_json import load_rle_json, scan_rle_json
from .rle_table import HAVE_NUMBA, RLETable, TrackRLEs

__all__ = [
    'load_json', 'ResultsFile', 'result_areas', 'scanned_result_anns'
]


def load_json(obj, what='JSON file', scan=False):
    """Return ``obj`` parsed from JSON if it is a path, else ``obj``
    (RLE ``counts`` lists come back as compressed bytes,
    :func:`.rle_json.load_rle_json`). With ``scan``, returns (parsed
    object, table) as :func:`.rle_json.scan_rle_json` (table None for a
    non-path ``obj``)."""
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.isfile(path):
            raise InputError(f'{what} not found: {path}')
        try:
            if scan:
                return scan_rle_json(path)
            data, _, _ = load_rle_json(path)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f'{what} {path} is not valid JSON: {e}')
        return data
    return (obj, None) if scan else obj


class ResultsFile:
    """A results JSON file, read (not checked) for
    :meth:`CheckedYTVIS.loadRes`, so that the reading can run while the
    ground truth loads (the scan releases the GIL).

    The file is scanned into arrays (:func:`.results_json.scan_results`);
    where the scanner does not read it, or :meth:`CheckedYTVIS.loadRes`
    finds anything wrong in the arrays, it is parsed by ``json`` instead
    (:attr:`data`), which gives the same annotations or the named error.

    Args:
        path (str): the results JSON.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise InputError(f'results JSON not found: {self.path}')
        self.scanned = self.table = None
        if HAVE_NUMBA:
            self.scanned = scan_results(map_buffer(self.path))
        if self.scanned is not None:  # measured here, while the GT loads
            sc = self.scanned
            here = sc.starts >= 0
            self.table = RLETable(sc.buf, sc.starts[here],
                                  sc.ends[here]).measure()
        self._data = None

    @property
    def data(self):
        """The file parsed by ``json`` (on first use)."""
        if self._data is None:
            # the scan unescaped its buffer in place: parse the file
            self.scanned = self.table = None
            self._data = load_json(self.path, 'results JSON')
        return self._data


def result_areas(lens, here, flat):
    """Per track: (T,) int64 mask areas (0 where absent), the official
    per-frame ``areas`` (None where absent) and :func:`.masks.mean_area`
    of them, for all tracks at once (areas are integers, so the mean is
    exactly numpy's).

    Args:
        lens (np.ndarray): (N,) int64 frames per track.
        here (np.ndarray): (sum(lens),) bool, the present masks.
        flat (np.ndarray): their areas.
    """
    every = np.zeros(len(here), np.int64)
    every[here] = flat
    ends = np.cumsum(lens)
    starts = (ends - lens).tolist()
    owner = np.repeat(np.arange(len(lens)), lens)
    sums = np.bincount(owner, every, len(lens))
    nums = np.bincount(owner, every > 0, len(lens))
    with np.errstate(invalid='ignore', divide='ignore'):
        means = (sums / nums).tolist()
    values = every.tolist()
    absent = np.flatnonzero(~here).tolist()
    for k in absent:
        values[k] = None
    mask_areas, per_frame, avg = [], [], []
    for k, s in enumerate(starts):
        e = s + int(lens[k])
        mask_areas.append(every[s:e])
        per_frame.append(values[s:e])
        avg.append(means[k] if nums[k] else 0)
    return mask_areas, per_frame, avg


def scanned_result_anns(sc, table, api):
    """The result annotations of :class:`.results_json.ScannedResults`
    against the ground truth ``api`` (a ``CheckedYTVIS``), as its
    ``loadRes`` builds them from the parsed list, and their
    :class:`.rle_table.RLETable` (``table``: the measured masks of
    ``sc``, rows in frame order); None when ``sc`` is None or anything
    is wrong (an unknown id, a wrong number of frames or mask size, a
    score that is not finite, runs not covering the mask): the caller
    then parses the file with ``json`` and names the error."""
    if sc is None or not len(sc):
        return None
    vids = sorted(api.vids)
    if not all(type(v) is int for v in vids) or not all(
            type(c) is int for c in api.cats):
        return None
    vids = np.array(vids, np.int64)
    at = np.searchsorted(vids, sc.video_ids)
    if not np.array_equal(vids[np.minimum(at, len(vids) - 1)],
                          sc.video_ids):
        return None
    if not np.isin(sc.category_ids, list(api.cats)).all():
        return None
    info = np.array([(api.lengths[v], int(api.vids[v]['height']),
                      int(api.vids[v]['width'])) for v in vids.tolist()],
                    np.int64).reshape(-1, 3)[at]
    lens = np.diff(sc.frame_lo)
    if not np.array_equal(lens, info[:, 0]):
        return None
    here = sc.starts >= 0
    h, w = np.repeat(info[:, 1], lens), np.repeat(info[:, 2], lens)
    if not (np.array_equal(sc.heights[here], h[here])
            and np.array_equal(sc.widths[here], w[here])):
        return None
    scores = sc.scores()
    if not np.isfinite(scores).all():
        return None
    if not np.array_equal(table.totals, (h * w)[here]):
        return None
    rows = np.full(len(here), -1, np.int64)
    rows[here] = np.arange(len(table))
    lo = sc.frame_lo.tolist()
    anns = []
    for i, (vid, cat, score, a, b, size, areas, per_frame, avg) in enumerate(
            zip(sc.video_ids.tolist(), sc.category_ids.tolist(),
                scores.tolist(), lo[:-1], lo[1:], info[:, 1:].tolist(),
                *result_areas(lens, here, table.areas))):
        r = rows[a:b]  # a view (np.split costs more per track)
        anns.append(
            dict(
                video_id=vid,
                score=score,
                category_id=cat,
                segmentations=TrackRLEs(table, r, *size),
                id=i + 1,
                iscrowd=0,
                areas=per_frame,
                avg_area=avg,
                mask_areas=areas,
                rle_rows=r))
    return anns, table
