"""Drawing tracks on frames (the browse and demo tools share it)."""
from .track_overlay import draw_tracks, track_colour

__all__ = ['draw_tracks', 'track_colour']
