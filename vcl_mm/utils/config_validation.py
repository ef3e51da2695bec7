"""Configs checked before any work starts: unknown keys and wrong types.

A misspelt key (``maskcut.tua=0.2``, ``model.backbone.depht=101``) is
silently ignored or merged in as a new key by the config readers, and a
value of the wrong type fails hours later inside a worker; here both are
named at once with the nearest valid key (:mod:`difflib`), as one
:class:`~vcl_mm.utils.InputError`.

* MaskCut (plain dicts, so it works whichever reader produced them):
  :func:`check_against_reference` compares a config with a reference
  config (the shipped base config) key by key and type by type;
* training / test configs (mmengine ``Config``):
  :func:`validate_training_config` checks every dict whose ``type`` the
  registries resolve against that component's ``__init__`` signature
  (followed up the class hierarchy through ``**kwargs``), and
  :func:`validate_cfg_options` refuses ``--cfg-options`` keys that do not
  exist in the config (unless the component they go to takes them);
  :func:`load_checked_config` reads a config with both checks and a
  one-line error for a config file with a syntax error.
"""
import difflib
import inspect
import os.path as osp

from .errors import InputError

__all__ = [
    'nearest', 'check_against_reference', 'read_config_file',
    'validate_training_config', 'validate_cfg_options',
    'load_checked_config'
]

_NONE = type(None)


def nearest(key, candidates):
    """The candidate closest to ``key`` (difflib), or None."""
    hits = difflib.get_close_matches(
        str(key), [str(c) for c in candidates], n=1, cutoff=0.5)
    return hits[0] if hits else None


def _unknown(where, key, candidates):
    near = nearest(key, candidates)
    full = f'{where}.{key}' if where else str(key)
    msg = f'unknown key {full}'
    if near is not None:
        msg += f' (did you mean {where + "." if where else ""}{near}?)'
    elif candidates:
        msg += f' (valid: {", ".join(sorted(map(str, candidates))[:12])})'
    return msg


def _type_name(types):
    names = ['None' if t is _NONE else t.__name__ for t in types]
    return ' or '.join(dict.fromkeys(names))


def _allowed_types(ref):
    """The types a value may have where the reference holds ``ref``."""
    if ref is None:
        return None  # anything
    if isinstance(ref, bool):
        return (bool, )
    if isinstance(ref, int):
        return (int, )
    if isinstance(ref, float):
        return (float, int)
    if isinstance(ref, (list, tuple)):
        return (list, tuple)
    return (type(ref), )


def _type_ok(value, types):
    if types is None:
        return True
    if isinstance(value, bool) and bool not in types:
        return False  # bool is an int, but True is no batch size
    return isinstance(value, types)


def check_against_reference(cfg,
                            reference,
                            where='',
                            types=None,
                            open_keys=(),
                            what='config'):
    """Raise :class:`InputError` naming the keys of ``cfg`` that the
    reference lacks (with the nearest valid key) and the values whose type
    differs from the reference's.

    Works on plain dicts (any config reader). Rules: a reference ``None``
    accepts any value unless ``types`` says otherwise; a float accepts an
    int; a list accepts a tuple; nested dicts are checked recursively.

    Args:
        cfg (dict): the config (or a section of it).
        reference (dict): a valid config with every allowed key.
        where (str): dotted prefix of ``cfg`` in messages.
        types (dict, optional): dotted key -> tuple of allowed types, for
            keys whose reference value says too little (e.g. ``None``
            defaults, or a dict that may be ``None``).
        open_keys (Sequence[str]): dotted keys of dicts whose own keys are
            not checked (free-form dicts).
        what (str): names the config in the message.
    """
    problems = []
    _compare(cfg, reference, where, dict(types or {}), set(open_keys),
             problems)
    if problems:
        more = (f' (+{len(problems) - 3} more)' if len(problems) > 3 else '')
        raise InputError(f'{what}: ' + '; '.join(problems[:3]) + more +
                         ' (fix the config file or --cfg-options)')


def _compare(cfg, ref, where, types, open_keys, problems):
    for key, value in cfg.items():
        full = f'{where}.{key}' if where else str(key)
        if key not in ref:
            if where not in open_keys:
                problems.append(_unknown(where, key, list(ref)))
            continue
        allowed = types.get(full, _allowed_types(ref[key]))
        if not _type_ok(value, allowed):
            problems.append(f'{full}={value!r} is a '
                            f'{type(value).__name__}, expected '
                            f'{_type_name(allowed)}')
            continue
        if isinstance(value, dict) and isinstance(ref[key], dict):
            _compare(value, ref[key], full, types, open_keys, problems)


def read_config_file(path, what='config'):
    """``mmengine.Config.fromfile`` with one line for what the user can
    fix: a missing file, a syntax error (file and line), a failing
    ``_base_`` or import."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise InputError(f'{what} not found: {path} (pass the path of a '
                         'config file, e.g. configs/toy/'
                         'video_smoke_generated.py)')
    try:
        return Config.fromfile(path)
    except SyntaxError as err:
        raise InputError(syntax_error_line(err, path)) from None
    except (FileNotFoundError, ImportError, KeyError, NameError) as err:
        raise InputError(f'{what} {path} cannot be read: '
                         f'{type(err).__name__}: {err}') from None


def syntax_error_line(err, path):
    """One line naming the file, line and text of a ``SyntaxError``."""
    where = err.filename or path
    text = (err.text or '').strip()
    return (f'config {where} has a syntax error at line {err.lineno}: '
            f'{err.msg}' + (f' ({text[:60]})' if text else '') +
            '; fix the file')


# ---------------------------------------------------------------- training
#: the registry (mmdet's) a dict with ``type`` is built from, by the key it
#: sits under; anything else under ``model`` is a model or a task util
_REGISTRY_OF_KEY = {
    'dataset': ('DATASETS', ),
    'datasets': ('DATASETS', ),
    'pipeline': ('TRANSFORMS', ),
    'transforms': ('TRANSFORMS', ),
    'optim_wrapper': ('OPTIM_WRAPPERS', ),
    'optimizer': ('OPTIMIZERS', ),
    'param_scheduler': ('PARAM_SCHEDULERS', ),
    'custom_hooks': ('HOOKS', ),
    'default_hooks': ('HOOKS', ),
    'visualizer': ('VISUALIZERS', ),
    'vis_backends': ('VISBACKENDS', ),
    'val_evaluator': ('METRICS', 'EVALUATOR'),
    'test_evaluator': ('METRICS', 'EVALUATOR'),
    'train_cfg': ('LOOPS', ),
    'val_cfg': ('LOOPS', ),
    'test_cfg': ('LOOPS', ),
    'log_processor': ('LOG_PROCESSORS', ),
    'model': ('MODELS', ),
}
_MODEL_REGISTRIES = ('MODELS', 'TASK_UTILS')
#: keys the builders take out before calling ``__init__``
_BUILDER_KEYS = {
    'OPTIM_WRAPPERS': {'constructor', 'paramwise_cfg'},
    'PARAM_SCHEDULERS': {'convert_to_iter_based'},
}
_ALWAYS = {'type', '_scope_'}
#: what mmcv's ``build_norm_layer`` takes out of a ``norm_cfg``
_NORM_BUILDER_KEYS = {'requires_grad'}


def _registries(names):
    """vcl_mm's registries (children of mmdet's, so they find both) when
    the package has them, else mmdet's."""
    try:
        import vcl_mm.registry as reg
    except ImportError:
        import mmdet.registry as reg
    return [(n, getattr(reg, n)) for n in names if hasattr(reg, n)]


def _resolve(type_name, names):
    """(registry name, class or function) of ``type_name`` in the first
    of the named registries that has it, else (None, None)."""
    if not isinstance(type_name, str):
        return None, None
    for name, registry in _registries(names):
        try:
            obj = registry.get(type_name)
        except Exception:  # a scope prefix that is not installed
            obj = None
        if obj is not None:
            return name, obj
    return None, None


def accepted_keys(obj):
    """The keyword arguments ``obj`` (a class or function) accepts, or
    None when it takes any (``**kwargs`` all the way up the classes).

    A class whose ``__init__`` takes ``**kwargs`` is assumed to pass them
    to its base class's ``__init__`` (mmdet's and mmengine's do), whose
    parameters are added in turn.
    """
    keys = set()
    funcs = ([c.__dict__['__init__'] for c in inspect.getmro(obj)
              if '__init__' in c.__dict__]
             if inspect.isclass(obj) else [obj])
    for func in funcs:
        if func is object.__init__:
            return None  # the **kwargs end nowhere we can see: any key
        try:
            params = inspect.signature(func).parameters.values()
        except (TypeError, ValueError):  # builtins, C extensions
            return None
        var_kw = False
        for p in params:
            if p.kind == p.VAR_KEYWORD:
                var_kw = True
            elif p.kind != p.VAR_POSITIONAL:
                keys.add(p.name)
        if not var_kw:
            return keys - {'self'}
    return None


def _walk(node, path, registries, problems):
    """Check every dict with a resolvable ``type`` below ``node``."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            _walk(item, f'{path}[{i}]', registries, problems)
        return
    if not isinstance(node, dict):
        return
    reg_name, obj = _resolve(node.get('type'), registries)
    if obj is not None:
        keys = accepted_keys(obj)
        field = path.rsplit('.', 1)[-1].split('[')[0]
        if keys is not None:
            keys |= _ALWAYS | _BUILDER_KEYS.get(reg_name, set())
            if field.endswith('norm_cfg'):
                keys |= _NORM_BUILDER_KEYS
            for key in node:
                if key not in keys:
                    problems.append(
                        _unknown(path, key, sorted(keys - _ALWAYS)) +
                        f' [{node["type"]} takes no {key!r}]')
    in_model = registries == _MODEL_REGISTRIES
    for key, value in node.items():
        if key == 'type':
            continue
        sub = _REGISTRY_OF_KEY.get(key)
        if in_model and key not in ('dataset', 'pipeline'):
            sub = _MODEL_REGISTRIES
        elif sub == ('MODELS', ):
            sub = _MODEL_REGISTRIES
        elif sub is None:
            sub = registries
        _walk(value, f'{path}.{key}' if path else key, sub, problems)


def validate_training_config(cfg):
    """Raise :class:`InputError` naming every key of a component config
    (a dict with a ``type`` the registries resolve) that the component's
    ``__init__`` does not take, with the nearest valid key.

    Components taking ``**kwargs`` (up to their base classes) are not
    checked; types the registries do not resolve are left to the builder.

    Args:
        cfg (mmengine.Config | dict): a training or test config (its
            ``custom_imports`` already imported, i.e. read by
            ``Config.fromfile`` with the registering modules imported).
    """
    problems = []
    cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    for key, value in cfg.items():
        if key == 'model_wrapper_cfg':
            continue  # built with the model as an argument
        if key.endswith('_dataloader') and isinstance(value, dict):
            for sub in ('dataset', 'sampler', 'batch_sampler'):
                names = ('DATASETS', ) if sub == 'dataset' else (
                    'DATA_SAMPLERS', )
                _walk(value.get(sub), f'{key}.{sub}', names, problems)
            continue
        names = _REGISTRY_OF_KEY.get(key)
        if names is None:
            continue
        if names == ('MODELS', ):
            names = _MODEL_REGISTRIES
        if key == 'default_hooks' and isinstance(value, dict):
            for name, hook in value.items():
                _walk(hook, f'{key}.{name}', ('HOOKS', ), problems)
            continue
        _walk(value, key, names, problems)
    if problems:
        more = (f' (+{len(problems) - 3} more)' if len(problems) > 3 else '')
        raise InputError('config: ' + '; '.join(problems[:3]) + more +
                         ' (fix the config file or --cfg-options)')


#: top-level keys mmengine's runner reads besides the config's own
_RUNNER_KEYS = {
    'launcher', 'resume', 'load_from', 'work_dir', 'randomness', 'env_cfg',
    'experiment_name', 'auto_scale_lr', 'default_scope', 'log_level',
    'cfg', 'custom_imports', 'model_wrapper_cfg', 'find_unused_parameters'
}


def _dataloader_keys():
    from torch.utils.data import DataLoader
    return set(inspect.signature(DataLoader).parameters)


def validate_cfg_options(cfg, options):
    """Raise :class:`InputError` for ``--cfg-options`` keys that do not
    exist in ``cfg`` (checked before they are merged in), with the nearest
    existing key.

    A key that is new but goes to a component that takes it (a ``type``
    dict whose ``__init__`` has that argument, a dataloader, or a runner
    setting at the top level) is accepted; list items are addressed by
    index (``a.0.b``) within the list's length.

    Args:
        cfg (mmengine.Config | dict): the config as read from its file.
        options (dict): dotted key -> value (``DictAction``'s output).
    """
    problems = []
    cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg
    for full_key in options or {}:
        problem = _check_option(cfg, full_key)
        if problem:
            problems.append(problem)
    if problems:
        more = (f' (+{len(problems) - 3} more)' if len(problems) > 3 else '')
        raise InputError('--cfg-options: ' + '; '.join(problems[:3]) + more +
                         ' (to add a key on purpose, write it in a config '
                         'that inherits this one)')


def _check_option(cfg, full_key):
    node, where = cfg, ''
    parts = full_key.split('.')
    for depth, key in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, (list, tuple)):
            if not key.isdigit() or int(key) >= len(node):
                return (f'{full_key}: {where} is a list of {len(node)}; '
                        'address its items as '
                        f'{where}.0 ... {where}.{len(node) - 1}')
            node, where = node[int(key)], f'{where}.{key}'
            continue
        if not isinstance(node, dict):
            if last or node is None:
                return None  # replacing a value by a dict: allowed
            return None
        if key in node:
            node, where = node[key], f'{where}.{key}' if where else key
            continue
        if not where and key in _RUNNER_KEYS:
            return None
        if _takes(node, where, key):
            return None
        return _unknown(where, key, [k for k in node if k != 'type'])
    return None


def _takes(node, where, key):
    """Whether a new ``key`` in the dict ``node`` (at ``where``) is an
    argument its component accepts."""
    if where.endswith('_dataloader') and '.' not in where:
        return key in _dataloader_keys()
    type_name = node.get('type') if isinstance(node, dict) else None
    if type_name is None:
        return False
    names = ('MODELS', 'TASK_UTILS', 'DATASETS', 'TRANSFORMS', 'METRICS',
             'OPTIM_WRAPPERS', 'OPTIMIZERS', 'PARAM_SCHEDULERS', 'HOOKS',
             'LOOPS', 'VISUALIZERS', 'VISBACKENDS', 'DATA_SAMPLERS',
             'LOG_PROCESSORS', 'EVALUATOR')
    reg_name, obj = _resolve(type_name, names)
    if obj is None:
        return True  # unknown component: let its builder decide
    keys = accepted_keys(obj)
    return keys is None or key in keys | _BUILDER_KEYS.get(reg_name, set())


def load_checked_config(path, cfg_options=None):
    """Read a training/test config with
    :func:`vcl_mm.utils.launch.load_config` (``--cfg-options`` checked,
    recipe variables resolved), then check the whole with
    :func:`validate_training_config`.

    Args:
        path (str): config file.
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        mmengine.Config
    """
    from .launch import load_config
    cfg = load_config(path, cfg_options)
    import_registering(cfg)
    validate_training_config(cfg)
    return cfg


def import_registering(cfg):
    """Import the config's ``custom_imports`` and vcl_mm's registering
    modules, so the registries resolve every type."""
    from .setup_env import register_all_modules
    register_all_modules()
    imports = (cfg.get('custom_imports') or {}).get('imports') or []
    if imports:
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(
            imports,
            allow_failed_imports=cfg['custom_imports'].get(
                'allow_failed_imports', False))
