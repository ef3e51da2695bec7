"""Writing result files so that a reader never sees a partial one."""
import contextlib
import json
import os
import os.path as osp
import tempfile

__all__ = ['atomic_text_file', 'write_json_atomic']


def _umask():
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_text_file(path):
    """Open a text file to write ``path`` atomically: the content goes to
    a temporary file next to it, renamed onto ``path`` when the ``with``
    block ends without error (removed otherwise), so readers never see a
    partial file. The file gets the permissions of a plain ``open(path,
    'w')`` (0o666 minus the umask), not ``mkstemp``'s private 0o600.

    Yields:
        io.TextIOWrapper: the temporary file.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix='.' + osp.basename(path) + '.', suffix='.tmp')
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, 'w') as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def write_json_atomic(path, obj):
    """Write JSON to ``path`` atomically (see :func:`atomic_text_file`)."""
    with atomic_text_file(path) as f:
        json.dump(obj, f)
