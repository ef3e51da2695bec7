"""Video predictions as tracks: grouped per instance id, ranked by score,
written in the official result formats.

* YouTube-VIS: ``[{video_id, score, category_id, segmentations}]`` with one
  compressed RLE (``counts`` as str) or ``None`` per frame, written as
  ``<prefix>.json`` plus ``<prefix>.submission_file.zip`` holding it as
  ``results.json`` (what the challenge server expects).
* DAVIS: one indexed (palette) PNG per frame, ``<dir>/<seq>/<frame>.png``,
  proposal ids 1..K by descending track score, painted in ascending score
  order so that better tracks win where masks overlap.

Predictions come per frame as ``masks`` (N, H, W) bool, ``scores`` (N,),
``labels`` (N,) and ``instances_id`` (N,); :func:`group_tracks` turns a
video's frames into tracks (one per instance id).
"""
import json
import os
import os.path as osp
import zipfile

import numpy as np

from vcl_mm.datasets.api_wrappers.davis_format import write_indexed_png
from vcl_mm.datasets.api_wrappers.masks import encode

__all__ = [
    'encode_masks', 'group_tracks', 'tracks_to_ytvis', 'write_ytvis_results',
    'rank_tracks', 'paint_proposals', 'write_davis_png'
]


def _to_numpy(x):
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def encode_masks(masks):
    """Compressed RLEs of a stack of masks.

    Args:
        masks (np.ndarray | Tensor): (N, H, W) bool.

    Returns:
        list[dict]: N RLE dicts with ``size`` [H, W] and ``counts`` (str).
    """
    masks = _to_numpy(masks)
    return encode(masks) if len(masks) else []


def group_tracks(frames):
    """Group per-frame predictions of one video into tracks.

    Args:
        frames (list[dict]): per frame ``rles`` (list of N RLE dicts, see
            :func:`encode_masks`), ``scores`` (N,), ``labels`` (N,),
            ``instances_id`` (N,).

    Returns:
        list[dict]: one per instance id, in order of first appearance:
        ``instance_id``, ``score`` (mean over the frames it appears in),
        ``label`` (most frequent, ties to the smallest) and ``rles`` (one
        per frame, None where the track is absent).
    """
    T = len(frames)
    tracks = {}
    for t, fr in enumerate(frames):
        scores = _to_numpy(fr['scores']).tolist()
        labels = _to_numpy(fr['labels']).tolist()
        ids = _to_numpy(fr['instances_id']).tolist()
        for rle, s, lbl, iid in zip(fr['rles'], scores, labels, ids):
            tr = tracks.setdefault(
                iid,
                dict(instance_id=iid, scores=[], labels=[], rles=[None] * T))
            tr['scores'].append(s)
            tr['labels'].append(int(lbl))
            tr['rles'][t] = rle
    out = []
    for tr in tracks.values():
        out.append(
            dict(
                instance_id=tr['instance_id'],
                score=float(np.mean(tr['scores'])),
                label=int(np.bincount(tr['labels']).argmax()),
                rles=tr['rles']))
    return out


def tracks_to_ytvis(video_id, tracks, label_to_cat=None):
    """Tracks of one video as official YouTube-VIS result entries.

    Args:
        video_id (int): the video.
        tracks (list[dict]): from :func:`group_tracks`.
        label_to_cat (Sequence[int], optional): category id of each label;
            default ``label + 1``.

    Returns:
        list[dict]: ``{video_id, score, category_id, segmentations}``.
    """
    out = []
    for tr in tracks:
        cat = (
            label_to_cat[tr['label']]
            if label_to_cat is not None else tr['label'] + 1)
        out.append(
            dict(
                video_id=video_id,
                score=tr['score'],
                category_id=int(cat),
                segmentations=list(tr['rles'])))
    return out


def write_ytvis_results(results, outfile_prefix):
    """Write ``<prefix>.json`` and ``<prefix>.submission_file.zip``.

    Args:
        results (list[dict]): official result entries.
        outfile_prefix (str): path prefix, e.g. ``work_dirs/x/results``.

    Returns:
        tuple[str, str]: the JSON and zip paths.
    """
    folder = osp.dirname(osp.abspath(outfile_prefix))
    os.makedirs(folder, exist_ok=True)
    json_path = f'{outfile_prefix}.json'
    with open(json_path, 'w') as f:
        json.dump(results, f)
    zip_path = f'{outfile_prefix}.submission_file.zip'
    with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.write(json_path, 'results.json')
    return json_path, zip_path


def rank_tracks(scores, max_proposals=20):
    """Which tracks become DAVIS proposals, best first.

    Args:
        scores (Sequence[float]): one score per track.
        max_proposals (int): keep at most this many.

    Returns:
        np.ndarray: track indices by descending score (stable), at most
        ``max_proposals``; track ``order[k]`` gets proposal id k + 1.
    """
    order = np.argsort(-np.asarray(scores, np.float64), kind='stable')
    return order[:max_proposals]


def paint_proposals(masks, proposal_ids, shape=None):
    """Paint proposal masks into one label map without overlap.

    Args:
        masks (np.ndarray): (K, H, W) bool.
        proposal_ids (Sequence[int]): (K,) ids, 1 = best track.
        shape (tuple, optional): (H, W) when K may be 0.

    Returns:
        np.ndarray: (H, W) uint8; worse proposals (higher ids) are painted
        first, so the best track owns overlapping pixels.
    """
    masks = _to_numpy(masks)
    label = np.zeros(masks.shape[1:] if len(masks) else shape, np.uint8)
    for k in np.argsort(-np.asarray(proposal_ids), kind='stable'):
        label[masks[k].astype(bool)] = proposal_ids[k]
    return label


def write_davis_png(path, label):
    """Save an (H, W) label map as a DAVIS palette PNG."""
    write_indexed_png(path, label)
