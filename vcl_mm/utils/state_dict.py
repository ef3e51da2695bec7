"""State dicts: read a weights file, strip wrapper prefixes, and load into a
module strictly with every missing, unexpected or mis-shaped key named.

The one strict check (:func:`check_fits`) is shared by the
``CheckedPretrained`` initialiser, the weight converters, MaskCut's DINO
extractor and the video demo's ``init_video_model``. Only ``torch`` is
imported here (lazily, by the functions that need it), so MaskCut and the
models both use it without importing each other.
"""
import os.path as osp
import pickle
from collections import OrderedDict

from .errors import InputError

__all__ = [
    'WeightsMismatchError', 'format_keys', 'strip_prefixes',
    'read_state_dict', 'check_fits'
]


class WeightsMismatchError(InputError):
    """Weights do not fit a module (the keys are named in the message)."""


def format_keys(keys, limit=8):
    """``'a, b, c ... (+N more)'``: the first ``limit`` sorted keys."""
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    return shown + (f' ... (+{len(keys) - limit} more)'
                    if len(keys) > limit else '')


def strip_prefixes(state, prefixes):
    """Remove any of ``prefixes`` from the front of every key, repeatedly
    (``module.backbone.x`` -> ``x``).

    Args:
        state (dict[str, torch.Tensor]): flat weights.
        prefixes (Iterable[str]): prefixes to remove.

    Returns:
        OrderedDict: the same values under the stripped keys.
    """
    prefixes = tuple(prefixes)
    out = OrderedDict()
    for key, value in state.items():
        changed = True
        while changed:
            changed = False
            for p in prefixes:
                if key.startswith(p):
                    key, changed = key[len(p):], True
        out[key] = value
    return out


def read_state_dict(path):
    """Read a checkpoint into a flat ``{name: tensor}`` dict.

    * ``.pkl``: detectron2's pickled dict (``{'model': {name: ndarray}}``
      or the bare mapping); numpy arrays become tensors.
    * anything else: ``torch.load`` with ``weights_only`` (see
      :func:`vcl_mm.utils.checkpoint.load_local_checkpoint`); the weights
      are taken from ``'model'``, ``'state_dict'`` or DINO's ``'teacher'``
      entry when present.

    Raises:
        InputError: missing or unreadable file, or no weights in it.
    """
    import numpy as np
    import torch

    from .checkpoint import load_local_checkpoint
    if not osp.isfile(path):
        raise InputError(f'source checkpoint not found: {path}')
    if path.endswith('.pkl'):
        with open(path, 'rb') as f:
            try:
                obj = pickle.load(f, encoding='latin1')
            except Exception as err:  # corrupt or not a pickle
                raise InputError(f'cannot read {path} as a detectron2 '
                                 f'.pkl ({err})') from None
    else:
        obj = load_local_checkpoint(path, map_location='cpu')
    if isinstance(obj, dict):
        for key in ('model', 'state_dict', 'teacher'):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise InputError(f'{path} holds no weights dict')
    state = OrderedDict()
    for name, value in obj.items():
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(np.ascontiguousarray(value))
        if isinstance(value, torch.Tensor):
            state[name] = value
    if not state:
        raise InputError(f'{path} holds no tensors')
    return state


def _shape(value):
    shape = getattr(value, 'shape', None)
    return None if shape is None else tuple(shape)


def check_fits(state,
               module,
               what='model',
               source=None,
               hint=None,
               may_lack=()):
    """Raise :class:`WeightsMismatchError` naming every missing, unexpected
    or mis-shaped key of ``state`` against ``module``; then load it.

    Args:
        state (dict): ``{name: tensor}``.
        module (torch.nn.Module): the module the weights must fit.
        what (str): names the module in the message.
        source (str, optional): names the weights in the message, e.g.
            ``'checkpoint x.pth'`` (default: converted weights).
        hint (str, optional): what to do, appended to the message.
        may_lack (Sequence[str]): suffixes of module keys that ``state``
            may lack (e.g. ``'num_batches_tracked'``); those keep the
            module's values, everything else is loaded strictly.
    """
    own = module.state_dict()
    may_lack = tuple(may_lack)
    lacking = [k for k in own if k not in state]
    missing = [k for k in lacking if not (may_lack and k.endswith(may_lack))]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f'{k} {_shape(state[k])} != {tuple(own[k].shape)}' for k in own
        if k in state and _shape(state[k]) != tuple(own[k].shape)
    ]
    problems = [
        f'{len(keys)} {name}: {format_keys(keys)}'
        for name, keys in (('missing', missing), ('unexpected', unexpected),
                           ('shape mismatches', shapes)) if keys
    ]
    if problems:
        head = (f'{source} does not fit'
                if source else 'converted weights do not fit')
        raise WeightsMismatchError(f'{head} the {what}: ' +
                                   '; '.join(problems) +
                                   (f' ({hint})' if hint else ''))
    # strict unless keys that may be absent are: only those are left out
    module.load_state_dict(state, strict=not lacking)
