"""The DAVIS data format: folder layout, indexed (palette) PNG label maps.

Layout (official DAVIS 2017; DAVIS 2016 and DAVIS-2017-Motion follow it)::

    <root>/JPEGImages/<res>/<seq>/<frame>.jpg
    <root>/Annotations_unsupervised/<res>/<seq>/<frame>.png   (or
    <root>/Annotations/<res>/<seq>/<frame>.png)
    <root>/ImageSets/2017/<split>.txt                          (optional)

``<res>`` is ``480p`` by default; an empty resolution means no such level.
Ground-truth PNGs are indexed (palette) label maps with 255 = void
(:data:`VOID_LABEL`), or DAVIS-2016 single-channel 0/255 masks, read as
object 1. numpy + PIL only.
"""
import os
import os.path as osp

import numpy as np
from PIL import Image

from vcl_mm.utils.errors import InputError

__all__ = [
    'VOID_LABEL', 'davis_palette', 'write_indexed_png', 'read_label_png',
    'davis_annotation_dir', 'davis_sequences', 'davis_frames'
]

#: Ground-truth label of pixels that are not evaluated.
VOID_LABEL = 255


def davis_palette():
    """The DAVIS/PASCAL VOC colour palette, a flat list of 768 ints."""
    palette = np.zeros((256, 3), np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette[i] = (r, g, b)
    return palette.reshape(-1).tolist()


def write_indexed_png(path, label_map):
    """Save an (H, W) uint8 label map as a DAVIS palette PNG (creates the
    folder)."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    img = Image.fromarray(np.asarray(label_map).astype(np.uint8), mode='P')
    img.putpalette(davis_palette())
    img.save(path)


def read_label_png(path, binary_is_object=True):
    """Read a DAVIS label PNG as an (H, W) uint8 label map.

    Args:
        path (str): PNG file.
        binary_is_object (bool): a non-palette image whose values are all
            in {0, 255} (DAVIS 2016) becomes 0/1 (255 = object 1). Off for
            predictions, which are read as raw indices like the official
            tool.

    Returns:
        np.ndarray: (H, W) uint8 ids (255 = void for palette ground truth).
        Grey + alpha images use the grey channel.
    """
    try:
        img = Image.open(path)
        img.load()
    except FileNotFoundError:
        raise InputError(f'mask not found: {path}')
    except OSError as e:
        raise InputError(f'cannot read mask {path}: {e}')
    if img.mode == 'LA':  # grey + alpha (one DAVIS-2016 file): the grey
        img = img.getchannel('L')
    if img.mode not in ('P', 'L', '1'):
        raise InputError(f'{path}: expected an indexed (palette) or '
                         f'single-channel PNG, got mode {img.mode}')
    arr = np.asarray(img, dtype=np.uint8)
    if img.mode == '1':
        return arr.astype(np.uint8)
    if img.mode == 'L' and binary_is_object:
        counts = np.bincount(arr.ravel(), minlength=256)
        if counts[1:255].sum() == 0:
            return (arr == 255).astype(np.uint8)
    return arr


def davis_annotation_dir(root,
                         task='unsupervised',
                         resolution='480p',
                         ann_dir=None):
    """The ground-truth folder of a DAVIS root.

    Args:
        root (str): DAVIS root.
        task (str): ``'unsupervised'`` prefers ``Annotations_unsupervised``
            and falls back to ``Annotations``.
        resolution (str): sub-folder such as ``'480p'``; '' for none.
        ann_dir (str, optional): explicit folder (relative to ``root`` or
            absolute), e.g. for DAVIS-2017-Motion re-annotations.

    Returns:
        str: existing folder holding ``<seq>/<frame>.png``.
    """
    if not osp.isdir(root):
        raise InputError(f'DAVIS root not found: {root}')
    if ann_dir is not None:
        path = ann_dir if osp.isabs(ann_dir) else osp.join(root, ann_dir)
        if not osp.isdir(path):
            raise InputError(f'DAVIS annotation folder not found: {path}')
        return path
    if task != 'unsupervised':
        raise InputError(f'DAVIS task {task!r} is not supported; only '
                         "'unsupervised'")
    tried = []
    for name in ('Annotations_unsupervised', 'Annotations'):
        path = osp.join(root, name, resolution) if resolution else osp.join(
            root, name)
        if osp.isdir(path):
            return path
        tried.append(path)
    raise InputError(
        f'DAVIS annotations not found: tried {" and ".join(tried)}')


def davis_sequences(root, ann_dir, split='val', year='2017'):
    """Sequence names in evaluation order.

    ``<root>/ImageSets/<year>/<split>.txt`` (official order); without an
    ``ImageSets/<year>`` folder (e.g. DAVIS-2016 extracts), every sequence
    folder of ``ann_dir``, sorted. A split missing from an existing
    ``ImageSets/<year>`` folder raises InputError.
    """
    listing = osp.join(root, 'ImageSets', year, f'{split}.txt')
    if osp.isdir(osp.dirname(listing)) and not osp.isfile(listing):
        have = sorted(f[:-4] for f in os.listdir(osp.dirname(listing))
                      if f.endswith('.txt'))
        raise InputError(f'DAVIS split {split!r} not found: no {listing} '
                         f'(splits there: {", ".join(have) or "none"})')
    if osp.isfile(listing):
        with open(listing) as f:
            names = [line.strip() for line in f if line.strip()]
        for name in names:
            if not osp.isdir(osp.join(ann_dir, name)):
                raise InputError(f'sequence {name} listed in {listing} has '
                                 f'no annotations in {ann_dir}')
        return names
    names = sorted(
        d for d in os.listdir(ann_dir) if osp.isdir(osp.join(ann_dir, d)))
    if not names:
        raise InputError(f'no sequence folders in {ann_dir}')
    return names


def davis_frames(ann_dir, seq):
    """Sorted frame names (file stems) of a sequence's ground truth."""
    folder = osp.join(ann_dir, seq)
    frames = sorted(f[:-4] for f in os.listdir(folder) if f.endswith('.png'))
    if not frames:
        raise InputError(f'sequence {seq}: no PNG masks in {folder}')
    return frames
