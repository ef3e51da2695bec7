"""The partial and final results of a MaskCut run writing ``OUT.json``.

* ``OUT.json.parts/meta.json``: the settings the partial results belong to
  (a re-run with other settings is refused instead of mixing results);
* ``OUT.json.parts/r<rank>-<time>-<pid>-<n>.json``: partial results, each
  file written atomically (temporary file + rename), one record per image:
  its size and RLE masks, or why it was skipped;
* ``OUT.json``: the merged COCO JSON, images in listing order with fresh
  ids (:func:`merge_parts`);
* ``OUT.skipped.txt`` (or ``skipped_file``): ``name<TAB>kind<TAB>detail``
  per skipped image.
"""
import glob
import json
import os
import os.path as osp
import time
from collections import Counter

from vcl_mm.utils import InputError, require_writable
from .coco_io import build_coco, encode_mask, write_json_atomic

__all__ = [
    'PartStore', 'image_record', 'skip_record', 'check_outputs',
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

    def load(self):
        """All records written so far, by any rank.

        Returns:
            dict[str, dict]: image name -> record (first one wins).
        """
        records = {}
        for path in sorted(glob.glob(osp.join(self.folder, 'r*.json'))):
            with open(path) as f:
                for rec in json.load(f)['records']:
                    records.setdefault(rec['file_name'], rec)
        return records

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
    return dict(
        file_name=name,
        width=w,
        height=h,
        masks=[encode_mask(m) for m in masks])


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


def merge_parts(listing, store, out, skipped_file=None):
    """Write the final JSON and the skipped-images file.

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
    records = store.load()
    missing = [n for n in listing.files if n not in records]
    if missing:
        raise RuntimeError(
            f'{len(missing)} images have no result in {store.folder} '
            f'(e.g. {missing[0]}); run the same command again to finish')
    entries, skipped = [], []
    for name in listing.files:
        rec = records[name]
        if 'skip' in rec:
            skipped.append(rec)
        else:
            entries.append(rec)
    coco = build_coco(entries)
    write_json_atomic(out, coco)
    skipped_file = skipped_file or skipped_path(out)
    lines = ''.join(f'{r["file_name"]}\t{r["skip"]}\t{r["detail"]}\n'
                    for r in skipped)
    folder = osp.dirname(osp.abspath(skipped_file))
    os.makedirs(folder, exist_ok=True)
    tmp = skipped_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('# image\tkind\tdetail\n' + lines)
    os.replace(tmp, skipped_file)
    return dict(
        images=len(listing.files),
        labelled=len(entries),
        without_masks=sum(not e['masks'] for e in entries),
        masks=len(coco['annotations']),
        skipped=len(skipped),
        skipped_by_kind=dict(
            sorted(Counter(r['skip'] for r in skipped).items())),
        ignored_files=listing.ignored,
        duplicate_lines=listing.duplicates,
        out=out,
        skipped_file=skipped_file)
