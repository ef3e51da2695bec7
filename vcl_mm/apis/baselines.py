"""Helpers of the quickstart: pseudo-mask quality and the per-frame MaskCut
baseline in the official result formats."""
import json
import os.path as osp
from collections import defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment

from vcl_mm.datasets.api_wrappers.masks import decode, encode
from vcl_mm.evaluation.track_results import paint_proposals, write_davis_png


def _masks_by_image(coco):
    """file_name -> list of (H, W) bool masks, in annotation order."""
    by_id = defaultdict(list)
    for ann in coco['annotations']:
        by_id[ann['image_id']].append(
            decode(ann['segmentation']))
    return {
        img['file_name']: by_id.get(img['id'], [])
        for img in coco['images']
    }


def pseudo_mask_quality(gt_json, pseudo_json):
    """How well pseudo-masks match the true objects.

    Every true object is matched to at most one pseudo-mask of its image
    (Hungarian on IoU); an unmatched object scores 0.

    Args:
        gt_json (str): COCO JSON of the true masks.
        pseudo_json (str): COCO JSON of the pseudo-masks (same file names).

    Returns:
        dict: ``mean_iou`` over true objects, ``num_objects``,
        ``num_pseudo_masks``, ``recall50`` (fraction matched at IoU >= 0.5).
    """
    with open(gt_json) as f:
        gt = _masks_by_image(json.load(f))
    with open(pseudo_json) as f:
        pred = _masks_by_image(json.load(f))
    ious = []
    for name, gts in gt.items():
        preds = pred.get(name, [])
        best = np.zeros(len(gts))
        if gts and preds:
            iou = np.array([[(g & p).sum() / max((g | p).sum(), 1)
                             for p in preds] for g in gts])
            rows, cols = linear_sum_assignment(-iou)
            best[rows] = iou[rows, cols]
        ious.extend(best.tolist())
    ious = np.asarray(ious)
    return dict(
        mean_iou=float(ious.mean()) if len(ious) else 0.,
        recall50=float((ious >= 0.5).mean()) if len(ious) else 0.,
        num_objects=int(len(ious)),
        num_pseudo_masks=int(sum(len(v) for v in pred.values())))


def per_frame_tracks(pseudo_json, ytvis_gt_json, davis_out_dir,
                     ytvis_out_json):
    """The per-frame MaskCut baseline: no tracking model.

    MaskCut runs on every frame independently; its k-th mask of each frame
    (discovery order) is taken as track k, the only association available
    without a video model. Writes the tracks as official YouTube-VIS results
    (score 1 / k, so earlier discoveries rank first) and as DAVIS indexed
    PNGs.

    Args:
        pseudo_json (str): MaskCut COCO JSON of the frames, file names
            ``<video>/<frame>.jpg``.
        ytvis_gt_json (str): official YouTube-VIS JSON of the videos.
        davis_out_dir (str): gets ``<video>/<frame>.png``.
        ytvis_out_json (str): results file to write.
    """
    with open(pseudo_json) as f:
        masks = _masks_by_image(json.load(f))
    with open(ytvis_gt_json) as f:
        videos = json.load(f)['videos']
    results = []
    for video in videos:
        h, w = video['height'], video['width']
        frames = [masks.get(name, []) for name in video['file_names']]
        num_tracks = max([len(m) for m in frames] + [0])
        tracks = [[None] * len(frames) for _ in range(num_tracks)]
        for t, (name, frame) in enumerate(zip(video['file_names'], frames)):
            stack = np.array(frame, bool).reshape(-1, h, w)
            label = paint_proposals(stack, list(range(1, len(frame) + 1)),
                                    (h, w))
            stem = osp.splitext(name)[0]
            write_davis_png(osp.join(davis_out_dir, f'{stem}.png'), label)
            for k, m in enumerate(frame):
                tracks[k][t] = encode(m)
        for k, segs in enumerate(tracks):
            results.append(
                dict(video_id=video['id'], category_id=1,
                     score=1.0 / (k + 1), segmentations=segs))
    with open(ytvis_out_json, 'w') as f:
        json.dump(results, f)
    return results
