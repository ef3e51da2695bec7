"""Importing this package registers its components (see vcl_mm/__init__.py)."""
from .track_utils import FrameMaskStore, link_queries, window_spans  # noqa
from .videocutler import VideoCutLER  # noqa: F401
from .videocutler_head import VideoCutLERTrackHead  # noqa: F401
from .checked_pretrained import CheckedPretrainedInit  # noqa: F401
from .fp32_pixel_decoder import FP32MSDeformAttnPixelDecoder  # noqa: F401
from .cutler_mask2former_head import CutLERMask2FormerHead  # noqa: F401
