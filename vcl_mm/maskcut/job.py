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

Two engines label a rank's share and write the same records: the pipelined
one (:mod:`vcl_mm.maskcut.shard_pipelined`, ``engine.pipelined=True``, the
default: reading, device and CRF stages overlap in worker processes) and
the serial one (:mod:`vcl_mm.maskcut.shard_serial`, one stage after another
in this process: the reference).
"""
import os
import os.path as osp
import time

from vcl_mm.utils.errors import env_int

from .images import list_images
from .parts import PartStore, check_outputs, merge_parts
from .registry import build_extractor
from .shard_pipelined import run_shard_pipelined
from .shard_serial import run_shard_serial
from .steps import MaskCutSteps

__all__ = [
    'run_settings', 'run_maskcut', 'default_workers', 'engine_workers'
]

#: seconds per image of these stages are reported (in this order)
STAGES = ('load', 'resize', 'features', 'ncut', 'crf', 'upsample',
          'resize_back', 'rle')


def default_workers(crf_backend='pydensecrf'):
    """Worker processes per rank from the machine: the CPUs this process
    may use (``os.sched_getaffinity``) divided among the ranks on the node
    (``LOCAL_WORLD_SIZE``), one left for the main process; the rest go
    mostly to the CRF pool when the CRF runs there (pydensecrf), else half
    to reading.

    Returns:
        tuple: ``(num_workers, post_workers)``.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    cpus //= max(1, env_int('LOCAL_WORLD_SIZE', 1))
    free = max(1, cpus - 1)
    readers = max(1, min(8, free // 4)) if crf_backend == 'pydensecrf' \
        else max(1, free // 2)
    return readers, max(1, free - readers)


def _weights_identity(model_cfg):
    """Path, size and mtime of the weights file (stale-result check)."""
    path = model_cfg.get('weights')
    if model_cfg.get('random_init') or not path or not osp.isfile(path):
        return None
    stat = os.stat(path)
    return [osp.abspath(path), stat.st_size, stat.st_mtime_ns]


def run_settings(model_cfg,
                 maskcut_cfg,
                 source,
                 min_size,
                 exif_transpose=False):
    """What a run's results depend on (stored in ``meta.json``)."""
    return dict(
        input=osp.abspath(source),
        model=dict(model_cfg),
        weights=_weights_identity(model_cfg),
        maskcut=dict(maskcut_cfg),
        min_image_size=min_size,
        exif_transpose=bool(exif_transpose))


def engine_workers(engine_cfg, crf_backend):
    """``(num_workers, post_workers)`` of the config, defaults from the
    machine (:func:`default_workers`)."""
    readers, post = default_workers(crf_backend)
    num_workers = engine_cfg.get('num_workers')
    post_workers = engine_cfg.get('post_workers')
    return (readers if num_workers is None else int(num_workers),
            post if post_workers is None else int(post_workers))


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
                progress=True,
                merge_when_complete=False):
    """The whole job for one process; rank 0 also merges.

    Args:
        model_cfg (dict): feature extractor config (``type`` registered
            in :data:`~vcl_mm.maskcut.registry.EXTRACTORS`, e.g.
            ``type='DinoViTKeyExtractor'``).
        maskcut_cfg (dict): :class:`MaskCutSteps` arguments.
        source (str): image folder or list file.
        out (str): output JSON.
        engine_cfg (dict, optional): ``batch_size``, ``min_image_size``,
            ``exif_transpose``, ``flush_every``, ``flush_seconds``,
            ``pipelined`` (default True), ``num_workers`` and
            ``post_workers`` (default :func:`default_workers`),
            ``start_method``.
        rank (int): process rank.
        world_size (int): number of processes.
        device (str): device of this process.
        skipped_file (str, optional): skipped-images file.
        barrier (callable, optional): waits for all ranks (distributed).
        progress (bool): show a progress bar on rank 0.
        merge_when_complete (bool): instead of rank 0 after the barrier,
            whichever rank finds every image recorded when its shard is
            done merges (independent shards, e.g. a slurm array).

    Returns:
        dict | None: the summary (merge counts, timings) where this
        process merged, else None.
    """
    from . import features  # noqa: F401 (registers DinoViTKeyExtractor)
    engine_cfg = dict(engine_cfg or {})
    min_size = engine_cfg.get('min_image_size', 16)
    exif = bool(engine_cfg.get('exif_transpose', False))
    check_outputs(out, skipped_file)
    listing = list_images(source)
    store = PartStore(
        out + '.parts',
        run_settings(model_cfg, maskcut_cfg, source, min_size, exif))
    store.check_settings()
    extractor = build_extractor(model_cfg)
    steps = MaskCutSteps(extractor, device=device, **maskcut_cfg)
    start = time.perf_counter()
    done_before = len(store.done_names())
    common = dict(
        rank=rank,
        world_size=world_size,
        batch_size=engine_cfg.get('batch_size', 1),
        progress=progress and (rank == 0 or merge_when_complete),
        min_size=min_size,
        exif_transpose=exif,
        flush_every=engine_cfg.get('flush_every', 50),
        flush_seconds=engine_cfg.get('flush_seconds', 120.))
    workers = dict(main=1)
    if engine_cfg.get('pipelined', True):
        num_workers, post_workers = engine_workers(engine_cfg,
                                                   steps.crf_backend)
        workers.update(loader=num_workers, post=post_workers)
        stats = run_shard_pipelined(
            steps,
            listing,
            store,
            num_workers=num_workers,
            post_workers=post_workers,
            start_method=engine_cfg.get('start_method'),
            **common)
    else:
        stats = run_shard_serial(steps, listing, store, **common)
    if barrier is not None:
        barrier()
    if merge_when_complete:
        if len(store.done_names() & set(listing.files)) < len(listing.files):
            return None
    elif rank != 0:
        return None
    summary = merge_parts(listing, store, out, skipped_file)
    seconds = time.perf_counter() - start
    new = summary['images'] - done_before
    n = max(stats['processed'], 1)
    timings = stats['timings']
    summary.update(
        resumed=done_before,
        processed=new,
        seconds=seconds,
        images_per_second=new / max(seconds, 1e-9),
        shard_seconds=stats['seconds'],
        shard_processed=stats['processed'],
        workers=workers,
        # this rank's own share; summed over the processes of a stage
        stage_seconds_per_image={
            k: timings[k] / n
            for k in STAGES if k in timings
        })
    return summary
