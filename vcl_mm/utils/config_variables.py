"""Recipe variables: ``'${name}'`` in a config means its top-level ``name``.

mmengine resolves a base's variables when it reads the base, so a child
config that sets ``num_frames = 2`` would leave every ``num_frames=3``
written in the bases as it was. A recipe writes ``num_frames='${num_frames}'``
where it uses the value instead, and the runner (or :func:`load_config`)
resolves the references once the whole config is merged: one knob, set at
the top of a recipe or of any child, reaches every place that uses it.
Only whole strings are references (no string formatting), so a value keeps
its type (an int stays an int, a tuple a tuple).
"""
import re

from .errors import InputError

_REFERENCE = re.compile(r'^\$\{(\w+)\}$')


def resolve_variables(cfg):
    """Replace, in place, every ``'${name}'`` in ``cfg`` by ``cfg[name]``.

    Args:
        cfg (mmengine.Config | dict): a merged config.

    Returns:
        The same ``cfg``.

    Raises:
        InputError: a reference to a name the config does not define, or a
            variable that refers to itself.
    """

    def resolve(value, path, seen):
        if isinstance(value, str):
            match = _REFERENCE.match(value)
            if match is None:
                return value
            name = match.group(1)
            if name in seen:
                raise InputError(f'{path} = {value!r} refers to itself '
                                 f'through {" -> ".join(seen)}')
            if name not in cfg:
                raise InputError(
                    f'{path} = {value!r} refers to a top-level variable '
                    f'{name!r} that the config does not define; set '
                    f'{name} = ... in the config (or --cfg-options '
                    f'{name}=...)')
            return resolve(cfg[name], name, seen + (name, ))
        if isinstance(value, dict):
            for key in list(value.keys()):
                value[key] = resolve(value[key], f'{path}.{key}', seen)
            return value
        if isinstance(value, (list, tuple)):
            items = [
                resolve(v, f'{path}[{i}]', seen) for i, v in enumerate(value)
            ]
            return type(value)(items) if isinstance(value, tuple) else items
        return value

    for key in list(cfg.keys()):
        cfg[key] = resolve(cfg[key], key, (key, ))
    return cfg


def require_resolved(value, what):
    """Raise :class:`InputError` if ``value`` is a recipe variable that was
    never resolved (a config built without the runner), else return it.

    Args:
        value: a component argument.
        what (str): names the argument, e.g. ``'ImageToClip.num_frames'``.
    """
    if isinstance(value, str) and _REFERENCE.match(value):
        raise InputError(
            f'{what} is {value!r}, a recipe variable that was not resolved: '
            "build through the config's runner (mmdet's tools, or "
            'RUNNERS.build(cfg) in a notebook) or call '
            'vcl_mm.utils.resolve_variables(cfg) before building parts of '
            'the config')
    return value
