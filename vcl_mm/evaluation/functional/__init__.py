"""Pure numpy / pycocotools evaluation cores (no mmdet needed)."""
from .davis_eval import (MAX_PROPOSALS, MEASURES, DAVISSummary,
                         SequenceEvaluator, SequenceResult, db_statistics,
                         format_davis_table, frame_scores)
from .davis_io import (davis_annotation_dir, davis_frames, davis_sequences,
                       evaluate_davis_folder, read_label_png)
from .ytvis_eval import (STAT_NAMES, Track, YTVISGroundTruth, YTVISParams,
                         accumulate, evaluate_video, evaluate_ytvis,
                         format_stats, parse_ytvis_gt, parse_ytvis_results,
                         summarize, video_iou)

__all__ = [
    'MAX_PROPOSALS', 'MEASURES', 'DAVISSummary', 'SequenceEvaluator',
    'SequenceResult', 'db_statistics', 'format_davis_table', 'frame_scores',
    'davis_annotation_dir', 'davis_frames', 'davis_sequences',
    'evaluate_davis_folder', 'read_label_png', 'STAT_NAMES', 'Track',
    'YTVISGroundTruth', 'YTVISParams', 'accumulate', 'evaluate_video',
    'evaluate_ytvis', 'format_stats', 'parse_ytvis_gt', 'parse_ytvis_results',
    'summarize', 'video_iou'
]
