"""Importing this package registers its components (see vcl_mm/__init__.py)."""
from .frame_augment import RandomBrightnessContrast  # noqa: F401
from .frame_augment import RandomCenterRotate  # noqa: F401
from .frame_augment import RandomFrameCrop  # noqa: F401
from .clip_pad import PadClipFrames  # noqa: F401
from .cutler_copy_paste import CutLERCopyPaste  # noqa: F401
from .imagecut2video import ImageCut2Video, ImageToClip  # noqa: F401
from .scaled_copy_paste import ScaledCopyPaste  # noqa: F401
