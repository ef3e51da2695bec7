from .errors import InputError, require_dir, require_file

__all__ = ['InputError', 'require_file', 'require_dir']
