"""The partial and final results of a MaskCut run writing ``OUT.json``.

* ``OUT.json.parts/meta.json``: the settings the partial results belong to
  (a re-run with other settings is refused instead of mixing results);
* ``OUT.json.parts/r<rank>-<time>-<pid>-<n>.json``: partial results, each
  file written atomically (temporary file + rename), one record per image:
  its size and RLE masks, or why it was skipped;
* ``OUT.json``: the merged COCO JSON, images in listing order with fresh
  ids (:func:`merge_parts`, which streams the part files: its memory does
  not grow with the number of masks);
* ``OUT.skipped.txt`` (or ``skipped_file``): ``name<TAB>kind<TAB>detail``
  per skipped image.
"""
import glob
import json
import os
import os.path as osp
import time
from collections import Counter

import numpy as np

from vcl_mm.utils import InputError, require_writable
from vcl_mm.utils.files import atomic_text_file
from .coco_io import encode_mask, write_coco_streaming, write_json_atomic

__all__ = [
    'PartStore', 'image_record', 'rle_record', 'skip_record', 'check_outputs',
    'merge_parts', 'skipped_path'
]


class PartStore:
    """The partial results of one run (see the module docstring).

    Args:
        folder (str): the parts folder.
        settings (dict): JSON-serialisable settings of the run.
    """

    def __init__(self, folder, settings):
        self.folder = folder
        self.settings = json.loads(json.dumps(settings))
        self._seq = 0

    def check_settings(self):
        """Create the folder, or refuse results made with other settings.

        Raises:
            InputError: ``meta.json`` holds different settings.
        """
        os.makedirs(self.folder, exist_ok=True)
        meta = osp.join(self.folder, 'meta.json')
        if osp.isfile(meta):
            with open(meta) as f:
                old = json.load(f)
            if old != self.settings:
                keys = sorted(
                    k for k in set(old) | set(self.settings)
                    if old.get(k) != self.settings.get(k))
                raise InputError(
                    f'the partial results in {self.folder} were made with '
                    f'other settings (differing: {", ".join(keys)}); rerun '
                    'with the same settings, or delete that folder to '
                    'start over')
        else:
            write_json_atomic(meta, self.settings)

    def files(self):
        """The part files, in the order whose first record of an image
        wins."""
        return sorted(glob.glob(osp.join(self.folder, 'r*.json')))

    @staticmethod
    def read(path):
        """The records of one part file."""
        with open(path) as f:
            return json.load(f)['records']

    def load(self):
        """All records written so far, by any rank (small jobs and tests;
        the engine and the merge read one file at a time).

        Returns:
            dict[str, dict]: image name -> record (first one wins).
        """
        records = {}
        for path in self.files():
            for rec in self.read(path):
                records.setdefault(rec['file_name'], rec)
        return records

    def done_names(self):
        """Names of the images that have a record (read one part file at a
        time, keeping only the names).

        Returns:
            set[str]
        """
        names = set()
        for path in self.files():
            names.update(rec['file_name'] for rec in self.read(path))
        return names

    def write(self, rank, records):
        """Write records as one new part file (atomically)."""
        if not records:
            return
        self._seq += 1
        name = f'r{rank:04d}-{time.time_ns()}-{os.getpid()}-{self._seq}.json'
        write_json_atomic(
            osp.join(self.folder, name), dict(records=list(records)))


def image_record(name, shape, masks):
    """The JSON record of a labelled image. An image whose masks were all
    rejected (NCut rules, CRF, resizing) is recorded without annotations,
    as upstream's MaskCut does: the video recipe keeps such images as
    targets that carry pasted objects only."""
    h, w = shape[:2]
    return rle_record(name, h, w, [encode_mask(m) for m in masks])


def rle_record(name, height, width, rles):
    """The record of a labelled image whose masks are already RLEs."""
    return dict(file_name=name, width=width, height=height, masks=rles)


def skip_record(name, kind, detail):
    """The JSON record of an image that could not be labelled."""
    return dict(file_name=name, skip=kind, detail=detail)


def skipped_path(out):
    """Default skipped-images file of an output JSON."""
    base = out[:-5] if out.endswith('.json') else out
    return base + '.skipped.txt'


def check_outputs(out, skipped_file=None):
    """Refuse, before any work, outputs that could not be written: ``out``
    or the skipped-images file being a directory, a parent being a file, a
    folder without write permission, or the parts folder being a file.

    Raises:
        InputError: naming the path and what to do.
    """
    hint = 'pass another --out'
    require_writable(out, 'output JSON', hint)
    require_writable(
        skipped_file or skipped_path(out), 'skipped-images file',
        'pass another --skipped' if skipped_file else 'pass --skipped')
    parts = out + '.parts'
    if osp.exists(parts) and not osp.isdir(parts):
        raise InputError(f'{parts} (where partial results go) is a file; '
                         f'move it away or {hint}')


class _Index:
    """Where each listed image's winning record is (first pass of the
    merge): numpy arrays over the listing, the skip records, the part
    files."""

    def __init__(self, listing, store):
        self.files = store.files()
        position = {name: i for i, name in enumerate(listing.files)}
        n = len(listing.files)
        self.file_of = np.full(n, -1, np.int32)
        self.rec_of = np.zeros(n, np.int32)
        self.width = np.zeros(n, np.int64)
        self.height = np.zeros(n, np.int64)
        self.num_masks = np.zeros(n, np.int32)
        self.skipped = {}  # listing position -> skip record
        for fi, path in enumerate(self.files):
            for ri, rec in enumerate(store.read(path)):
                i = position.get(rec['file_name'])
                if i is None or self.file_of[i] >= 0:
                    continue  # not listed, or not the first record
                self.file_of[i], self.rec_of[i] = fi, ri
                if 'skip' in rec:
                    self.skipped[i] = rec
                else:
                    self.width[i], self.height[i] = rec['width'], rec['height']
                    self.num_masks[i] = len(rec['masks'])
        self.labelled = np.flatnonzero(self.file_of >= 0)
        if self.skipped:
            self.labelled = np.setdiff1d(self.labelled,
                                         np.fromiter(self.skipped, np.int64))

    def mask_lists(self, store):
        """The labelled images' RLE lists in listing order, reading each
        part file once and dropping it when its last needed record is
        out (so memory holds about as many part files as interleave in
        the listing, e.g. one per rank)."""
        with_masks = self.labelled[self.num_masks[self.labelled] > 0]
        left = np.bincount(self.file_of[with_masks], minlength=len(self.files))
        cache = {}
        for i in self.labelled:
            if not self.num_masks[i]:
                yield []
                continue
            fi = int(self.file_of[i])
            if fi not in cache:
                cache[fi] = store.read(self.files[fi])
            yield cache[fi][self.rec_of[i]]['masks']
            left[fi] -= 1
            if not left[fi]:
                del cache[fi]


def merge_parts(listing, store, out, skipped_file=None):
    """Write the final JSON and the skipped-images file, streaming the part
    files (two passes; memory: a few arrays over the listing and the part
    files in use, not the masks of all images).

    Args:
        listing (ImageList): all images of the job, in output order.
        store (PartStore): the partial results.
        out (str): output JSON path.
        skipped_file (str, optional): default :func:`skipped_path`.

    Returns:
        dict: summary counts.

    Raises:
        RuntimeError: some image has no record (a shard did not finish).
    """
    index = _Index(listing, store)
    missing = np.flatnonzero(index.file_of < 0)
    if len(missing):
        raise RuntimeError(
            f'{len(missing)} images have no result in {store.folder} '
            f'(e.g. {listing.files[missing[0]]}); run the same command '
            'again to finish')
    names = listing.files
    _, num_masks = write_coco_streaming(
        out,
        ((names[i], index.width[i], index.height[i]) for i in index.labelled),
        index.mask_lists(store))
    skipped = [index.skipped[i] for i in sorted(index.skipped)]
    skipped_file = skipped_file or skipped_path(out)
    with atomic_text_file(skipped_file) as f:
        f.write('# image\tkind\tdetail\n')
        for r in skipped:
            f.write(f'{r["file_name"]}\t{r["skip"]}\t{r["detail"]}\n')
    return dict(
        images=len(names),
        labelled=len(index.labelled),
        without_masks=int((index.num_masks[index.labelled] == 0).sum()),
        masks=num_masks,
        skipped=len(skipped),
        skipped_by_kind=dict(
            sorted(Counter(r['skip'] for r in skipped).items())),
        ignored_files=listing.ignored,
        duplicate_lines=listing.duplicates,
        out=out,
        skipped_file=skipped_file)
