"""The MaskCut merge as it was before it streamed: all
records loaded, the whole COCO dict built, then dumped. Kept as the
reference the streaming :func:`vcl_mm.maskcut.parts.merge_parts` is
checked (same bytes) and measured (peak memory) against."""
from vcl_mm.maskcut.coco_io import build_coco
from vcl_mm.maskcut.parts import skipped_path
from vcl_mm.utils.files import write_json_atomic

__all__ = ['merge_parts_in_memory']


def merge_parts_in_memory(listing, store, out, skipped_file=None):
    """Write the final JSON and the skipped-images file from all records
    held in memory at once.

    Returns:
        int: number of annotations written.
    """
    records = store.load()
    missing = [n for n in listing.files if n not in records]
    if missing:
        raise RuntimeError(f'{len(missing)} images have no result')
    entries, skipped = [], []
    for name in listing.files:
        rec = records[name]
        (skipped if 'skip' in rec else entries).append(rec)
    coco = build_coco(entries)
    write_json_atomic(out, coco)
    lines = ''.join(f'{r["file_name"]}\t{r["skip"]}\t{r["detail"]}\n'
                    for r in skipped)
    with open(skipped_file or skipped_path(out), 'w') as f:
        f.write('# image\tkind\tdetail\n' + lines)
    return len(coco['annotations'])
