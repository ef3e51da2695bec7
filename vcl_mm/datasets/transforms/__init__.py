"""Pipeline transforms; importing this package registers them into mmdet's
TRANSFORMS."""
from .frame_augment import RandomBrightnessContrast  # noqa: F401
from .frame_augment import RandomCenterRotate  # noqa: F401
from .frame_augment import RandomFrameCrop  # noqa: F401
from .clip_layout import ImageToClip, PadClipFrames  # noqa: F401
from .cutler_copy_paste import CutLERCopyPaste  # noqa: F401
from .imagecut2video import ImageCut2Video  # noqa: F401
from .scaled_copy_paste import ScaledCopyPaste  # noqa: F401
from .frame_sampling import UniformClipSample  # noqa: F401
from .d2_resize import D2RandomResize, D2Resize  # noqa: F401
from .polygon_masks import MasksAsPolygons  # noqa: F401
