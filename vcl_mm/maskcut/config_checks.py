"""MaskCut configs: read by mmengine, checked before any image is read.

``mmengine.Config`` reads the file (``_base_``, ``custom_imports``) and
merges ``--cfg-options`` (parsed by mmengine's ``DictAction``); mmengine
imports neither mmcv nor mmdet for that. What it does not do is refuse a
misspelt key or a value of the wrong type: :func:`validate_maskcut_config`
does, on plain dicts, against the shipped base config.
"""
from mmengine.config import Config

from vcl_mm.utils import InputError
from vcl_mm.utils.config_validation import (accepted_keys,
                                            check_against_reference,
                                            read_config_file)

__all__ = ['load_maskcut_config', 'validate_maskcut_config', 'MASKCUT_TYPES']

#: types of the keys whose reference value (None, or a dict that may be
#: None) says too little
MASKCUT_TYPES = {
    'model.arch': (str, dict),  # a name or the ViT's own sizes
    'model.weights': (str, type(None)),
    'model.autocast_dtype': (str, type(None)),
    'maskcut.crf': (dict, type(None)),
    'maskcut.solver': (dict, type(None)),
    'engine.num_workers': (int, type(None)),
    'engine.post_workers': (int, type(None)),
    'engine.start_method': (str, type(None)),
}
SECTIONS = ('model', 'maskcut', 'engine')


def load_maskcut_config(path, cfg_options=None, reference=None):
    """Read, merge and check a MaskCut config.

    Args:
        path (str): the ``.py`` config (its ``custom_imports`` are
            imported, registering extractors).
        cfg_options (dict, optional): dotted key -> value overrides (as
            ``DictAction`` parsed them).
        reference (str, optional): the shipped config whose keys and types
            are the valid ones; None: no check.

    Returns:
        dict: the whole config as plain dicts.

    Raises:
        InputError: missing file, syntax error (one line), failing import,
            unknown key or value of the wrong type.
    """
    cfg = read_config_file(path, 'MaskCut config')
    file_cfg = cfg.to_dict() if cfg_options else None
    ref = None if reference is None else Config.fromfile(
        reference, import_custom_modules=False).to_dict()
    what = path if path != reference else 'MaskCut config'
    if cfg_options:
        _open_none_parents(cfg, cfg_options)
        try:
            cfg.merge_from_dict(cfg_options)
        except (TypeError, KeyError) as err:  # e.g. a dict into a None
            if ref is not None:  # a misspelt key is named first
                validate_maskcut_config(
                    _nested(cfg_options), ref, cfg_options, file_cfg, what)
            raise InputError(f'--cfg-options cannot be merged into {path}: '
                             f'{str(err).strip(chr(34))}') from None
    cfg = cfg.to_dict()
    if ref is not None:
        validate_maskcut_config(cfg, ref, cfg_options, file_cfg, what)
    return cfg


def _open_none_parents(cfg, options):
    """``maskcut.crf.backend=torch`` where ``crf=None``: the None becomes a
    dict to merge into (the CRF defaults fill the rest), where mmengine
    would refuse to merge a dict into a None."""
    for key in options:
        node = cfg
        for part in key.split('.')[:-1]:
            if not hasattr(node, 'get') or part not in node:
                break
            if node.get(part) is None:
                node[part] = {}
            node = node[part]


def _nested(options):
    """``{'a.b': 1}`` -> ``{'a': {'b': 1}}``."""
    nested = {}
    for key, value in options.items():
        node = nested
        *parents, last = key.split('.')
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


def validate_maskcut_config(cfg, reference, cfg_options=None, file_cfg=None,
                            what='MaskCut config'):
    """Raise :class:`InputError` naming unknown keys (with the nearest
    valid one) and values of the wrong type, before any image is read.

    Args:
        cfg (dict): the config with ``--cfg-options`` merged in.
        reference (dict): the shipped base config (every valid key of
            ``maskcut`` and ``engine``, and of ``model`` for its type).
        cfg_options (dict, optional): the dotted overrides; their first
            component must be a section of ``reference`` or ``file_cfg``.
        file_cfg (dict, optional): the config as its file defines it.
        what (str): names the config in messages.
    """
    tops = set(reference) | set(file_cfg or {})
    for key in cfg_options or {}:
        root = key.split('.')[0]
        if root not in tops:
            check_against_reference({root: None}, {k: None for k in tops},
                                    what='--cfg-options')
    ref = {k: reference[k] for k in SECTIONS if k in reference}
    sections = {k: cfg[k] for k in SECTIONS if k in cfg}
    model = sections.get('model')
    if isinstance(model, dict) and model.get('type') != ref.get(
            'model', {}).get('type'):
        # another extractor: its keys are its class's arguments
        from .registry import get_extractor
        cls = get_extractor(model.get('type'))
        keys = accepted_keys(cls) if cls is not None else None
        sections.pop('model')
        if keys is not None:
            check_against_reference(
                {k: v for k, v in model.items() if k != 'type'},
                {k: None for k in keys}, where='model', what=what)
    check_against_reference(sections, ref, types=MASKCUT_TYPES, what=what)
