"""Evaluation protocols, numpy / pycocotools / numba only (no torch, no
mmdet import): YouTube-VIS on mmdet's ``YTVISeval`` with a fast video IoU,
DAVIS unsupervised J&F."""
from .davis_eval import (MAX_PROPOSALS, MEASURES, DAVISSummary,
                         SequenceEvaluator, SequenceResult, db_statistics,
                         format_davis_table, frame_scores)
from .davis_folder import evaluate_davis_folder
from .fast_ytviseval import STAT_NAMES, FastYTVISeval
from .rle_iou import video_iou
from .ytvis_eval import evaluate_ytvis, format_stats

__all__ = [
    'MAX_PROPOSALS', 'MEASURES', 'DAVISSummary', 'SequenceEvaluator',
    'SequenceResult', 'db_statistics', 'format_davis_table', 'frame_scores',
    'evaluate_davis_folder', 'STAT_NAMES', 'FastYTVISeval', 'video_iou',
    'evaluate_ytvis', 'format_stats'
]
