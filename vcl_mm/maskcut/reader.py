"""Reading and resizing images in ``DataLoader`` workers (the pipelined
engine's first stage).

:class:`BatchReader` is a map-style dataset whose items are the engine's
batches: item ``i`` reads the images of batch ``i`` (a known problem
becomes a skip, as in the serial engine) and resizes them to the fixed size
(LANCZOS), so a ``DataLoader`` with ``batch_size=None`` prefetches whole
batches in worker processes while the device works on earlier ones.
"""
import time

import numpy as np
import torch

from .images import SkipImage, load_image
from .steps import resize_fixed

__all__ = ['BatchReader', 'keep_batch']


class BatchReader(torch.utils.data.Dataset):
    """The engine's batches of images, read and resized.

    Args:
        batches (list[list[str]]): image names per batch.
        listing (ImageList): resolves names to paths.
        fixed_size (int): side of the square the images are resized to.
        min_size (int): shorter sides below this are skipped.
        exif_transpose (bool): apply EXIF orientation.

    Item ``i``: a dict with ``index``; ``names`` (the batch's names);
    ``skips`` (``{name: (kind, detail)}``); ``loaded`` (names read, in
    batch order); ``shapes`` ((H, W) of each read image); ``fixed``
    ((B, S, S, 3) uint8 tensor of the read images, None if none);
    ``timings`` (seconds of ``load`` and ``resize``).

    Raises:
        RuntimeError: reading failed in an unexpected way (a bug, not bad
            input); the message names the image.
    """

    def __init__(self,
                 batches,
                 listing,
                 fixed_size,
                 min_size=16,
                 exif_transpose=False):
        self.batches = batches
        self.listing = listing
        self.fixed_size = int(fixed_size)
        self.min_size = min_size
        self.exif_transpose = exif_transpose

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        names = self.batches[index]
        skips, loaded, shapes, fixed = {}, [], [], []
        timings = dict(load=0., resize=0.)
        for name in names:
            path = self.listing.path(name)
            t = time.perf_counter()
            try:
                rgb = load_image(path, self.min_size, self.exif_transpose)
                t1 = time.perf_counter()
                small = resize_fixed(rgb, self.fixed_size)
            except SkipImage as err:
                skips[name] = (err.kind, err.detail)
                continue
            except Exception as err:
                raise RuntimeError(
                    f'MaskCut could not read {path}: {type(err).__name__}: '
                    f'{err}') from err
            timings['load'] += t1 - t
            timings['resize'] += time.perf_counter() - t1
            loaded.append(name)
            shapes.append(rgb.shape[:2])
            fixed.append(small)
        return dict(
            index=index,
            names=list(names),
            skips=skips,
            loaded=loaded,
            shapes=shapes,
            fixed=torch.from_numpy(np.stack(fixed)) if fixed else None,
            timings=timings)


def keep_batch(item):
    """``collate_fn`` of the reader's loader: items are already batches."""
    return item
