"""The pipelined MaskCut engine: every stage busy at once.

Stages and where they run:

1. decoding + LANCZOS resizing: ``DataLoader`` workers
   (:class:`~vcl_mm.maskcut.reader.BatchReader`, ``engine.num_workers``),
   prefetching whole batches;
2. ViT keys + NCut, batched: the main process, on the device;
3. dense CRF (pydensecrf), resizing back, RLE: a pool of worker processes
   (:mod:`~vcl_mm.maskcut.postpool`, ``engine.post_workers``) fed as each
   batch leaves the device. With ``maskcut.crf.backend='torch'`` the CRF
   runs in the main process on the device and the pool only resizes back
   and encodes.

The records are the serial engine's
(:func:`vcl_mm.maskcut.shard_serial.run_shard_serial`): the same batches
(cut from the rank's whole share), the same per-image functions, so the
merged JSON is bit for bit the same. A batch's records are kept only once
all its images are finished, so an interrupted run resumes with the batches
an uninterrupted run has. On Ctrl-C or any error the pool is stopped, the
batches already finished are written, and the error propagates; an error in
a worker names its image.
"""
import sys
import time
from collections import deque
from concurrent.futures import wait
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from torch.utils.data import DataLoader

from .lifetime import parent_tie
from .parts import rle_record, skip_record
from .postpool import default_start_method, make_post_pool, post_image
from .reader import BatchReader, keep_batch
from .shard_serial import plan_batches, progress_bar

__all__ = ['run_shard_pipelined']


class _Batch:
    """A batch between the device and the pool."""

    def __init__(self, item, futures):
        self.item = item
        self.futures = futures  # one per loaded image

    def done(self):
        return all(f.done() for f in self.futures)

    def records(self, timings):
        """The batch's records (skips first, as the serial engine writes
        them), waiting for its images."""
        item = self.item
        out = [
            skip_record(name, *item['skips'][name]) for name in item['names']
            if name in item['skips']
        ]
        for name, (h, w), future in zip(item['loaded'], item['shapes'],
                                        self.futures):
            try:
                rles, seconds = future.result()
            except BrokenProcessPool:
                raise RuntimeError(
                    'a MaskCut post-processing worker died (killed, out of '
                    'memory or crashed) while the images '
                    f'{", ".join(item["loaded"])} were in the pool') from None
            for stage, s in seconds.items():
                timings[stage] = timings.get(stage, 0.) + s
            out.append(rle_record(name, h, w, rles))
        return out


def _finish_in_flight(queue, pool):
    """After an error or Ctrl-C: let the images already in the pool finish
    (no lost work; seconds), unless Ctrl-C comes again."""
    futures = [f for batch in queue for f in batch.futures]
    if not futures or all(f.done() for f in futures):
        return
    print(
        f'MaskCut: stopping; finishing the {len(futures)} images in the '
        'CRF pool first (Ctrl-C again to drop them)',
        file=sys.stderr)
    try:
        wait(futures)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)


def _run_batches(steps,
                 batches,
                 listing,
                 store,
                 rank=0,
                 min_size=16,
                 exif_transpose=False,
                 flush_every=50,
                 flush_seconds=120.,
                 num_workers=1,
                 post_workers=1,
                 start_method=None,
                 max_pending=None,
                 bar=None):
    """Label the given batches with all stages overlapping.

    Args:
        steps (MaskCutSteps): keys, NCut and the CRF settings.
        batches (list[list[str]]): image names per batch (see
            :func:`~vcl_mm.maskcut.shard_serial.plan_batches`).
        listing (ImageList): resolves names to paths.
        store (PartStore): where records go.
        rank (int): this process's rank (names the part files).
        min_size (int): shorter sides below this are skipped.
        exif_transpose (bool): apply EXIF orientation.
        flush_every (int): records per part file.
        flush_seconds (float): also write a part file this often.
        num_workers (int): ``DataLoader`` workers (0: read in this
            process).
        post_workers (int): CRF pool workers (0: in this process).
        start_method (str, optional): multiprocessing start method of both.
        max_pending (int, optional): images waiting in the pool before the
            device waits (default: two batches plus two per worker).
        bar (tqdm, optional): progress bar, advanced per finished batch.

    Returns:
        dict: ``processed`` (images recorded) and ``timings`` (seconds per
        stage, summed over the processes that ran it).
    """
    start_method = start_method or default_start_method()
    batch_size = max((len(b) for b in batches), default=1)
    if max_pending is None:
        max_pending = 2 * batch_size + 2 * max(post_workers, 1)
    device_crf = steps.crf_backend == 'torch'
    timings = {}
    pool = make_post_pool(post_workers, start_method)
    loader = DataLoader(
        BatchReader(batches, listing, steps.fixed_size, min_size,
                    exif_transpose),
        batch_size=None,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=keep_batch,
        worker_init_fn=parent_tie() if num_workers else None,
        multiprocessing_context=start_method if num_workers else None,
        prefetch_factor=2 if num_workers else None)
    queue, pending, state = deque(), [], dict(processed=0, images=0)
    last_flush = [time.perf_counter()]

    def harvest(limit):
        """Move finished batches (in order) to the records, waiting until
        at most ``limit`` images are in the pool; write a part file when
        due."""
        while queue and (queue[0].done() or state['images'] > limit):
            batch = queue.popleft()
            pending.extend(batch.records(timings))
            state['images'] -= len(batch.futures)
            state['processed'] += len(batch.item['names'])
            if bar is not None:
                bar.update(len(batch.item['names']))
        now = time.perf_counter()
        if len(pending) >= flush_every or (pending and now - last_flush[0]
                                           >= flush_seconds):
            store.write(rank, pending)
            pending.clear()
            last_flush[0] = now

    failed = True
    try:
        for item in loader:
            for stage, s in item['timings'].items():
                timings[stage] = timings.get(stage, 0.) + s
            futures = []
            if item['loaded']:
                fixed = item['fixed'].numpy()
                masks = steps.patch_masks(fixed)
                if device_crf:
                    masks = steps.refine_batch(fixed, masks)
                crf = None if device_crf else steps.crf
                for name, small, m, shape in zip(item['loaded'], fixed, masks,
                                                 item['shapes']):
                    futures.append(
                        pool.submit(post_image, name, np.array(small), m, crf,
                                    *shape, device_crf))
            queue.append(_Batch(item, futures))
            state['images'] += len(futures)
            harvest(max_pending)
        harvest(0)  # wait for every batch
        failed = False
    finally:
        if failed:
            _finish_in_flight(queue, pool)
        pool.shutdown(wait=True, cancel_futures=True)
        if failed:  # keep the batches that did finish
            while queue:
                batch = queue.popleft()
                if all(f.done() and not f.cancelled() and f.exception() is None
                       for f in batch.futures):
                    pending.extend(batch.records(timings))
                    state['processed'] += len(batch.item['names'])
        store.write(rank, pending)
        for stage, s in steps.timings.items():
            if stage in ('features', 'ncut', 'crf'):  # the main process's
                timings[stage] = timings.get(stage, 0.) + s
    return dict(processed=state['processed'], timings=timings)


def run_shard_pipelined(steps,
                        listing,
                        store,
                        rank=0,
                        world_size=1,
                        batch_size=1,
                        progress=True,
                        **kwargs):
    """:func:`~vcl_mm.maskcut.shard_serial.run_shard_serial` with the
    stages overlapping (same arguments, plus those of :func:`_run_batches`:
    ``num_workers``, ``post_workers``, ``start_method``, ...)."""
    share = listing.files[rank::world_size]
    batches = plan_batches(share, store.done_names(), batch_size)
    start = time.perf_counter()
    bar = progress_bar(batches, rank, world_size, progress)
    try:
        stats = _run_batches(
            steps, batches, listing, store, rank=rank, bar=bar, **kwargs)
    finally:
        bar.close()
    return dict(
        done_before=len(share) - sum(map(len, batches)),
        processed=stats['processed'],
        seconds=time.perf_counter() - start,
        timings=stats['timings'])
