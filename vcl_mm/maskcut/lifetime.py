"""Worker processes that die with their parent.

A SIGKILL of the main process runs none of its clean-up, so pool and
``DataLoader`` workers would stay alive, orphaned, blocked on a pipe.
:func:`tie_to_parent` (a worker initializer) asks Linux to send the worker
SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``, via ctypes) and
starts a watchdog thread that polls ``os.getppid()`` as a fallback (other
systems, or a parent that died before the ``prctl`` took effect).
"""
import ctypes
import ctypes.util
import functools
import os
import signal
import sys
import threading
import time

__all__ = ['tie_to_parent', 'parent_tie', 'WATCHDOG_PERIOD_S']

#: how often the fallback watchdog looks at the parent (seconds)
WATCHDOG_PERIOD_S = 1.0
_PR_SET_PDEATHSIG = 1


def _set_pdeathsig(sig=signal.SIGKILL):
    """``prctl(PR_SET_PDEATHSIG, sig)``; False where unavailable."""
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6',
                           use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid, period):
    while True:
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(period)


def tie_to_parent(parent_pid, *_, period=WATCHDOG_PERIOD_S):
    """Make this (worker) process die when ``parent_pid`` does.

    Args:
        parent_pid (int): the pid of the process that started the worker
            (taken there, before the start: ``os.getpid()``).
        *_: ignored (a ``DataLoader`` passes the worker id).
        period (float): seconds between the watchdog's looks.
    """
    _set_pdeathsig()
    if os.getppid() != parent_pid:  # died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(
        target=_watch, args=(parent_pid, period), daemon=True,
        name='parent-watchdog').start()


def parent_tie(then=None):
    """A picklable initializer (``worker_init_fn``) tying workers to this
    process, then calling ``then`` (with the initializer's arguments)."""
    return functools.partial(_tie_then, os.getpid(), then)


def _tie_then(parent_pid, then, *args):
    tie_to_parent(parent_pid)
    if then is not None:
        then(*args)
