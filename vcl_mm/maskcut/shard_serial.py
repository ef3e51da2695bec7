"""The serial MaskCut engine (``engine.pipelined=False``): each batch is
read, labelled and encoded in this process, one stage after another.

It is the reference the pipelined engine
(:mod:`vcl_mm.maskcut.shard_pipelined`) must match record for record, and a
user option: it needs no worker processes (a machine or platform where
``DataLoader`` workers or a process pool cannot run, or a debugger).
Both engines cut batches with :func:`plan_batches`.
"""
import time

from tqdm import tqdm

from .images import SkipImage, load_image
from .parts import image_record, skip_record

__all__ = ['plan_batches', 'progress_bar', 'run_shard_serial']


def plan_batches(share, done, batch_size):
    """The batches of a rank's share that still have images to label.

    Batches are cut from the whole share and then lose their finished
    images, so a resumed run batches images as the first run did.

    Args:
        share (list[str]): the rank's images, in order.
        done (set[str]): images that already have a record.
        batch_size (int): images per forward pass.

    Returns:
        list[list[str]]
    """
    batches = [[n for n in share[i:i + batch_size] if n not in done]
               for i in range(0, len(share), batch_size)]
    return [b for b in batches if b]


def progress_bar(batches, rank, world_size, progress):
    """A tqdm bar over the batches' images (images/s and ETA)."""
    return tqdm(
        total=sum(map(len, batches)),
        unit='img',
        disable=not progress,
        desc=f'MaskCut rank {rank}' if world_size > 1 else 'MaskCut',
        dynamic_ncols=True,
        smoothing=0.1)


def run_shard_serial(steps,
                     listing,
                     store,
                     rank=0,
                     world_size=1,
                     batch_size=1,
                     min_size=16,
                     exif_transpose=False,
                     flush_every=50,
                     flush_seconds=120.,
                     progress=True):
    """Label this rank's share of the images that have no record yet.

    Args:
        steps (MaskCutSteps): images -> masks.
        listing (ImageList): all images of the job.
        store (PartStore): where records go.
        rank (int): this process's rank.
        world_size (int): number of processes.
        batch_size (int): images per forward pass. Batches are cut from the
            rank's whole share, so a resumed run batches images as the
            first run did.
        min_size (int): images with a shorter side below this are skipped.
        exif_transpose (bool): apply EXIF orientation when reading (default
            False, as upstream and the training pipelines).
        flush_every (int): records per part file.
        flush_seconds (float): also write a part file when this long has
            passed since the last one.
        progress (bool): show a tqdm bar (images/s and ETA).

    Returns:
        dict: ``done_before`` (records of this share found at start),
        ``processed``, ``seconds``.
    """
    share = listing.files[rank::world_size]
    done = store.done_names()
    batches = plan_batches(share, done, batch_size)
    pending, processed = [], 0
    start = last_flush = time.perf_counter()
    bar = progress_bar(batches, rank, world_size, progress)
    try:
        for batch in batches:
            loaded, names = [], []
            t = time.perf_counter()
            for name in batch:
                try:
                    loaded.append(
                        load_image(
                            listing.path(name), min_size, exif_transpose))
                    names.append(name)
                except SkipImage as err:
                    pending.append(skip_record(name, err.kind, err.detail))
            steps.timings['load'] += time.perf_counter() - t
            if loaded:
                for name, img, masks in zip(names, loaded, steps(loaded)):
                    t = time.perf_counter()
                    pending.append(image_record(name, img.shape, masks))
                    steps.timings['rle'] += time.perf_counter() - t
            processed += len(batch)
            bar.update(len(batch))
            now = time.perf_counter()
            if len(pending) >= flush_every or (pending and now - last_flush
                                               >= flush_seconds):
                store.write(rank, pending)
                pending, last_flush = [], now
    finally:
        store.write(rank, pending)
        bar.close()
    return dict(
        done_before=len(share) - sum(map(len, batches)),
        processed=processed,
        seconds=time.perf_counter() - start,
        timings=dict(steps.timings))
