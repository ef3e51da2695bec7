"""Pseudo-label dataset: MaskCut's COCO JSON read as it is.

Upstream VideoCutLER trains from a COCO-*video* JSON built by a converter that
was never released (its issue #51). :class:`MaskCutDataset` reads the image
JSON that MaskCut writes directly, one data info per image; the train pipeline
(``ImageToClip`` + ``ImageCut2Video``, see
``configs/_base_/datasets/imagecut2video.py``) turns images into clips.

JSON schema (what ``tools/maskcut.py`` writes)::

    images:      [{id, file_name (relative to the image root), width, height}]
    annotations: [{id, image_id, category_id, segmentation (compressed RLE
                   {size: [h, w], counts: str}, or COCO polygons), area,
                   bbox [x, y, w, h], iscrowd}]
    categories:  [{id: 1, name: 'fg'}]          (optional, ignored)

Every annotation becomes class 0 (``'fg'``): the dataset is class-agnostic.
"""
import collections
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from mmdet.datasets import BaseDetDataset
from vcl_mm.registry import DATASETS
from mmengine.fileio import load
from mmengine.logging import print_log
from PIL import Image

from vcl_mm.utils import InputError
from .api_wrappers.masks import polygon_box, rle_run_totals, seg_to_box

SIZE_SOURCES = ('auto', 'json', 'image')
SCHEMA_HINT = ('expected a COCO image JSON with "images" [{id, file_name, '
               'width, height}] and "annotations" [{image_id, segmentation '
               '(RLE or polygons)}], as tools/maskcut.py writes')


@DATASETS.register_module()
class MaskCutDataset(BaseDetDataset):
    """Class-agnostic images with MaskCut pseudo-masks (COCO JSON).

    Each data info is one image::

        dict(img_path=str, img_id=int, height=int, width=int,
             instances=[dict(bbox=[x1, y1, x2, y2] (pixels), bbox_label=0,
                             mask=RLE dict | polygons, ignore_flag=0|1)])

    Args:
        size_source (str): where image height/width come from.
            ``'auto'`` (default): the masks' RLE ``size`` when all RLE
            masks of the image agree and the JSON's size is absent, equal
            or swapped (the upstream MaskCut bug); the image header (PIL,
            header only, no decoding) when they disagree otherwise; for
            images without masks the JSON's size, unless the JSON disagreed
            with the masks of other images or has no size (header again).
            ``'json'``: trust the JSON (header read only when it has no
            size). ``'image'``: read every image header (slowest, safest).
            Masks whose RLE size differs from the chosen image size are
            dropped (counted in the log).
        check_files (bool): check at start-up that every listed image exists
            (one directory listing per folder, cheap even for ImageNet) and
            raise :class:`~vcl_mm.utils.InputError` naming the first missing
            file and the count otherwise. Skipped for non-local
            ``backend_args``.
        filter_cfg (dict, optional): ``filter_empty_gt`` (bool) drops images
            without masks (default True, as upstream/detectron2),
            ``min_size`` (int, pixels) drops images whose short side is
            smaller. Pass ``dict(filter_empty_gt=False)`` to keep them.
        data_prefix (dict): ``img`` is the image root, joined with
            ``data_root``; ``file_name`` in the JSON is relative to it.
        **kwargs: the rest of :class:`mmdet.datasets.BaseDetDataset`.
    """

    METAINFO = dict(classes=('fg', ), palette=[(220, 20, 60)])

    def __init__(self,
                 *args,
                 size_source: str = 'auto',
                 check_files: bool = True,
                 filter_cfg: Optional[dict] = None,
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        if size_source not in SIZE_SOURCES:
            raise InputError(f'MaskCutDataset: size_source={size_source!r} '
                             f'is not one of {SIZE_SOURCES}')
        self.size_source = size_source
        self.check_files = check_files
        if filter_cfg is None:
            filter_cfg = dict(filter_empty_gt=True, min_size=0)
        if data_prefix is None:
            data_prefix = dict(img='')
        super().__init__(
            *args, filter_cfg=filter_cfg, data_prefix=data_prefix, **kwargs)

    # ------------------------------------------------------------------ load
    def _read_json(self) -> dict:
        """Load the annotation file; errors name the file."""
        if not osp.isfile(self.ann_file) and self.backend_args is None:
            raise InputError(
                f'pseudo-label JSON not found: {self.ann_file} (set ann_file '
                '/ data_root, or run tools/maskcut.py to create it)')
        try:
            data = load(self.ann_file, backend_args=self.backend_args)
        except ValueError as err:  # json.JSONDecodeError is a ValueError
            raise InputError(f'pseudo-label JSON {self.ann_file} is not '
                             f'valid JSON ({err})') from None
        return data

    def _schema_error(self, problem: str) -> InputError:
        return InputError(
            f'pseudo-label JSON {self.ann_file}: {problem} ({SCHEMA_HINT})')

    def _check_schema(self, data) -> None:
        """Raise a named :class:`InputError` if ``data`` is not the schema."""
        if not isinstance(data, dict):
            raise self._schema_error(
                f'top level is a {type(data).__name__}, not an object')
        if 'videos' in data:
            raise self._schema_error(
                'this is a video JSON ("videos" key); MaskCutDataset reads '
                'per-image pseudo-labels, use YouTubeVISDataset for videos')
        for key in ('images', 'annotations'):
            if not isinstance(data.get(key), list):
                raise self._schema_error(f'"{key}" list missing')
        for img in data['images']:
            if not (isinstance(img, dict) and 'id' in img
                    and isinstance(img.get('file_name'), str)):
                raise self._schema_error(
                    f'image entry {_short(img)} lacks "id" or "file_name"')
        for ann in data['annotations']:
            if not (isinstance(ann, dict) and 'image_id' in ann
                    and 'segmentation' in ann):
                raise self._schema_error(
                    f'annotation {_short(ann)} lacks "image_id" or '
                    '"segmentation"')
            seg = ann['segmentation']
            if isinstance(seg, dict):
                ok = (
                    isinstance(seg.get('counts'), (str, list))
                    and isinstance(seg.get('size'),
                                   (list, tuple)) and len(seg['size']) == 2)
            else:
                ok = isinstance(seg, list)
            if not ok:
                raise self._schema_error(
                    f'annotation {ann.get("id")} has a segmentation that is '
                    'neither RLE {size: [h, w], counts} nor polygons')

    def _check_runs(self, anns) -> None:
        """Compressed RLEs whose runs do not cover exactly their
        height x width pixels (pycocotools would decode past the mask)
        or whose counts are not valid RLE are named."""
        rles = [a['segmentation'] for a in anns
                if isinstance(a['segmentation'], dict)
                and isinstance(a['segmentation']['counts'], str)]
        if not rles:
            return
        totals = rle_run_totals([r['counts'] for r in rles])
        pixels = np.array([int(r['size'][0]) * int(r['size'][1])
                           for r in rles], np.int64)
        wrong = np.flatnonzero(totals != pixels)
        if len(wrong):
            k = wrong[0]
            got = ('is not valid compressed RLE' if totals[k] < 0 else
                   f'has runs covering {totals[k]} pixels')
            raise self._schema_error(
                f'{len(wrong)} masks do not fit their size; the first '
                f'{got}, its size {rles[k]["size"]} = {pixels[k]} pixels')

    def load_data_list(self) -> List[dict]:
        """Parse the JSON into per-image data infos (see class docstring)."""
        data = self._read_json()
        self._check_schema(data)
        img_root = self.data_prefix.get('img',
                                        self.data_prefix.get('img_path', ''))
        anns_by_img = collections.defaultdict(list)
        for ann in data['annotations']:
            anns_by_img[ann['image_id']].append(ann)
        image_ids = set(img['id'] for img in data['images'])
        orphans = [i for i in anns_by_img if i not in image_ids]
        if orphans:
            raise self._schema_error(
                f'{len(orphans)} image_id(s) used by annotations are not in '
                f'"images" (first: {orphans[0]})')
        if len(image_ids) < len(data['images']):
            seen = set()
            twice = next(i['id'] for i in data['images']
                         if i['id'] in seen or seen.add(i['id']))
            raise self._schema_error(f'image id {twice} is listed twice')
        self._check_runs(data['annotations'])

        # 1. sizes from the JSON and the masks
        infos, json_wrong = [], 0
        for img in data['images']:
            anns = anns_by_img.get(img['id'], [])
            json_hw = _json_hw(img)
            rle_hw = _rle_hw(anns)
            hw, need_header = json_hw, json_hw is None
            if self.size_source == 'image':
                need_header = True
            elif self.size_source == 'auto' and rle_hw is not None and (
                    json_hw in (None, rle_hw, rle_hw[::-1])):
                json_wrong += json_hw is not None and json_hw != rle_hw
                hw, need_header = rle_hw, False
            elif self.size_source == 'auto' and any(
                    isinstance(a['segmentation'], dict) for a in anns):
                need_header = True  # masks and JSON disagree otherwise
            infos.append(
                dict(
                    img_path=osp.join(img_root, img['file_name']),
                    img_id=img['id'],
                    height=hw[0] if hw else 0,
                    width=hw[1] if hw else 0,
                    anns=anns,
                    need_header=need_header))
        if self.size_source == 'auto' and json_wrong:
            # the JSON's sizes are unreliable: check mask-less images too
            for info in infos:
                info['need_header'] |= not _rle_hw(info['anns'])

        # 2. the JSON must match the image folder
        if self.check_files and self.backend_args is None:
            self._check_files_exist([i['img_path'] for i in infos], img_root)

        # 3. drop empty images before reading any header
        if self.filter_cfg.get('filter_empty_gt', False) and \
                not self.test_mode:
            infos = [i for i in infos if i['anns']]
        num_headers = 0
        for info in infos:
            if info.pop('need_header'):
                info['height'], info['width'] = _header_hw(info['img_path'])
                num_headers += 1

        # 4. instances
        dropped = 0
        for info in infos:
            instances = []
            for ann in info.pop('anns'):
                inst = _parse_instance(ann, info['height'], info['width'])
                if inst is None:
                    dropped += 1
                else:
                    instances.append(inst)
            info['instances'] = instances
        if dropped and self.filter_cfg.get('filter_empty_gt', False) and \
                not self.test_mode:
            infos = [i for i in infos if i['instances']]
        self._log(len(data['images']), infos, json_wrong, num_headers, dropped)
        return infos

    def _check_files_exist(self, paths: List[str], img_root: str) -> None:
        """Raise :class:`InputError` naming the first missing image."""
        listings: Dict[str, set] = {}
        missing = []
        for path in paths:
            folder, name = osp.split(path)
            if folder not in listings:
                try:
                    listings[folder] = set(os.listdir(folder or '.'))
                except OSError:
                    listings[folder] = set()
            if name not in listings[folder]:
                missing.append(path)
        if missing:
            raise InputError(
                f'{len(missing)} of {len(paths)} images listed in '
                f'{self.ann_file} are missing under {img_root or "."} '
                f'(first: {missing[0]}); set data_root / data_prefix.img to '
                'the folder the labels were made from')

    def _log(self, num_json, infos, json_wrong, num_headers, dropped):
        msg = (f'MaskCutDataset: {len(infos)} of {num_json} images, '
               f'{sum(len(i["instances"]) for i in infos)} masks')
        if json_wrong:
            msg += (f'; {json_wrong} images had a JSON width/height that '
                    'disagreed with their masks (used the masks\' size)')
        if num_headers:
            msg += f'; read {num_headers} image headers for sizes'
        if dropped:
            msg += (f'; dropped {dropped} masks whose size differs from '
                    'their image')
        print_log(msg, logger='current')

    def filter_data(self) -> List[dict]:
        """Apply ``filter_cfg.min_size`` (empty images were already dropped
        in :meth:`load_data_list`, before any header is read)."""
        min_size = self.filter_cfg.get('min_size', 0) if self.filter_cfg \
            else 0
        if self.test_mode or not min_size:
            return self.data_list
        return [
            i for i in self.data_list
            if min(i['width'], i['height']) >= min_size
        ]

    def _serialize_data(self):
        """Record each image's orientation before the data infos are
        packed (see :meth:`orientation_groups`)."""
        self._landscape = _landscape_flags(self.data_list)
        return super()._serialize_data()

    def orientation_groups(self):
        """Indices of landscape (``w > h``) and of portrait images.

        Copy-paste sources are drawn from the target's group, as upstream's
        aspect-ratio grouped batches pair them
        (:func:`~vcl_mm.datasets.target_aware_mix.draw_same_orientation`).

        Returns:
            tuple[np.ndarray, np.ndarray]: (landscape, portrait) int64.
        """
        flags = getattr(self, '_landscape', None)
        if flags is None or len(flags) != len(self):
            flags = _landscape_flags(
                self.data_list if not self.serialize_data else
                [self.get_data_info(i) for i in range(len(self))])
        return np.flatnonzero(flags), np.flatnonzero(~flags)

    def get_cat_ids(self, idx: int) -> List[int]:
        """Category ids of the masks of image ``idx`` (all 0, ``'fg'``)."""
        return [0] * len(self.get_data_info(idx)['instances'])


def _landscape_flags(infos) -> np.ndarray:
    """(N,) bool, True where ``width > height`` (detectron2's grouping)."""
    return np.array([i['width'] > i['height'] for i in infos], bool)


def _short(obj, limit=80) -> str:
    text = repr(obj)
    return text if len(text) <= limit else text[:limit] + '...'


def _json_hw(img: dict):
    """(height, width) from an ``images`` entry, or None if absent/bad."""
    h, w = img.get('height'), img.get('width')
    if isinstance(h, (int, float)) and isinstance(w, (int, float)) \
            and h > 0 and w > 0:
        return int(h), int(w)
    return None


def _rle_hw(anns: List[dict]):
    """The RLE ``size`` (h, w) shared by all RLE masks in ``anns``; None if
    there are none or they disagree (then the image header decides)."""
    sizes = set(
        tuple(int(v) for v in a['segmentation']['size']) for a in anns
        if isinstance(a['segmentation'], dict))
    return sizes.pop() if len(sizes) == 1 else None


def _header_hw(path: str):
    """(height, width) from the image header (PIL, no pixel decoding)."""
    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, ValueError) as err:
        raise InputError(f'cannot read image {path} ({err}); remove it from '
                         'the pseudo-label JSON or replace the file') from None
    return h, w


def _parse_instance(ann: dict, height: int, width: int) -> Optional[dict]:
    """One annotation -> an mmdet instance dict (class 0), or None when its
    RLE size does not match the image."""
    seg = ann['segmentation']
    if isinstance(seg, dict) and [int(v)
                                  for v in seg['size']] != [height, width]:
        return None
    bbox = ann.get('bbox')
    if bbox is None or len(bbox) != 4:
        bbox = _seg_bbox(seg, height, width)
    x, y, w, h = (float(v) for v in bbox)
    return dict(
        bbox=[x, y, x + w, y + h],
        bbox_label=0,
        mask=seg,
        ignore_flag=int(bool(ann.get('iscrowd', 0))))


def _seg_bbox(seg, height: int, width: int) -> List[float]:
    """[x, y, w, h] of an RLE (its mask) / polygon (its points) segmentation
    (pixels)."""
    if isinstance(seg, dict):
        return seg_to_box(seg, height, width)
    return polygon_box(seg)
