"""Loading mmengine checkpoints under torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default and mmengine 0.10.7 does
not pass ``weights_only``, so resuming fails on the objects mmengine itself
pickles (``HistoryBuffer`` in the message hub, numpy scalars and arrays in the
log history). :func:`register_checkpoint_loader` replaces mmengine's local-file
loader with one that keeps ``weights_only=True`` but allow-lists exactly those
types. Files that need anything else are refused with a message that says how
to trust them (``VCL_MM_TRUST_CHECKPOINTS=1`` loads local files with
``weights_only=False``, as torch < 2.6 did).
"""
import os
import os.path as osp
import pickle

import numpy as np

from .errors import InputError

TRUST_ENV = 'VCL_MM_TRUST_CHECKPOINTS'


def _history_buffer_method(owner, name):
    """Stand-in for ``getattr`` while unpickling: ``HistoryBuffer`` pickles its
    class-level table of statistics methods as ``getattr(HistoryBuffer,
    name)``. Allowing the real ``getattr`` would defeat ``weights_only``, so
    only that one lookup is resolved."""
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)  # custom registered
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint')


def _safe_globals():
    """Types mmengine writes into checkpoints besides tensors."""
    import codecs

    from mmengine.logging.history_buffer import HistoryBuffer
    types = [HistoryBuffer, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
             np.core.multiarray.scalar, codecs.encode,
             (_history_buffer_method, 'builtins.getattr')]
    for name in ('float64', 'float32', 'float16', 'int64', 'int32', 'int16',
                 'int8', 'uint8', 'bool_'):
        scalar = getattr(np, name)
        types.append(scalar)
        types.append(type(np.dtype(scalar)))
    return types


def load_local_checkpoint(filename, map_location=None):
    """Load a local checkpoint file (mmengine's loader signature).

    Args:
        filename (str): path of a ``.pth`` file.
        map_location (str | torch.device, optional): as in ``torch.load``.

    Returns:
        dict: the checkpoint.

    Raises:
        InputError: the file does not exist or holds objects outside the
            allow-list (and ``VCL_MM_TRUST_CHECKPOINTS`` is not set).
    """
    import torch
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise InputError(f'checkpoint not found: {filename} (check the path, '
                         'or train first to create it)')
    if os.environ.get(TRUST_ENV) == '1':
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        lines = str(err).splitlines()
        reason = next((line.strip() for line in lines
                       if 'Unsupported global' in line or 'refusing' in line),
                      lines[0] if lines else 'unknown object')
        raise InputError(
            f'checkpoint {filename} contains objects that are not plain '
            f'weights ({reason}); if you trust the file, run with '
            f'{TRUST_ENV}=1') from None


def register_checkpoint_loader():
    """Make mmengine (``load_from``, ``resume``, ``load_checkpoint``) use
    :func:`load_local_checkpoint` for local paths. Idempotent."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
