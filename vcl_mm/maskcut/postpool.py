"""CRF, resizing back and RLE in a pool of worker processes (the pipelined
engine's last stage).

:func:`post_image` is the task: one image's patch masks (or the masks a
device CRF already refined) -> COCO RLEs at the original size, with the
seconds of each step. :func:`make_post_pool` gives a
``ProcessPoolExecutor`` whose workers ignore Ctrl-C (the main process
decides what to keep) and run torch single-threaded, or, with 0 workers,
an executor that runs tasks at once in the calling process.
"""
import multiprocessing as mp
import signal
import sys
import time
from collections import defaultdict
from concurrent.futures import Future, ProcessPoolExecutor

import torch

from .coco_io import encode_mask
from .lifetime import parent_tie
from .steps import masks_at_size

__all__ = ['post_image', 'make_post_pool', 'default_start_method']


def post_image(name, small, masks, crf, height, width, refined=False):
    """One image's masks at its original size, as COCO RLEs.

    Args:
        name (str): image name (for error messages).
        small (np.ndarray): (S, S, 3) uint8, the image at the fixed size.
        masks (list[np.ndarray]): (h, w) bool patch masks (or (S, S)
            refined masks with ``refined``).
        crf (dict | None): CRF parameters.
        height (int): original height.
        width (int): original width.
        refined (bool): the CRF already ran (on the device).

    Returns:
        tuple: list of RLE dicts, ``{stage: seconds}``.

    Raises:
        RuntimeError: naming the image, from whatever failed.
    """
    timings = defaultdict(float)
    try:
        out = masks_at_size(small, masks, crf, height, width, timings, refined)
        t = time.perf_counter()
        rles = [encode_mask(m) for m in out]
        timings['rle'] = time.perf_counter() - t
    except Exception as err:
        raise RuntimeError(
            f'MaskCut post-processing (CRF, resize back, RLE) of {name} '
            f'failed: {type(err).__name__}: {err}') from err
    return rles, dict(timings)


def _init_worker():
    """Workers leave Ctrl-C to the main process (which keeps the finished
    images and stops them) and use one thread each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)


class InlineExecutor:
    """An executor that runs each task when submitted (0 pool workers)."""

    def submit(self, fn, *args, **kwargs):
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def default_start_method():
    """``fork`` on Linux (workers start at once and inherit the imports),
    ``spawn`` elsewhere (macOS and Windows cannot fork safely)."""
    return 'fork' if sys.platform.startswith('linux') else 'spawn'


def make_post_pool(num_workers, start_method=None):
    """The pool of CRF workers.

    Args:
        num_workers (int): worker processes; 0 runs tasks in this process.
        start_method (str, optional): multiprocessing start method
            (default :func:`default_start_method`).

    Returns:
        ProcessPoolExecutor | InlineExecutor
    """
    if num_workers <= 0:
        return InlineExecutor()
    ctx = mp.get_context(start_method or default_start_method())
    pool = ProcessPoolExecutor(
        num_workers, mp_context=ctx,
        # workers die with this process, even on SIGKILL (no orphans)
        initializer=parent_tie(_init_worker))
    # start every worker now, before the loader's workers and the progress
    # bar's thread exist (forking a process with threads is fragile)
    for future in [pool.submit(int) for _ in range(num_workers)]:
        future.result()
    return pool
