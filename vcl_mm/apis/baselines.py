"""Helpers of the quickstart: pseudo-mask quality and the per-frame MaskCut
baseline in the official result formats."""
import json
import os.path as osp

import numpy as np
from scipy.optimize import linear_sum_assignment

from vcl_mm.datasets.api_wrappers.masks import decode, encode, rle_iou
from vcl_mm.evaluation.pseudo_masks import group_annotations, load_coco
from vcl_mm.evaluation.track_results import paint_proposals, write_davis_png


def pseudo_mask_quality(gt_json, pseudo_json):
    """How well pseudo-masks match the true objects, one to one.

    Every true object is matched to at most one pseudo-mask of its image
    (Hungarian on mask IoU); an unmatched object, or one of an image the
    pseudo-masks do not list, scores 0. The COCO AP/AR and best-IoU report
    of the same files: ``vcl_mm.evaluation.pseudo_masks`` (this uses its
    reader and mask IoU).

    Args:
        gt_json (str): COCO JSON of the true masks.
        pseudo_json (str): COCO JSON of the pseudo-masks (same file names).

    Returns:
        dict: ``mean_iou`` over true objects, ``num_objects``,
        ``num_pseudo_masks``, ``recall50`` (fraction matched at IoU >= 0.5).
    """
    gt = load_coco(gt_json, 'ground truth')
    pseudo = load_coco(pseudo_json, 'pseudo-label JSON')
    gt_anns, pseudo_anns = group_annotations(gt), group_annotations(pseudo)
    pseudo_ids = {im['file_name']: im['id'] for im in pseudo['images']}
    ious = []
    for image in gt['images']:
        gts = [a['segmentation'] for a in gt_anns[image['id']]]
        preds = [
            a['segmentation']
            for a in pseudo_anns.get(pseudo_ids.get(image['file_name']), [])
        ]
        best = np.zeros(len(gts))
        if gts and preds:
            iou = rle_iou(gts, preds)  # (G, P)
            rows, cols = linear_sum_assignment(-iou)
            best[rows] = iou[rows, cols]
        ious.extend(best.tolist())
    ious = np.asarray(ious)
    return dict(
        mean_iou=float(ious.mean()) if len(ious) else 0.,
        recall50=float((ious >= 0.5).mean()) if len(ious) else 0.,
        num_objects=int(len(ious)),
        num_pseudo_masks=len(pseudo['annotations']))


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
    pseudo = load_coco(pseudo_json, 'pseudo-label JSON')
    by_id = group_annotations(pseudo)
    masks = {
        im['file_name']: [decode(a['segmentation']) for a in by_id[im['id']]]
        for im in pseudo['images']
    }
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
