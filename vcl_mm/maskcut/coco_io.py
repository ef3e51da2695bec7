"""The pseudo-label JSON: COCO instances with one class, RLE masks.

Schema (what upstream MaskCut writes, minus its swapped width/height):
``images`` ``{id, file_name, width, height}``; ``annotations`` ``{id,
image_id, category_id: 1, segmentation: {size: [h, w], counts: str},
area, bbox: [x, y, w, h], iscrowd: 0}``; ``categories`` ``[{id: 1, name:
'fg'}]``.
"""
from vcl_mm.datasets.api_wrappers.masks import decode as decode_mask
from vcl_mm.datasets.api_wrappers.masks import encode as encode_mask
from vcl_mm.datasets.api_wrappers.masks import rle_areas, rle_boxes
from vcl_mm.utils.files import write_json_atomic

__all__ = [
    'CATEGORIES', 'encode_mask', 'decode_mask', 'make_annotation',
    'build_coco', 'write_json_atomic'
]

CATEGORIES = [dict(id=1, name='fg')]


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


def build_coco(entries, description='MaskCut pseudo-labels (vcl_mm)'):
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
            dict(
                id=image_id,
                file_name=entry['file_name'],
                width=int(entry['width']),
                height=int(entry['height'])))
        for rle in entry['masks']:
            annotations.append(
                make_annotation(rle,
                                len(annotations) + 1, image_id))
    return dict(
        info=dict(description=description),
        images=images,
        annotations=annotations,
        categories=CATEGORIES)
