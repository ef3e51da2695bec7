"""MaskCut over a set of images: sharded, resumable, merged into one JSON.

Rank ``r`` of ``W`` takes the images ``r, r + W, ...`` of the sorted
listing and writes its records as part files (:mod:`vcl_mm.maskcut.parts`)
every ``flush_every`` images or ``flush_seconds``; a re-run skips images
that already have a record, so an interrupted run finishes where it
stopped and the final JSON, merged by rank 0 once every image has a record,
equals an uninterrupted run's. Known input problems (unreadable, truncated,
too small) become skip records; an image whose masks were all rejected is
recorded without annotations (as upstream); anything else is a bug and
stops the job (after flushing the results so far).
"""
import os
import os.path as osp
import time

from .images import SkipImage, list_images, load_image
from .parts import (PartStore, check_outputs, image_record, merge_parts,
                    skip_record)
from .pipeline import MaskCutPipeline

__all__ = ['run_shard', 'run_settings', 'run_maskcut']


def run_shard(pipeline,
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
        pipeline (MaskCutPipeline): images -> masks.
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
    from tqdm import tqdm
    share = listing.files[rank::world_size]
    done = store.load()
    todo = [n for n in share if n not in done]
    batches = [[n for n in share[i:i + batch_size] if n not in done]
               for i in range(0, len(share), batch_size)]
    batches = [b for b in batches if b]
    pending, processed = [], 0
    start = last_flush = time.perf_counter()
    bar = tqdm(
        total=len(todo),
        unit='img',
        disable=not progress,
        desc=f'MaskCut rank {rank}' if world_size > 1 else 'MaskCut',
        dynamic_ncols=True,
        smoothing=0.1)
    try:
        for batch in batches:
            loaded, names = [], []
            t = time.perf_counter()
            for name in batch:
                try:
                    loaded.append(
                        load_image(listing.path(name), min_size,
                                   exif_transpose))
                    names.append(name)
                except SkipImage as err:
                    pending.append(skip_record(name, err.kind, err.detail))
            pipeline.timings['load'] += time.perf_counter() - t
            if loaded:
                for name, img, masks in zip(names, loaded, pipeline(loaded)):
                    pending.append(image_record(name, img.shape, masks))
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
        done_before=len(share) - len(todo),
        processed=processed,
        seconds=time.perf_counter() - start)


def _weights_identity(model_cfg):
    """Path, size and mtime of the weights file (stale-result check)."""
    path = model_cfg.get('weights')
    if model_cfg.get('random_init') or not path or not osp.isfile(path):
        return None
    stat = os.stat(path)
    return [osp.abspath(path), stat.st_size, stat.st_mtime_ns]


def run_settings(model_cfg, maskcut_cfg, source, min_size,
                 exif_transpose=False):
    """What a run's results depend on (stored in ``meta.json``)."""
    return dict(
        input=osp.abspath(source),
        model=dict(model_cfg),
        weights=_weights_identity(model_cfg),
        maskcut=dict(maskcut_cfg),
        min_image_size=min_size,
        exif_transpose=bool(exif_transpose))


def run_maskcut(model_cfg,
                maskcut_cfg,
                source,
                out,
                engine_cfg=None,
                rank=0,
                world_size=1,
                device='cpu',
                skipped_file=None,
                barrier=None,
                progress=True):
    """The whole job for one process; rank 0 also merges.

    Args:
        model_cfg (dict): feature extractor config (built from mmdet's
            ``MODELS``, e.g. ``type='DinoViTKeyExtractor'``).
        maskcut_cfg (dict): :class:`MaskCutPipeline` arguments.
        source (str): image folder or list file.
        out (str): output JSON.
        engine_cfg (dict, optional): ``batch_size``, ``min_image_size``,
            ``flush_every``, ``flush_seconds``.
        rank (int): process rank.
        world_size (int): number of processes.
        device (str): device of this process.
        skipped_file (str, optional): skipped-images file.
        barrier (callable, optional): waits for all ranks (distributed).
        progress (bool): show a progress bar on rank 0.

    Returns:
        dict | None: on rank 0 the summary (merge counts, timings), else
        None.
    """
    from mmdet.registry import MODELS

    from .features import DinoViTKeyExtractor  # noqa: F401 (registers)
    engine_cfg = dict(engine_cfg or {})
    min_size = engine_cfg.get('min_image_size', 16)
    exif = bool(engine_cfg.get('exif_transpose', False))
    check_outputs(out, skipped_file)
    listing = list_images(source)
    store = PartStore(out + '.parts',
                      run_settings(model_cfg, maskcut_cfg, source, min_size,
                                   exif))
    store.check_settings()
    extractor = MODELS.build(dict(model_cfg))
    pipeline = MaskCutPipeline(extractor, device=device, **maskcut_cfg)
    start = time.perf_counter()
    done_before = len(store.load())
    stats = run_shard(
        pipeline,
        listing,
        store,
        rank=rank,
        world_size=world_size,
        batch_size=engine_cfg.get('batch_size', 1),
        min_size=min_size,
        exif_transpose=exif,
        flush_every=engine_cfg.get('flush_every', 50),
        flush_seconds=engine_cfg.get('flush_seconds', 120.),
        progress=progress and rank == 0)
    if barrier is not None:
        barrier()
    if rank != 0:
        return None
    summary = merge_parts(listing, store, out, skipped_file)
    seconds = time.perf_counter() - start
    new = summary['images'] - done_before
    n = max(stats['processed'], 1)
    summary.update(
        resumed=done_before,
        processed=new,
        seconds=seconds,
        images_per_second=new / max(seconds, 1e-9),
        # rank 0's own share
        stage_seconds_per_image={
            k: v / n
            for k, v in sorted(pipeline.timings.items())
        })
    return summary
