"""MaskCut over a set of images: sharded, resumable, merged into one JSON.

Layout of a run writing ``OUT.json``:

* ``OUT.json.parts/meta.json``: the settings the partial results belong to
  (a re-run with other settings is refused instead of mixing results);
* ``OUT.json.parts/r<rank>-<time>-<pid>-<n>.json``: partial results, each
  file written atomically (temporary file + rename) every ``flush_every``
  images or ``flush_seconds``, one record per image: its size and RLE
  masks, or why it was skipped;
* ``OUT.json``: the merged COCO JSON, images in listing order with fresh
  ids, written by rank 0 once every image has a record;
* ``OUT.skipped.txt`` (or ``skipped_file``): ``name<TAB>kind<TAB>detail``
  per skipped image.

Rank ``r`` of ``W`` takes the images ``r, r + W, ...`` of the sorted
listing; a re-run skips images that already have a record, so an
interrupted run finishes where it stopped and the final JSON equals an
uninterrupted run's. Known input problems (unreadable, truncated, too
small) become skip records; an image whose masks were all rejected is
recorded without annotations (as upstream); anything else is a bug and
stops the job (after flushing the results so far).
"""
import glob
import json
import os
import os.path as osp
import time
from collections import Counter, defaultdict

import numpy as np
import torch
from PIL import Image

from vcl_mm.utils import InputError, require_writable
from .coco_io import build_coco, encode_mask, write_json_atomic
from .features import images_to_tensor
from .images import SkipImage, list_images, load_image
from .ncut import maskcut_patch_masks_batch
from .refine import CRF_DEFAULTS, refine_masks, resize_mask

__all__ = [
    'MaskCutPipeline', 'PartStore', 'run_shard', 'check_outputs',
    'merge_parts', 'run_maskcut', 'skipped_path'
]

_DTYPES = dict(float32=torch.float32, float64=torch.float64)


class MaskCutPipeline:
    """RGB images -> MaskCut masks at their original size.

    Args:
        extractor (torch.nn.Module): returns (B, C, h, w) patch features of
            (B, 3, H, W) normalised images, e.g. ``DinoViTKeyExtractor``.
        fixed_size (int): images are resized to fixed_size x fixed_size
            (LANCZOS, aspect ratio not kept) for features and CRF.
        tau (float): affinity threshold.
        num_masks (int): NCut solves per image (upstream ``N``).
        min_area (float): later masks of at most this grid fraction are
            rejected.
        max_iou (float): later masks overlapping the previous one more
            are rejected.
        solver (dict, optional): eigen solver options (``sign``, ``dtype``
            as a string, ``block_size``, ``tol``, ``max_iter``, ...).
        crf (dict | None): CRF parameters; None skips the CRF.
        device (str | torch.device): where the extractor and NCut run.
    """

    def __init__(self,
                 extractor,
                 fixed_size=480,
                 tau=0.15,
                 num_masks=3,
                 min_area=0.01,
                 max_iou=0.5,
                 solver=None,
                 crf=CRF_DEFAULTS,
                 device='cpu'):
        self.device = torch.device(device)
        self.extractor = extractor.to(self.device)
        self.fixed_size = int(fixed_size)
        self.tau = tau
        self.num_masks = num_masks
        self.min_area = min_area
        self.max_iou = max_iou
        self.solver = dict(solver or {})
        if isinstance(self.solver.get('dtype'), str):
            self.solver['dtype'] = _DTYPES[self.solver['dtype']]
        self.crf = None if crf is None else dict(crf)
        #: seconds spent per stage since construction
        self.timings = defaultdict(float)

    def resize(self, rgb):
        """(H, W, 3) uint8 -> (S, S, 3) uint8, LANCZOS as upstream."""
        size = (self.fixed_size, self.fixed_size)
        return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))

    def _tick(self, stage, start):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        self.timings[stage] += now - start
        return now

    def __call__(self, images):
        """Masks of a batch of images.

        Args:
            images (list[np.ndarray]): (H_i, W_i, 3) uint8 RGB images.

        Returns:
            list[list[np.ndarray]]: per image, (H_i, W_i) bool masks in
            discovery order (possibly none).
        """
        t = time.perf_counter()
        fixed = np.stack([self.resize(img) for img in images])
        t = self._tick('resize', t)
        feats = self.extractor(images_to_tensor(fixed).to(self.device))
        t = self._tick('features', t)
        patch_masks = maskcut_patch_masks_batch(
            feats,
            tau=self.tau,
            num_masks=self.num_masks,
            min_area=self.min_area,
            max_iou=self.max_iou,
            **self.solver)
        t = self._tick('ncut', t)
        out = []
        for img, small, masks in zip(images, fixed, patch_masks):
            refined = refine_masks(small, masks, crf=self.crf)
            t = self._tick('crf' if self.crf is not None else 'upsample', t)
            h, w = img.shape[:2]
            resized = [resize_mask(m, w, h) for m in refined]
            out.append([m for m in resized if m.any()])
            t = self._tick('resize', t)
        return out


class PartStore:
    """The partial results of one run (see the module docstring).

    Args:
        folder (str): the parts folder.
        settings (dict): JSON-serialisable settings of the run.
    """

    def __init__(self, folder, settings):
        self.folder = folder
        self.settings = json.loads(json.dumps(settings))
        self._seq = 0

    def check_settings(self):
        """Create the folder, or refuse results made with other settings.

        Raises:
            InputError: ``meta.json`` holds different settings.
        """
        os.makedirs(self.folder, exist_ok=True)
        meta = osp.join(self.folder, 'meta.json')
        if osp.isfile(meta):
            with open(meta) as f:
                old = json.load(f)
            if old != self.settings:
                keys = sorted(
                    k for k in set(old) | set(self.settings)
                    if old.get(k) != self.settings.get(k))
                raise InputError(
                    f'the partial results in {self.folder} were made with '
                    f'other settings (differing: {", ".join(keys)}); rerun '
                    'with the same settings, or delete that folder to '
                    'start over')
        else:
            write_json_atomic(meta, self.settings)

    def load(self):
        """All records written so far, by any rank.

        Returns:
            dict[str, dict]: image name -> record (first one wins).
        """
        records = {}
        for path in sorted(glob.glob(osp.join(self.folder, 'r*.json'))):
            with open(path) as f:
                for rec in json.load(f)['records']:
                    records.setdefault(rec['file_name'], rec)
        return records

    def write(self, rank, records):
        """Write records as one new part file (atomically)."""
        if not records:
            return
        self._seq += 1
        name = f'r{rank:04d}-{time.time_ns()}-{os.getpid()}-{self._seq}.json'
        write_json_atomic(
            osp.join(self.folder, name), dict(records=list(records)))


def _image_record(name, shape, masks):
    """The JSON record of a labelled image. An image whose masks were all
    rejected (NCut rules, CRF, resizing) is recorded without annotations,
    as upstream's MaskCut does: the video recipe keeps such images as
    targets that carry pasted objects only."""
    h, w = shape[:2]
    return dict(
        file_name=name,
        width=w,
        height=h,
        masks=[encode_mask(m) for m in masks])


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
              progress=True,
              fail_after=None):
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
        fail_after (int, optional): testing only: raise after this many
            images (what was labelled is flushed first, as on any error).

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
                    pending.append(
                        dict(file_name=name, skip=err.kind, detail=err.detail))
            pipeline.timings['load'] += time.perf_counter() - t
            if loaded:
                for name, img, masks in zip(names, loaded, pipeline(loaded)):
                    pending.append(_image_record(name, img.shape, masks))
            processed += len(batch)
            bar.update(len(batch))
            now = time.perf_counter()
            if len(pending) >= flush_every or (pending and now - last_flush
                                               >= flush_seconds):
                store.write(rank, pending)
                pending, last_flush = [], now
            if fail_after is not None and processed >= fail_after:
                raise RuntimeError(
                    f'injected failure after {processed} images')
    finally:
        store.write(rank, pending)
        bar.close()
    return dict(
        done_before=len(share) - len(todo),
        processed=processed,
        seconds=time.perf_counter() - start)


def skipped_path(out):
    """Default skipped-images file of an output JSON."""
    base = out[:-5] if out.endswith('.json') else out
    return base + '.skipped.txt'


def check_outputs(out, skipped_file=None):
    """Refuse, before any work, outputs that could not be written: ``out``
    or the skipped-images file being a directory, a parent being a file, a
    folder without write permission, or the parts folder being a file.

    Raises:
        InputError: naming the path and what to do.
    """
    hint = 'pass another --out'
    require_writable(out, 'output JSON', hint)
    require_writable(
        skipped_file or skipped_path(out), 'skipped-images file',
        'pass another --skipped' if skipped_file else 'pass --skipped')
    parts = out + '.parts'
    if osp.exists(parts) and not osp.isdir(parts):
        raise InputError(f'{parts} (where partial results go) is a file; '
                         f'move it away or {hint}')


def merge_parts(listing, store, out, skipped_file=None):
    """Write the final JSON and the skipped-images file.

    Args:
        listing (ImageList): all images of the job, in output order.
        store (PartStore): the partial results.
        out (str): output JSON path.
        skipped_file (str, optional): default :func:`skipped_path`.

    Returns:
        dict: summary counts.

    Raises:
        RuntimeError: some image has no record (a shard did not finish).
    """
    records = store.load()
    missing = [n for n in listing.files if n not in records]
    if missing:
        raise RuntimeError(
            f'{len(missing)} images have no result in {store.folder} '
            f'(e.g. {missing[0]}); run the same command again to finish')
    entries, skipped = [], []
    for name in listing.files:
        rec = records[name]
        if 'skip' in rec:
            skipped.append(rec)
        else:
            entries.append(rec)
    coco = build_coco(entries)
    write_json_atomic(out, coco)
    skipped_file = skipped_file or skipped_path(out)
    lines = ''.join(f'{r["file_name"]}\t{r["skip"]}\t{r["detail"]}\n'
                    for r in skipped)
    folder = osp.dirname(osp.abspath(skipped_file))
    os.makedirs(folder, exist_ok=True)
    tmp = skipped_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('# image\tkind\tdetail\n' + lines)
    os.replace(tmp, skipped_file)
    return dict(
        images=len(listing.files),
        labelled=len(entries),
        without_masks=sum(not e['masks'] for e in entries),
        masks=len(coco['annotations']),
        skipped=len(skipped),
        skipped_by_kind=dict(
            sorted(Counter(r['skip'] for r in skipped).items())),
        ignored_files=listing.ignored,
        duplicate_lines=listing.duplicates,
        out=out,
        skipped_file=skipped_file)


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
                progress=True,
                fail_after=None):
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
        fail_after (int, optional): testing only, see :func:`run_shard`.

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
        progress=progress and rank == 0,
        fail_after=fail_after)
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
