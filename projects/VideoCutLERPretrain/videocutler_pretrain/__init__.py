"""VideoCutLER as pre-training for supervised video instance segmentation.

The configs of this project only use vcl_mm and mmdet components by name;
this package holds the two helpers the tools need.
"""
from .class_head import resize_class_head
from .subsets import check_ytvis_json, make_subset, video_order

__all__ = ['resize_class_head', 'make_subset', 'video_order',
           'check_ytvis_json']
