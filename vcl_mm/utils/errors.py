"""User-facing errors.

Anything the *user* can fix (a missing file, a malformed JSON, a bad flag) raises
:class:`InputError` with one sentence that names the offending input and what to do.
The entry points in ``tools/`` catch it and print that one line instead of a
traceback from deep inside the runner.
"""
import os


class InputError(Exception):
    """A problem with user input (files, configs, flags), not a bug."""


def require_file(path, what='file', hint=None):
    """Raise :class:`InputError` unless ``path`` is an existing file.

    Args:
        path (str | os.PathLike): the path to check.
        what (str): what the file is, e.g. ``'checkpoint'``; used in the message.
        hint (str, optional): what the user should do, appended to the message.

    Returns:
        str: ``path`` as a string, for chaining.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        msg = f'{what} not found: {path}'
        if hint:
            msg += f' ({hint})'
        raise InputError(msg)
    return path


def require_dir(path, what='directory', hint=None):
    """Raise :class:`InputError` unless ``path`` is an existing directory."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        msg = f'{what} not found: {path}'
        if hint:
            msg += f' ({hint})'
        raise InputError(msg)
    return path
