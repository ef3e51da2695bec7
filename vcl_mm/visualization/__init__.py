"""Drawing tracks on frames (the browse and demo tools share it)."""
from .track_overlay import (DEFAULT_PRED_SCORE_THR, draw_tracks, label_style,
                            track_colour)

__all__ = [
    'DEFAULT_PRED_SCORE_THR', 'draw_tracks', 'label_style', 'track_colour'
]
