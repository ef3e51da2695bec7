"""Loading mmengine checkpoints under torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default and mmengine 0.10.7 does
not pass ``weights_only``, so resuming fails on the objects mmengine itself
pickles (``HistoryBuffer`` in the message hub, numpy scalars and arrays in the
log history). :func:`register_checkpoint_loader` replaces mmengine's local-file
loader with one that keeps ``weights_only=True`` but allow-lists exactly those
types. Files that need anything else are refused with a message that says how
to trust them (``VCL_MM_TRUST_CHECKPOINTS=1`` loads local files with
``weights_only=False``, as torch < 2.6 did). Files that are not checkpoints
at all (random bytes, text) or are corrupt (truncated archives) are refused
as such in both modes: trusting them would not help.
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
        InputError: the file does not exist, is not a checkpoint, is
            corrupt, or holds objects outside the allow-list (and
            ``VCL_MM_TRUST_CHECKPOINTS`` is not set).
    """
    import torch
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise InputError(f'checkpoint not found: {filename} (check the path, '
                         'or train first to create it)')
    _require_checkpoint_format(filename)
    trusted = os.environ.get(TRUST_ENV) == '1'
    try:
        if trusted:
            return torch.load(
                filename, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except MemoryError:
        raise
    except Exception as err:  # what a broken file raises varies
        lines = [line.strip() for line in str(err).splitlines()]
        untrusted = next(
            (line for line in lines
             if 'Unsupported global' in line or 'refusing' in line), None)
        if untrusted and not trusted:
            raise InputError(
                f'checkpoint {filename} contains objects that are not plain '
                f'weights ({untrusted}); if you trust the file, run with '
                f'{TRUST_ENV}=1') from None
        reason = f'{type(err).__name__}: {lines[0] if lines else ""}'[:200]
        if trusted and isinstance(err, (ImportError, AttributeError)):
            raise InputError(
                f'checkpoint {filename} refers to code that is not '
                f'installed here ({reason}); install it, or load the file '
                'where it was saved and save its state_dict only') from None
        raise InputError(
            f'checkpoint {filename} is corrupt or truncated ({reason}); '
            'copy or download it again, or save it again') from None


#: how files written by ``torch.save`` start: a zip archive (torch >= 1.6)
#: or a pickle (protocol 2 to 5, the legacy format)
_ZIP_MAGIC = b'PK\x03\x04'


def _require_checkpoint_format(filename):
    """Raise :class:`InputError` unless the file starts like a file written
    by ``torch.save`` (random bytes and text would otherwise fail inside the
    unpickler with arbitrary errors)."""
    with open(filename, 'rb') as f:
        head = f.read(4)
    if head.startswith(_ZIP_MAGIC) or (len(head) >= 2 and head[0] == 0x80
                                       and 2 <= head[1] <= 5):
        return
    raise InputError(
        f'{filename} is not a PyTorch checkpoint (neither a torch.save zip '
        'archive nor a pickle); pass the .pth file that tools/train.py or a '
        'converter in tools/model_converters/ wrote')


def register_checkpoint_loader():
    """Make mmengine (``load_from``, ``resume``, ``load_checkpoint``) use
    :func:`load_local_checkpoint` for local paths. Idempotent."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)

