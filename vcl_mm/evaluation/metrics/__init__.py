"""Registered mmengine metrics (mmdet's METRICS registry)."""
from .davis_metric import DAVISMetric
from .ytvis_metric import ClassAgnosticYTVISMetric, gt_tracks_from_instances

__all__ = [
    'DAVISMetric', 'ClassAgnosticYTVISMetric', 'gt_tracks_from_instances'
]
