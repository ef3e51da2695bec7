"""Small shared helpers (light: numpy and the standard library at import)."""
from .checkpoint import load_local_checkpoint, register_checkpoint_loader
from .config_variables import resolve_variables
from .errors import InputError, require_dir, require_file, require_writable
from .setup_env import register_all_modules

__all__ = [
    'InputError', 'require_file', 'require_dir', 'require_writable',
    'load_local_checkpoint', 'register_checkpoint_loader',
    'register_all_modules', 'resolve_variables'
]
