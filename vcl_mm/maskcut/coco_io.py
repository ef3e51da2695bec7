"""The pseudo-label JSON: COCO instances with one class, RLE masks.

Schema (what upstream MaskCut writes, minus its swapped width/height):
``images`` ``{id, file_name, width, height}``; ``annotations`` ``{id,
image_id, category_id: 1, segmentation: {size: [h, w], counts: str},
area, bbox: [x, y, w, h], iscrowd: 0}``; ``categories`` ``[{id: 1, name:
'fg'}]``.
"""
import json

from vcl_mm.datasets.api_wrappers.masks import decode as decode_mask
from vcl_mm.datasets.api_wrappers.masks import encode as encode_mask
from vcl_mm.datasets.api_wrappers.masks import rle_areas, rle_boxes
from vcl_mm.utils.files import atomic_text_file, write_json_atomic

__all__ = [
    'CATEGORIES', 'DESCRIPTION', 'encode_mask', 'decode_mask',
    'make_annotation', 'make_image', 'build_coco', 'write_json_atomic',
    'write_coco_streaming'
]

CATEGORIES = [dict(id=1, name='fg')]
DESCRIPTION = 'MaskCut pseudo-labels (vcl_mm)'


def make_image(image_id, file_name, width, height):
    """A COCO image entry."""
    return dict(
        id=image_id, file_name=file_name, width=int(width), height=int(height))


def make_annotation(rle, ann_id, image_id):
    """A COCO annotation (area and box from the RLE itself)."""
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=1,
        segmentation=rle,
        area=float(rle_areas([rle])[0]),
        bbox=[float(v) for v in rle_boxes([rle])[0]],
        iscrowd=0)


def build_coco(entries, description=DESCRIPTION):
    """Assemble the JSON with fresh ids (1, 2, ... in the given order).

    Args:
        entries (list[dict]): per image, in output order: ``file_name``,
            ``width``, ``height`` and ``masks`` (list of RLE dicts).

    Returns:
        dict: the COCO dict.
    """
    images, annotations = [], []
    for image_id, entry in enumerate(entries, start=1):
        images.append(
            make_image(image_id, entry['file_name'], entry['width'],
                       entry['height']))
        for rle in entry['masks']:
            annotations.append(
                make_annotation(rle,
                                len(annotations) + 1, image_id))
    return dict(
        info=dict(description=description),
        images=images,
        annotations=annotations,
        categories=CATEGORIES)


def _write_list(f, items):
    """Write an iterable of JSON-able objects as ``json.dump`` writes a
    list."""
    f.write('[')
    for i, item in enumerate(items):
        if i:
            f.write(', ')
        f.write(json.dumps(item))
    f.write(']')


def write_coco_streaming(path, images, mask_lists, description=DESCRIPTION):
    """Write :func:`build_coco`'s JSON without holding it: the same bytes
    as ``write_json_atomic(path, build_coco(entries))``, with the entries
    given as two streams read one item at a time.

    Args:
        path (str): output file (written atomically).
        images (iterable): ``(file_name, width, height)`` per image in
            output order; read completely first.
        mask_lists (iterable): the images' lists of RLE dicts, in the same
            order; read after ``images``.

    Returns:
        tuple: number of images and of annotations written.
    """
    counts = [0, 0]

    def image_items():
        for image_id, (name, width, height) in enumerate(images, start=1):
            counts[0] = image_id
            yield make_image(image_id, name, width, height)

    def annotation_items():
        for image_id, rles in enumerate(mask_lists, start=1):
            for rle in rles:
                counts[1] += 1
                yield make_annotation(rle, counts[1], image_id)

    with atomic_text_file(path) as f:
        f.write('{"info": ' + json.dumps(dict(description=description)) +
                ', "images": ')
        _write_list(f, image_items())
        f.write(', "annotations": ')
        _write_list(f, annotation_items())
        f.write(', "categories": ' + json.dumps(CATEGORIES) + '}')
    return tuple(counts)
