"""MaskCut configs without mmengine.

``tools/maskcut.py`` must run on a stock PyTorch machine, and mmengine
pulls in OpenCV and matplotlib when installed, so MaskCut configs are read
here. They are mmengine-format Python files; this reader supports the part
of the format they use, with mmengine's semantics (a test checks the
results equal ``mmengine.Config``'s for every shipped MaskCut config):

* ``_base_ = 'file.py'`` or a list of files (relative to the config's
  folder); the config's dicts merge into the bases', a dict with
  ``_delete_=True`` replaces instead;
* ``custom_imports = dict(imports=[...], allow_failed_imports=False)``:
  the modules are imported after reading (registering extractors);
* ``--cfg-options key.sub=value``: values parsed as ``mmengine``'s
  ``DictAction`` does (``1``, ``0.5``, ``true``, ``None``, ``a,b``,
  ``[1,(2,3)]``; anything else is a string), merged by dotted key.

Other mmengine features (``{{_base_.x}}``, ``read_base()``) are refused
with an :class:`~vcl_mm.utils.InputError` saying what to use instead.
"""
import argparse
import copy
import importlib
import os.path as osp
import runpy
import types

from vcl_mm.utils import InputError
from vcl_mm.utils.config_validation import (accepted_keys,
                                            check_against_reference,
                                            syntax_error_line)

__all__ = [
    'load_maskcut_config', 'parse_value', 'KeyValueAction', 'merge_into',
    'validate_maskcut_config'
]

_DELETE = '_delete_'


def parse_value(text):
    """A ``--cfg-options`` value, parsed as mmengine's ``DictAction``.

    Args:
        text (str): e.g. ``'0.2'``, ``'None'``, ``'true'``, ``'[1,(2,3)]'``.

    Returns:
        int | float | bool | None | str | list | tuple
    """
    text = text.strip('\'"').replace(' ', '')
    is_tuple = False
    if text.startswith('(') and text.endswith(')'):
        is_tuple, text = True, text[1:-1]
    elif text.startswith('[') and text.endswith(']'):
        text = text[1:-1]
    elif ',' not in text:
        return _parse_scalar(text)
    values = []
    while text:
        cut = _next_comma(text)
        values.append(parse_value(text[:cut]))
        text = text[cut + 1:]
    return tuple(values) if is_tuple else values


def _parse_scalar(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ('true', 'false'):
        return text.lower() == 'true'
    return None if text == 'None' else text


def _next_comma(text):
    """Index of the first comma outside brackets (or the length)."""
    if (text.count('(') != text.count(')')
            or text.count('[') != text.count(']')):
        raise InputError(f'unbalanced brackets in the --cfg-options value '
                         f'{text!r}')
    depth = 0
    for i, char in enumerate(text):
        if char in '([':
            depth += 1
        elif char in ')]':
            depth -= 1
        elif char == ',' and depth == 0:
            return i
    return len(text)


class KeyValueAction(argparse.Action):
    """argparse action: ``KEY=VALUE ...`` -> ``{KEY: parsed VALUE}``."""

    def __call__(self, parser, namespace, values, option_string=None):
        options = dict(getattr(namespace, self.dest, None) or {})
        for item in values or ():
            if '=' not in item:
                parser.error(f'{option_string} takes KEY=VALUE, got {item!r}')
            key, value = item.split('=', 1)
            options[key] = parse_value(value)
        setattr(namespace, self.dest, options)


def merge_into(a, b):
    """Merge dict ``a`` into a copy of dict ``b`` as mmengine does: nested
    dicts merge key by key unless ``a``'s has ``_delete_=True``; any other
    value replaces."""
    b = copy.deepcopy(b)
    for key, value in a.items():
        if isinstance(value, dict):
            value = dict(value)
            delete = value.pop(_DELETE, False)
            if not delete and isinstance(b.get(key), dict):
                b[key] = merge_into(value, b[key])
                continue
            value = merge_into(value, {})  # drop nested _delete_ keys
        b[key] = value
    return b


def _read_file(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if '{{_base_' in text or 'read_base' in text:
        raise InputError(
            f'{path} uses mmengine features (base variables or read_base) '
            'that MaskCut configs cannot; write plain dicts with _base_ '
            'inheritance')
    try:
        names = runpy.run_path(path)
    except SyntaxError as err:
        raise InputError(syntax_error_line(err, path)) from None
    except Exception as err:  # the config's own code failed
        raise InputError(f'config {path} failed to run: '
                         f'{type(err).__name__}: {err}; fix the file'
                         ) from None
    cfg = {
        k: v
        for k, v in names.items() if not k.startswith('__')
        and not isinstance(v, (types.ModuleType, types.FunctionType, type))
    }
    bases = cfg.pop('_base_', [])
    bases = [bases] if isinstance(bases, str) else list(bases)
    merged = {}
    for base in bases:
        base_path = osp.join(osp.dirname(path), base)
        if not osp.isfile(base_path):
            raise InputError(f'_base_ of {path} not found: {base_path}')
        base_cfg = _read_file(base_path)
        twice = set(base_cfg) & set(merged)
        if twice:
            raise InputError(f'the bases of {path} both define '
                             f'{", ".join(sorted(twice))}')
        merged.update(base_cfg)
    return merge_into(cfg, merged)


def load_maskcut_config(path, cfg_options=None, import_modules=True):
    """Read a MaskCut config file.

    Args:
        path (str): the ``.py`` config.
        cfg_options (dict, optional): dotted key -> value overrides.
        import_modules (bool): import ``custom_imports``' modules.

    Returns:
        dict: the whole config as plain dicts.

    Raises:
        InputError: missing file, or a custom import that fails when
            failures are not allowed.
    """
    if not osp.isfile(path):
        raise InputError(f'config not found: {path}')
    cfg = _read_file(osp.abspath(path))
    if cfg_options:
        options = {}
        for full_key, value in cfg_options.items():
            node = options
            *parents, last = full_key.split('.')
            for key in parents:
                node = node.setdefault(key, {})
            node[last] = value
        cfg = merge_into(options, cfg)
    imports = cfg.get('custom_imports') or {}
    if import_modules:
        for name in imports.get('imports', ()):
            try:
                importlib.import_module(name)
            except ImportError as err:
                if not imports.get('allow_failed_imports', False):
                    raise InputError(
                        f'{path} imports {name} (custom_imports), which '
                        f'failed: {err}') from None
    return cfg


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


def validate_maskcut_config(cfg, reference, cfg_options=None, file_cfg=None,
                            what='MaskCut config'):
    """Raise :class:`InputError` naming unknown keys (with the nearest
    valid one) and values of the wrong type, before any image is read.

    Plain dicts only, so it works on whatever reader produced ``cfg``.

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
        from .registry import EXTRACTORS
        cls = EXTRACTORS.get(model.get('type'))
        keys = accepted_keys(cls) if cls is not None else None
        sections.pop('model')
        if keys is not None:
            check_against_reference(
                {k: v for k, v in model.items() if k != 'type'},
                {k: None for k in keys}, where='model', what=what)
    check_against_reference(sections, ref, types=MASKCUT_TYPES, what=what)
