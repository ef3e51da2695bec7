"""YouTube-VIS read from the official JSON or from mmdet's converted one."""
import json
import logging
import os.path as osp
from collections import defaultdict


from mmdet.datasets import YouTubeVISDataset
from mmengine.logging import print_log
from vcl_mm.registry import DATASETS
from vcl_mm.utils import InputError, require_file
from .api_wrappers.masks import seg_to_box

__all__ = ['YTVISDataset']

LAYOUT_HINT = ('a YouTube-VIS JSON needs videos {id, file_names, height, '
               'width} (official) or videos {id} + images {id, file_name, '
               'height, width, video_id, frame_id} (mmdet\'s COCO-video '
               'layout); per-image pseudo-labels go to MaskCutDataset')


@DATASETS.register_module()
class YTVISDataset(YouTubeVISDataset):
    """YouTube-VIS videos from either annotation layout.

    Subclasses mmdet's ``YouTubeVISDataset`` (video-level data infos, test
    mode with all frames, ``filter_data``) but parses the annotation file
    itself, because mmdet only reads its converted COCO-video JSON and
    cannot merge categories.

    * official layout: ``videos`` (``file_names``, ``height``, ``width``),
      ``annotations`` (per-frame ``segmentations``/``areas``/``bboxes``),
      ``categories``;
    * mmdet's converted layout: ``videos``, ``images`` (``video_id``,
      ``frame_id``), per-frame ``annotations`` (``instance_id``).

    Every frame's ``instances`` carry ``mask`` (as in the file), ``bbox``
    (x1, y1, x2, y2), ``bbox_label``, ``instance_id`` (>= 1: the
    1-based position of the track's annotation in the official file, or
    the converted file's ``instance_id``), ``ignore_flag`` (iscrowd) and
    ``area`` (the file's per-frame area, used for S/M/L).

    Args:
        class_agnostic (bool): map every category to one class 'object'.
        dataset_version (str): '2019' or '2021' (class names) unless
            ``class_agnostic`` or ``metainfo`` gives the classes.
        ann_file, data_root, data_prefix, ...: as mmengine ``BaseDataset``
            (``data_prefix=dict(img_path=...)``: frames folder).
    """

    def __init__(self,
                 *args,
                 class_agnostic=False,
                 dataset_version='2019',
                 **kwargs):
        self.class_agnostic = class_agnostic
        if class_agnostic:
            kwargs['metainfo'] = dict(
                kwargs.get('metainfo') or {}, classes=('object', ))
        super().__init__(dataset_version, *args, **kwargs)

    def _check_paths(self):
        require_file(self.ann_file, 'YouTube-VIS annotation file',
                     'set ann_file / data_root in the config')
        img_dir = self.data_prefix.get('img_path')
        if img_dir and not osp.isdir(img_dir):
            raise InputError(f'YouTube-VIS frames folder not found: '
                             f'{img_dir} (set data_prefix.img_path / '
                             'data_root in the config)')

    def _label_of(self, categories):
        """Map category id -> label from names (all to 0 if agnostic)."""
        if self.class_agnostic:
            return {c['id']: 0 for c in categories}
        classes = list(self.metainfo['classes'])
        mapping = {
            c['id']: classes.index(c['name'])
            for c in categories if c['name'] in classes
        }
        if categories and not mapping:
            raise InputError(
                f'{self.ann_file}: none of its categories '
                f'{[c["name"] for c in categories][:5]}... is among the '
                'dataset classes; set metainfo.classes or class_agnostic')
        return mapping

    def load_data_list(self):
        """Video-level data infos: ``video_id``, ``video_length``,
        ``images`` (per-frame infos with ``instances``)."""
        self._check_paths()
        with open(self.ann_file) as f:
            try:
                data = json.load(f)
            except ValueError as e:
                raise InputError(f'{self.ann_file} is not valid JSON: {e}')
        if not isinstance(data, dict) or 'videos' not in data:
            raise InputError(f'{self.ann_file}: not a YouTube-VIS JSON '
                             '(no "videos")')
        cat2label = self._label_of(data.get('categories', []))
        self.cat_ids = sorted(cat2label)
        self.cat2label = cat2label
        self.cat_img_map = defaultdict(list)
        self.img_ids_with_ann = set()
        videos = data['videos']
        if not isinstance(videos, list) or not videos:
            raise InputError(f'{self.ann_file} lists no videos; pass a '
                             'YouTube-VIS JSON with at least one video')
        if 'file_names' in videos[0]:
            data_list = self._parse_official(data, cat2label)
        elif 'images' in data:
            data_list = self._parse_converted(data, cat2label)
        else:
            raise InputError(f'{self.ann_file}: videos have no "file_names" '
                             'and there are no "images": unknown layout')
        # every category, also one without annotations (mmdet's filter
        # looks each up)
        self.cat_img_map = {
            c: self.cat_img_map.get(c, [])
            for c in set(self.cat_ids) | set(self.cat_img_map)
        }
        return data_list

    def _frame_info(self, img_id, file_name, video_id, frame_id, h, w):
        prefix = self.data_prefix.get('img_path')
        return dict(
            img_id=img_id,
            file_name=file_name,
            video_id=video_id,
            frame_id=frame_id,
            height=h,
            width=w,
            img_path=osp.join(prefix, file_name) if prefix else file_name,
            instances=[])

    def _add_instance(self, info, seg, cat, iid, crowd, area, box):
        if cat not in self.cat2label:
            return
        h, w = info['height'], info['width']
        x, y, bw, bh = box if box else seg_to_box(seg, h, w)
        if not self.test_mode and (bw < 1 or bh < 1):
            return  # degenerate, as mmdet skips them for training
        info['instances'].append(
            dict(
                mask=seg,
                bbox=[x, y, x + bw, y + bh],
                bbox_label=self.cat2label[cat],
                instance_id=iid,
                ignore_flag=int(bool(crowd)),
                area=area))
        self.cat_img_map[cat].append(info['img_id'])
        self.img_ids_with_ann.add(info['img_id'])

    def _require(self, item, fields, what):
        """One line naming ``what`` and the fields it lacks."""
        if not isinstance(item, dict):
            raise InputError(f'{self.ann_file}: {what} is a '
                             f'{type(item).__name__}, not an object')
        missing = [k for k in fields if k not in item]
        if missing:
            raise InputError(
                f'{self.ann_file}: {what} lacks {", ".join(missing)} '
                f'({str(item)[:80]}); {LAYOUT_HINT}')

    def _check_videos(self, videos):
        """Video ids unique; returns them."""
        ids = set()
        for v in videos:
            self._require(v, ('id', ), 'a video')
            if v['id'] in ids:
                raise InputError(f'{self.ann_file} lists video {v["id"]} '
                                 'twice: video ids must be unique')
            ids.add(v['id'])
        return ids

    def _parse_official(self, data, cat2label):
        videos, by_vid = [], {}
        img_id = 0
        self._check_videos(data['videos'])
        for v in data['videos']:
            self._require(v, ('file_names', 'height', 'width'),
                          f'video {v["id"]}')
            if not v['file_names']:
                raise InputError(
                    f'{self.ann_file}: video {v["id"]} lists no frames '
                    '(empty "file_names"); remove it or list its frames')
            frames = []
            for t, fn in enumerate(v['file_names']):
                img_id += 1
                frames.append(
                    self._frame_info(img_id, fn, v['id'], t, v['height'],
                                     v['width']))
            by_vid[v['id']] = frames
            videos.append(
                dict(
                    video_id=v['id'], video_length=len(frames), images=frames))
        for n, ann in enumerate(data.get('annotations', [])):
            self._require(ann, ('video_id', 'segmentations', 'category_id'),
                          f'annotation {n}')
            frames = by_vid.get(ann['video_id'])
            if frames is None:
                raise InputError(f'{self.ann_file}: annotation {ann.get("id")}'
                                 f' refers to unknown video {ann["video_id"]}')
            segs = ann['segmentations']
            if len(segs) != len(frames):
                raise InputError(
                    f'{self.ann_file}: annotation {ann.get("id")} has '
                    f'{len(segs)} frames, video {ann["video_id"]} has '
                    f'{len(frames)}')
            areas = ann.get('areas') or [None] * len(segs)
            boxes = ann.get('bboxes') or [None] * len(segs)
            for t, seg in enumerate(segs):
                if seg:
                    self._add_instance(frames[t], seg, ann['category_id'],
                                       n + 1, ann.get('iscrowd',
                                                      0), areas[t], boxes[t])
        return videos

    def _parse_converted(self, data, cat2label):
        frames_of = defaultdict(list)
        infos, seen = {}, {}
        video_ids = self._check_videos(data['videos'])
        for n, img in enumerate(data['images']):
            # without video_id/frame_id every frame would be its own video
            self._require(
                img, ('id', 'file_name', 'height', 'width', 'video_id',
                      'frame_id'), f'image {n}')
            vid, fid = img['video_id'], img['frame_id']
            if vid not in video_ids:
                raise InputError(
                    f'{self.ann_file}: image {img["id"]} ({img["file_name"]})'
                    f' belongs to video {vid!r}, which "videos" does not '
                    'list')
            if img['id'] in infos:
                raise InputError(f'{self.ann_file} lists image id '
                                 f'{img["id"]} twice: ids must be unique')
            if (vid, fid) in seen:
                raise InputError(
                    f'{self.ann_file}: video {vid} has two images with '
                    f'frame_id {fid!r} ({seen[vid, fid]} and '
                    f'{img["file_name"]})')
            seen[vid, fid] = img['file_name']
            info = self._frame_info(img['id'], img['file_name'], vid, fid,
                                    img['height'], img['width'])
            infos[img['id']] = info
            frames_of[vid].append(info)
        empty = [v['id'] for v in data['videos'] if not frames_of.get(v['id'])]
        if empty:
            raise InputError(
                f'{self.ann_file}: {len(empty)} videos have no images '
                f'(first: {empty[0]!r}); remove them or add their frames')
        for n, ann in enumerate(data.get('annotations', [])):
            self._require(ann, ('image_id', 'segmentation', 'category_id'),
                          f'annotation {n}')
            info = infos.get(ann['image_id'])
            if info is None:
                raise InputError(f'{self.ann_file}: annotation {ann.get("id")}'
                                 f' refers to unknown image {ann["image_id"]}')
            iid = ann.get('instance_id')
            if not iid or iid < 1:
                raise InputError(f'{self.ann_file}: annotation {ann.get("id")}'
                                 ' needs an instance_id >= 1')
            self._add_instance(info, ann['segmentation'], ann['category_id'],
                               iid, ann.get('iscrowd', 0), ann.get('area'),
                               ann.get('bbox'))
        videos = []
        for v in data['videos']:
            frames = sorted(
                frames_of.get(v['id'], []), key=lambda i: i['frame_id'])
            for t, info in enumerate(frames):
                info['frame_id'] = t
            videos.append(
                dict(
                    video_id=v['id'], video_length=len(frames), images=frames))
        return videos

    def filter_data(self):
        """mmdet's filter (frames without annotations dropped in
        training), then the videos left without frames are dropped too,
        with the count and the first ids in the log: mmdet keeps them, and
        a training clip cannot be sampled from a video of 0 frames.

        Raises:
            InputError: no video of the training set has an annotated
                frame.
        """
        data_list = super().filter_data()
        if self.test_mode:
            return data_list
        # mmdet counts the frames left in video_length (images unchanged)
        kept = [v for v in data_list if v['video_length'] > 0]
        dropped = [v['video_id'] for v in data_list
                   if v['video_length'] <= 0]
        if dropped:
            print_log(
                f'{self.ann_file}: {len(dropped)} of {len(data_list)} videos '
                'skipped: no annotated frame (first: '
                f'{", ".join(map(str, dropped[:5]))})', 'current',
                level=logging.WARNING)
        if data_list and not kept:
            raise InputError(
                f'{self.ann_file}: none of its {len(data_list)} videos has '
                'an annotated frame to train on; pass a training set with '
                'annotations')
        return kept
