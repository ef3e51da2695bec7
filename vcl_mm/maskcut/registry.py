"""Where MaskCut finds its feature extractors (``model.type``).

The cut stage runs without mmdet/mmcv, so extractors
register here, and also into mmdet's ``MODELS`` when mmdet is installed
(then configs and MMDetection projects find them by name as before).
:func:`build_extractor` looks here first, then in mmdet's ``MODELS`` (for
extractors registered only there, e.g. by a project or a test); without
mmdet an unknown type is an :class:`~vcl_mm.utils.InputError`.
"""
from vcl_mm.utils import InputError

try:
    from mmdet.registry import MODELS as MMDET_MODELS
except ImportError:  # a torch-only machine: only this module's registry
    MMDET_MODELS = None

__all__ = [
    'EXTRACTORS', 'MMDET_MODELS', 'register_extractor', 'build_extractor'
]

#: type name -> extractor class
EXTRACTORS = {}


def register_extractor(cls=None, *, force=False):
    """Class decorator: register an extractor by its class name here and,
    when mmdet is installed, in mmdet's ``MODELS``.

    Args:
        cls (type): the ``torch.nn.Module`` subclass.
        force (bool): replace an existing registration of the name.
    """

    def register(cls):
        name = cls.__name__
        if name in EXTRACTORS and EXTRACTORS[name] is not cls and not force:
            raise KeyError(f'{name} is already registered as a MaskCut '
                           f'extractor ({EXTRACTORS[name].__module__})')
        EXTRACTORS[name] = cls
        if MMDET_MODELS is not None:
            MMDET_MODELS.register_module(module=cls, force=True)
        return cls

    return register if cls is None else register(cls)


def build_extractor(cfg):
    """Build the extractor a ``model`` config names.

    Args:
        cfg (dict): ``type`` plus the class's arguments.

    Returns:
        torch.nn.Module

    Raises:
        InputError: the type is registered nowhere.
    """
    cfg = dict(cfg)
    name = cfg.get('type')
    if name in EXTRACTORS:
        cfg.pop('type')
        return EXTRACTORS[name](**cfg)
    if MMDET_MODELS is not None and MMDET_MODELS.get(name) is not None:
        return MMDET_MODELS.build(cfg)
    where = ('' if MMDET_MODELS is not None else
             ' (mmdet is not installed, so only extractors registered with '
             'vcl_mm.maskcut.registry.register_extractor are known)')
    raise InputError(
        f'unknown MaskCut model.type {name!r}{where}; known: '
        f'{", ".join(sorted(EXTRACTORS)) or "none"} (set model.type, or '
        'list the module that registers it in custom_imports)')
