"""Registering vcl_mm's components (mmdet's ``register_all_modules``)."""
import importlib

#: the modules whose import registers every vcl_mm component into mmdet's
#: registries; ``configs/_base_/default_runtime.py`` lists the same ones in
#: ``custom_imports`` (tests/engine/test_plugin.py keeps them equal)
REGISTERING_MODULES = (
    'vcl_mm.datasets.transforms',
    'vcl_mm.datasets.maskcut_dataset',
    'vcl_mm.datasets.target_aware_mix',
    'vcl_mm.datasets.davis_dataset',
    'vcl_mm.datasets.ytvis_dataset',
    'vcl_mm.datasets.clip_sources',
    'vcl_mm.engine',
    'vcl_mm.evaluation.metrics',
    'vcl_mm.models',
)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register mmdet's and vcl_mm's modules into mmdet's registries.

    Args:
        init_default_scope (bool): also make ``'mmdet'`` the default scope
            (what every vcl_mm config sets), as mmdet's function does.
    """
    from mmdet.utils import register_all_modules as register_mmdet
    register_mmdet(init_default_scope=init_default_scope)
    for name in REGISTERING_MODULES:
        importlib.import_module(name)
