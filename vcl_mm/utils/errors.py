"""User-facing errors.

Anything the *user* can fix (a missing file, a malformed JSON, a bad flag) raises
:class:`InputError` with one sentence that names the offending input and what to do.
The entry points in ``tools/`` catch it and print that one line instead of a
traceback from deep inside the runner.
"""
import os
import tempfile


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


def require_writable(path, what='output file', hint=None):
    """Raise :class:`InputError` unless a file can be written at ``path``.

    Creates the missing parent folders and writes (and removes) a probe
    file there, so a long job fails at the start instead of at its first
    write: ``path`` being a directory, a parent being a regular file, or a
    folder without write permission are named in the message.

    Args:
        path (str | os.PathLike): the file to be written.
        what (str): what the file is, e.g. ``'output JSON'``.
        hint (str, optional): what the user should do, appended to the
            message (default: choose another path).

    Returns:
        str: ``path`` as a string, for chaining.
    """
    path = os.fspath(path)
    hint = hint or 'choose another path'
    if os.path.isdir(path):
        raise InputError(f'{what} {path} is a directory, not a file name '
                         f'({hint}, e.g. {os.path.join(path, "out.json")})')
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        blocker = folder
        while blocker and not os.path.exists(blocker):
            blocker = os.path.dirname(blocker)
        if os.path.exists(blocker) and not os.path.isdir(blocker):
            reason = f'{blocker} is a file, not a folder'
        elif isinstance(err, PermissionError):
            reason = f'the folder {blocker} is not writable'
        else:
            reason = err.strerror or type(err).__name__
        raise InputError(f'cannot write the {what} {path}: {reason} '
                         f'({hint})') from None
    return path


def env_int(name, default=None):
    """An integer environment variable set by a launcher (slurm,
    torchrun), or :class:`InputError` naming it and its value.

    Args:
        name (str): the variable.
        default (int, optional): returned when it is unset (None: unset
            is an error too).
    """
    text = os.environ.get(name)
    if text is None:
        if default is not None:
            return default
        raise InputError(f'{name} is not set (start the job with the '
                         'launcher that sets it, or drop --launcher)')
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f'{name}={text!r} is not an integer (it is set by '
                         'the job launcher: fix or unset it)') from None
