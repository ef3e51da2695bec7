from .checkpoint import load_local_checkpoint, register_checkpoint_loader
from .errors import InputError, require_dir, require_file, require_writable

__all__ = [
    'InputError', 'require_file', 'require_dir', 'require_writable',
    'load_local_checkpoint', 'register_checkpoint_loader'
]
