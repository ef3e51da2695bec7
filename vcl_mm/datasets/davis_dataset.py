"""DAVIS (2016 / 2017 / 2017-Motion) sequences as a video dataset."""
import os
import os.path as osp

import numpy as np
from PIL import Image

from mmdet.datasets import BaseVideoDataset
from vcl_mm.registry import DATASETS
from vcl_mm.utils import InputError
from .api_wrappers import masks as mask_fmt
from .api_wrappers.davis_format import (VOID_LABEL, davis_annotation_dir,
                                        davis_sequences, read_label_png)

__all__ = ['DAVISDataset']


@DATASETS.register_module()
class DAVISDataset(BaseVideoDataset):
    """DAVIS sequences with their ground-truth PNGs, one class 'object'.

    Subclasses mmdet's ``BaseVideoDataset`` for its video-level test mode
    (all frames of a sequence) and training frame sampling; the COCO-JSON
    loading is replaced by reading the DAVIS folder layout::

        <data_root>/JPEGImages/<resolution>/<seq>/<frame>.jpg
        <data_root>/Annotations_unsupervised/<resolution>/<seq>/<frame>.png
            (or Annotations/..., or ``ann_dir``)
        <data_root>/ImageSets/2017/<split>.txt  (else: every sequence)

    Ground-truth PNGs are palette label maps (255 = void) or DAVIS-2016
    0/255 masks (255 = object 1). Each frame info has ``img_path``,
    ``seg_map_path`` (for :class:`vcl_mm.evaluation.DAVISMetric`),
    ``height``, ``width``, ``frame_id``, ``video_id`` (1-based sequence
    position) and, with ``with_instances``, ``instances`` (one per object
    id: RLE ``mask``, ``bbox``, ``bbox_label`` 0, ``instance_id`` = the
    DAVIS object id).

    Args:
        data_root (str): DAVIS root; missing raises InputError.
        split (str): ImageSets split, e.g. 'val'.
        task (str): 'unsupervised' (annotation folder preference).
        resolution (str): '480p' or 'Full-Resolution'; '' for none.
        ann_dir (str, optional): explicit annotation folder (relative to
            ``data_root``), e.g. DAVIS-2017-Motion re-annotations.
        with_instances (bool): decode the PNGs into ``instances`` (needed
            for training pipelines, not for DAVISMetric).
    """
    METAINFO = dict(classes=('object', ))

    def __init__(self,
                 *args,
                 split='val',
                 task='unsupervised',
                 resolution='480p',
                 ann_dir=None,
                 with_instances=True,
                 **kwargs):
        self.split = split
        self.task = task
        self.resolution = resolution
        self.ann_dir = ann_dir
        self.with_instances = with_instances
        kwargs.setdefault('ann_file', '')
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        root = self.data_root
        if not root or not osp.isdir(root):
            raise InputError(f'DAVIS data_root not found: {root!r} (set '
                             'data_root in the config)')
        gt_dir = davis_annotation_dir(root, self.task, self.resolution,
                                      self.ann_dir)
        img_root = osp.join(root, 'JPEGImages', self.resolution)
        if not osp.isdir(img_root):
            raise InputError(f'DAVIS frames folder not found: {img_root}')
        self.cat_ids = [1]
        self.cat_img_map = {1: []}
        self.img_ids_with_ann = set()
        videos, img_id = [], 0
        for v, seq in enumerate(davis_sequences(root, gt_dir, self.split)):
            img_dir = osp.join(img_root, seq)
            if not osp.isdir(img_dir):
                raise InputError(f'sequence {seq}: frames folder not found: '
                                 f'{img_dir}')
            names = sorted(
                f for f in os.listdir(img_dir)
                if f.lower().endswith(('.jpg', '.jpeg', '.png')))
            if not names:
                raise InputError(f'sequence {seq}: no frames in {img_dir}')
            with Image.open(osp.join(img_dir, names[0])) as im:
                width, height = im.size
            frames = []
            for t, name in enumerate(names):
                img_id += 1
                stem = osp.splitext(name)[0]
                seg = osp.join(gt_dir, seq, f'{stem}.png')
                if not osp.isfile(seg):
                    raise InputError(f'sequence {seq}: ground truth missing '
                                     f'for frame {stem}: {seg}')
                info = dict(
                    img_id=img_id,
                    img_path=osp.join(img_dir, name),
                    seg_map_path=seg,
                    file_name=f'{seq}/{name}',
                    height=height,
                    width=width,
                    frame_id=t,
                    video_id=v + 1,
                    instances=[])
                if self.with_instances:
                    info['instances'] = self._instances(seg)
                    if info['instances']:
                        self.cat_img_map[1].append(img_id)
                        self.img_ids_with_ann.add(img_id)
                frames.append(info)
            videos.append(
                dict(
                    video_id=v + 1,
                    video_name=seq,
                    video_length=len(frames),
                    images=frames))
        return videos

    @staticmethod
    def _instances(seg_path):
        labels = read_label_png(seg_path)
        out = []
        for oid in np.unique(labels).tolist():
            if oid in (0, VOID_LABEL):
                continue
            rle = mask_fmt.encode(labels == oid)
            x, y, w, h = mask_fmt.rle_boxes([rle])[0].tolist()
            out.append(
                dict(
                    mask=rle,
                    bbox=[x, y, x + w, y + h],
                    bbox_label=0,
                    instance_id=int(oid),
                    ignore_flag=0,
                    area=float(mask_fmt.rle_areas([rle])[0])))
        return out
