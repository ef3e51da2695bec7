"""Drawing tracks on frames: one visualizer for the test hook, the dataset
browser and the demo.

Importing this package stays light (OpenCV and numpy): the visualizer,
which needs mmdet, is imported on first use, and the ``VISUALIZERS``
registry imports its module itself.
"""
import importlib

from .track_overlay import (DEFAULT_PRED_SCORE_THR, draw_tracks, label_style,
                            track_colour)

_LAZY = {'TrackOverlayVisualizer': 'track_visualizer'}

__all__ = [
    'DEFAULT_PRED_SCORE_THR', 'TrackOverlayVisualizer', 'draw_tracks',
    'label_style', 'track_colour'
]


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f'.{_LAZY[name]}', __name__)
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
