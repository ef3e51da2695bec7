"""Importing this package registers its components (see vcl_mm/__init__.py)."""
from vcl_mm import LIGHT_IMPORT

if not LIGHT_IMPORT:
    from . import transforms  # noqa: F401,E402
    from .maskcut_dataset import MaskCutDataset  # noqa: F401,E402
    from .target_aware_mix import TargetAwareMixDataset  # noqa: F401,E402
    from .davis_dataset import DAVISDataset  # noqa: F401,E402
    from .ytvis_dataset import YTVISDataset  # noqa: F401,E402
