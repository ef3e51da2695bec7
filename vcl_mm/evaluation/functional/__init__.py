"""Evaluation protocols, numpy / pycocotools / numba only (no torch, no
mmdet import): YouTube-VIS on mmdet's ``YTVISeval`` with a fast video IoU,
DAVIS unsupervised J&F (which also needs cv2 and scipy).

Names are imported on first use, so that the YouTube-VIS evaluator does
not load the DAVIS one's cv2 and scipy (and the reverse).
"""
import importlib

_LAZY = dict(
    MAX_PROPOSALS='davis_measures',
    db_statistics='davis_measures',
    frame_scores='davis_measures',
    MEASURES='davis_eval',
    DAVISSummary='davis_eval',
    SequenceEvaluator='davis_eval',
    SequenceResult='davis_eval',
    format_davis_table='davis_eval',
    evaluate_davis_folder='davis_folder',
    STAT_NAMES='fast_ytviseval',
    FastYTVISeval='fast_ytviseval',
    video_iou='rle_iou',
    evaluate_ytvis='ytvis_eval',
    format_stats='ytvis_eval')

__all__ = list(_LAZY)


def __getattr__(name):
    """``from vcl_mm.evaluation.functional import X`` imports X's module."""
    if name in _LAZY:
        module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
