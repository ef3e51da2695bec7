"""Registering vcl_mm's components (mmdet's ``register_all_modules``)."""


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers a component into
    :mod:`vcl_mm.registry` (and mmdet's own), eagerly.

    Configs do not need it: with ``default_scope = 'vcl_mm'`` mmengine
    imports :mod:`vcl_mm.registry` and its ``locations`` on first use. Scripts
    that look components up before building anything call it, as mmdet's.

    Args:
        init_default_scope (bool): also make ``'vcl_mm'`` the default scope
            (what every vcl_mm config sets), so that a build through
            mmengine's or mmdet's registries finds vcl_mm's components first
            and mmdet's through the parent.
    """
    from mmdet.utils import register_all_modules as register_mmdet
    from mmengine.registry import init_default_scope as set_scope

    from vcl_mm import registry
    register_mmdet(init_default_scope=False)
    for value in vars(registry).values():
        if getattr(value, 'scope', None) == 'vcl_mm':
            value.import_from_location()
    if init_default_scope:
        set_scope('vcl_mm')
