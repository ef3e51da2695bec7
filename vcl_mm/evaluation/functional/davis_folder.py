"""Evaluate a folder of DAVIS result PNGs against a DAVIS root, streaming
one sequence at a time (the format itself: :mod:`vcl_mm.datasets.
api_wrappers.davis_format`)."""
import os.path as osp

from vcl_mm.datasets.api_wrappers.davis_format import (davis_annotation_dir,
                                                       davis_frames,
                                                       davis_sequences,
                                                       read_label_png)
from vcl_mm.utils.errors import InputError
from .davis_eval import MAX_PROPOSALS, DAVISSummary, SequenceEvaluator

__all__ = ['evaluate_davis_folder']


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
