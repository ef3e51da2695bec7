from .checkpoint import load_local_checkpoint, register_checkpoint_loader
from .errors import InputError, require_dir, require_file

__all__ = [
    'InputError', 'require_file', 'require_dir', 'load_local_checkpoint',
    'register_checkpoint_loader'
]
