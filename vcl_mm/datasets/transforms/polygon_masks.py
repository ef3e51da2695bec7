"""Pseudo-masks seen as polygons, the format upstream's image stage reads.

The official LSJ mapper builds polygon instances (detectron2's default mask
format), so its pseudo-masks were MaskCut's RLE converted to polygons: the
outline of each part kept, holes filled, parts of fewer than 3 vertices
lost, then rasterised by pycocotools at the training size. The converter
was never released; :class:`MasksAsPolygons` is that conversion applied to
the already resized masks (outer contours, all their pixels as vertices),
for the variant config ``cutler_..._polygon.py``.
"""
import cv2
import numpy as np
import pycocotools.mask as mask_util
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

from .frame_augment import update_boxes_from_masks


def mask_to_polygons(mask: np.ndarray) -> list:
    """(H, W) binary -> list of flat [x0, y0, x1, y1, ...] outer contours
    with at least 3 vertices (holes are not kept)."""
    contours, _ = cv2.findContours(
        np.ascontiguousarray(mask, np.uint8), cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_NONE)
    return [
        c.reshape(-1).astype(np.float64).tolist() for c in contours
        if len(c) >= 3
    ]


def polygons_to_mask(polygons: list, height: int, width: int) -> np.ndarray:
    """Union of the polygons rasterised by pycocotools (as upstream's
    ``convert_coco_poly_to_mask``), (H, W) uint8."""
    if not polygons:
        return np.zeros((height, width), np.uint8)
    rles = mask_util.frPyObjects(polygons, height, width)
    return mask_util.decode(rles).any(-1).astype(np.uint8)


@TRANSFORMS.register_module()
class MasksAsPolygons(BaseTransform):
    """Round-trip every ``gt_masks`` bitmap through its outer polygons.

    Required keys: ``gt_masks`` (BitmapMasks). Modified keys: ``gt_masks``
    (same count; a mask with no 3-vertex contour becomes empty, so put
    ``FilterAnnotations`` after it), ``gt_bboxes`` (from the masks).
    """

    def transform(self, results: dict) -> dict:
        masks = results.get('gt_masks')
        if masks is None or len(masks) == 0:
            return results
        h, w = masks.height, masks.width
        out = np.stack([
            polygons_to_mask(mask_to_polygons(m), h, w) for m in masks.masks
        ])
        results['gt_masks'] = BitmapMasks(out, h, w)
        update_boxes_from_masks(results)
        return results
