"""DAVIS folder layout and mask files, for evaluation and datasets.

Layout (official DAVIS 2017; DAVIS 2016 and DAVIS-2017-Motion follow it)::

    <root>/JPEGImages/<res>/<seq>/<frame>.jpg
    <root>/Annotations_unsupervised/<res>/<seq>/<frame>.png   (or
    <root>/Annotations/<res>/<seq>/<frame>.png)
    <root>/ImageSets/2017/<split>.txt                          (optional)

``<res>`` is ``480p`` by default; an empty resolution means no such level.
Ground-truth PNGs are indexed (palette) label maps with 255 = void, or
DAVIS-2016 single-channel 0/255 masks, read as object 1.
"""
import os
import os.path as osp

import numpy as np
from PIL import Image

from vcl_mm.utils import InputError
from .davis_eval import (MAX_PROPOSALS, DAVISSummary, SequenceEvaluator)

__all__ = [
    'read_label_png', 'davis_annotation_dir', 'davis_sequences',
    'davis_frames', 'evaluate_davis_folder'
]


def read_label_png(path, binary_is_object=True):
    """Read a DAVIS label PNG as an (H, W) uint8 label map.

    Args:
        path (str): PNG file.
        binary_is_object (bool): a non-palette image whose values are all
            in {0, 255} (DAVIS 2016) becomes 0/1 (255 = object 1). Off for
            predictions, which are read as raw indices like the official
            tool.

    Returns:
        np.ndarray: (H, W) uint8 ids (255 = void for palette ground truth).
        Grey + alpha images use the grey channel.
    """
    try:
        img = Image.open(path)
        img.load()
    except FileNotFoundError:
        raise InputError(f'mask not found: {path}')
    except OSError as e:
        raise InputError(f'cannot read mask {path}: {e}')
    if img.mode == 'LA':  # grey + alpha (one DAVIS-2016 file): the grey
        img = img.getchannel('L')
    if img.mode not in ('P', 'L', '1'):
        raise InputError(f'{path}: expected an indexed (palette) or '
                         f'single-channel PNG, got mode {img.mode}')
    arr = np.asarray(img, dtype=np.uint8)
    if img.mode == '1':
        return arr.astype(np.uint8)
    if img.mode == 'L' and binary_is_object:
        counts = np.bincount(arr.ravel(), minlength=256)
        if counts[1:255].sum() == 0:
            return (arr == 255).astype(np.uint8)
    return arr


def davis_annotation_dir(root,
                         task='unsupervised',
                         resolution='480p',
                         ann_dir=None):
    """The ground-truth folder of a DAVIS root.

    Args:
        root (str): DAVIS root.
        task (str): ``'unsupervised'`` prefers ``Annotations_unsupervised``
            and falls back to ``Annotations``.
        resolution (str): sub-folder such as ``'480p'``; '' for none.
        ann_dir (str, optional): explicit folder (relative to ``root`` or
            absolute), e.g. for DAVIS-2017-Motion re-annotations.

    Returns:
        str: existing folder holding ``<seq>/<frame>.png``.
    """
    if not osp.isdir(root):
        raise InputError(f'DAVIS root not found: {root}')
    if ann_dir is not None:
        path = ann_dir if osp.isabs(ann_dir) else osp.join(root, ann_dir)
        if not osp.isdir(path):
            raise InputError(f'DAVIS annotation folder not found: {path}')
        return path
    if task != 'unsupervised':
        raise InputError(f'DAVIS task {task!r} is not supported; only '
                         "'unsupervised'")
    tried = []
    for name in ('Annotations_unsupervised', 'Annotations'):
        path = osp.join(root, name, resolution) if resolution else osp.join(
            root, name)
        if osp.isdir(path):
            return path
        tried.append(path)
    raise InputError(
        f'DAVIS annotations not found: tried {" and ".join(tried)}')


def davis_sequences(root, ann_dir, split='val', year='2017'):
    """Sequence names in evaluation order.

    ``<root>/ImageSets/<year>/<split>.txt`` (official order); without an
    ``ImageSets/<year>`` folder (e.g. DAVIS-2016 extracts), every sequence
    folder of ``ann_dir``, sorted. A split missing from an existing
    ``ImageSets/<year>`` folder raises InputError.
    """
    listing = osp.join(root, 'ImageSets', year, f'{split}.txt')
    if osp.isdir(osp.dirname(listing)) and not osp.isfile(listing):
        have = sorted(f[:-4] for f in os.listdir(osp.dirname(listing))
                      if f.endswith('.txt'))
        raise InputError(f'DAVIS split {split!r} not found: no {listing} '
                         f'(splits there: {", ".join(have) or "none"})')
    if osp.isfile(listing):
        with open(listing) as f:
            names = [line.strip() for line in f if line.strip()]
        for name in names:
            if not osp.isdir(osp.join(ann_dir, name)):
                raise InputError(f'sequence {name} listed in {listing} has '
                                 f'no annotations in {ann_dir}')
        return names
    names = sorted(
        d for d in os.listdir(ann_dir) if osp.isdir(osp.join(ann_dir, d)))
    if not names:
        raise InputError(f'no sequence folders in {ann_dir}')
    return names


def davis_frames(ann_dir, seq):
    """Sorted frame names (file stems) of a sequence's ground truth."""
    folder = osp.join(ann_dir, seq)
    frames = sorted(f[:-4] for f in os.listdir(folder) if f.endswith('.png'))
    if not frames:
        raise InputError(f'sequence {seq}: no PNG masks in {folder}')
    return frames


def evaluate_davis_folder(davis_root,
                          results_dir,
                          split='val',
                          task='unsupervised',
                          resolution='480p',
                          ann_dir=None,
                          max_proposals=MAX_PROPOSALS,
                          bound_th=0.008,
                          sequences=None):
    """Evaluate indexed-PNG results against a DAVIS root, streaming.

    Args:
        davis_root (str): DAVIS root (see module docstring).
        results_dir (str): ``<results_dir>/<seq>/<frame>.png`` predictions
            named like the ground-truth frames.
        split (str): ImageSets split.
        task (str): only ``'unsupervised'``.
        resolution (str): ``'480p'`` or '' for a flat layout.
        ann_dir (str, optional): explicit annotation folder.
        max_proposals (int): at most this many proposal ids per sequence.
        bound_th (float): boundary tolerance.
        sequences (list[str], optional): restrict to these sequences.

    Returns:
        dict: see :meth:`DAVISSummary.summary`.
    """
    gt_dir = davis_annotation_dir(davis_root, task, resolution, ann_dir)
    if not osp.isdir(results_dir):
        raise InputError(f'results folder not found: {results_dir}')
    names = sequences or davis_sequences(davis_root, gt_dir, split)
    summary = DAVISSummary()
    for seq in names:
        if not osp.isdir(osp.join(results_dir, seq)):
            raise InputError(f'sequence {seq}: no results folder '
                             f'{osp.join(results_dir, seq)}')
        ev = SequenceEvaluator(
            seq, max_proposals=max_proposals, bound_th=bound_th)
        for frame in davis_frames(gt_dir, seq):
            res_path = osp.join(results_dir, seq, f'{frame}.png')
            if not osp.isfile(res_path):
                raise InputError(f'sequence {seq}: result frame missing: '
                                 f'{res_path}')
            ev.add_frame(
                read_label_png(osp.join(gt_dir, seq, f'{frame}.png')),
                read_label_png(res_path, binary_is_object=False), frame)
        summary.add(ev.result())
    return summary.summary()
