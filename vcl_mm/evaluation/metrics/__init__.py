"""Registered mmengine metrics (mmdet's METRICS registry)."""
from .davis_metric import DAVISMetric
from .ytvis_metric import StreamingYTVISMetric, gt_tracks_from_instances

__all__ = [
    'DAVISMetric', 'StreamingYTVISMetric', 'gt_tracks_from_instances'
]
