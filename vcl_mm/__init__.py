"""vcl_mm: VideoCutLER for MMEngine / MMDetection 3.x.

Importing the package is light and side-effect free: it imports neither
torch nor mmdet and registers or patches nothing. Components register into
mmdet's registries when their modules are imported, as in mmdet projects:

* configs list them in ``custom_imports`` (``configs/_base_/
  default_runtime.py``, with ``default_scope='mmdet'``);
* scripts call :func:`vcl_mm.utils.register_all_modules`, which also
  registers mmdet's own modules and sets the default scope.

The numpy-only parts (``vcl_mm.evaluation.functional``, the data formats in
``vcl_mm.datasets.api_wrappers``) import no torch or mmdet at all, so the
offline evaluators stay light.
"""
from .version import __version__  # noqa: F401
