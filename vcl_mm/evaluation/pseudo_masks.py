"""Quality of pseudo-masks against a COCO-format ground truth, class-agnostic.

Two measures of a pseudo-label JSON (COCO instances, as MaskCut's
``coco_io`` writes it) on the images it lists:

* COCO AP/AR (box and mask) by pycocotools' ``COCOeval``, after every
  category of both files is mapped to one (as CutLER's class-agnostic
  evaluation JSONs do). ``useCats=0`` is not used: pycocotools then gathers
  only the annotations of the ground truth's category ids, so pseudo-masks
  of another id (MaskCut writes 1) would silently drop out.
* per image: ground-truth objects, pseudo-masks, the fraction of objects
  whose best pseudo-mask has IoU >= 0.5 and their mean best IoU.

Ranking: the ``score`` of each pseudo-mask when every one has one (a
model's results); MaskCut writes none, so its masks rank by discovery order
within their image (score ``1 / (k + 1)`` for the k-th, 0-based), as
``vcl_mm.apis.baselines.per_frame_tracks`` does.

numpy + pycocotools only (the MaskCut stage runs without mmdet or torch).
"""
import contextlib
import io
import json
import math
import os.path as osp

import numpy as np

from vcl_mm.datasets.api_wrappers.masks import (rle_areas, rle_boxes,
                                                rle_iou, rle_run_totals,
                                                to_rle)
from vcl_mm.utils.errors import InputError, require_file

STAT_NAMES = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10',
              'AR100', 'ARs', 'ARm', 'ARl')
REPORT_FIELDS = ('file_name', 'image_id', 'num_gt', 'num_pseudo',
                 'recall50', 'mean_best_iou')
_CATEGORY = dict(id=1, name='object')


def load_coco(path, what):
    """Read a COCO dataset JSON, with one clear error for what is wrong.

    Args:
        path (str): the file.
        what (str): what it is (``'pseudo-label JSON'``, ...), for errors.

    Returns:
        dict: the dataset; ``annotations`` defaults to ``[]``.
    """
    require_file(path, what)
    if osp.getsize(path) == 0:
        raise InputError(f'{what} {path} is empty (0 bytes): pass the JSON '
                         'that the run wrote once finished')
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as err:
            raise InputError(f'{what} {path} is not valid JSON ({err})')
    if isinstance(data, list):
        raise InputError(
            f'{what} {path} is a list (a results file?); pass a COCO '
            'dataset JSON with "images" and "annotations"')
    if not isinstance(data, dict) or not isinstance(
            data.get('images'), list):
        raise InputError(f'{what} {path} has no "images" list: pass a COCO '
                         'instances JSON')
    if not data['images']:
        raise InputError(f'{what} {path} lists no images')
    data.setdefault('annotations', [])
    if not isinstance(data['annotations'], list):
        raise InputError(f'{what} {path}: "annotations" is a '
                         f'{type(data["annotations"]).__name__}, not a '
                         'list: pass a COCO instances JSON')
    for key, fields in (('images', ('id', 'file_name', 'height', 'width')),
                        ('annotations', ('image_id', 'segmentation'))):
        for item in data[key]:
            if not isinstance(item, dict):
                raise InputError(
                    f'{what} {path}: an entry of "{key}" is a '
                    f'{type(item).__name__} ({str(item)[:60]}), not an '
                    'object: pass a COCO instances JSON')
            missing = [k for k in fields if k not in item]
            if missing:
                raise InputError(
                    f'{what} {path}: an entry of "{key}" lacks '
                    f'{", ".join(missing)} ({str(item)[:80]}): pass a COCO '
                    'instances JSON')
    check_coco(data, f'{what} {path}')
    return data


def check_coco(data, where):
    """Raise :class:`InputError` for what would otherwise be scored (or
    drawn) without a word: an image listed twice (id or file name), an
    image without a positive integer size, an annotation of an image that
    is not listed, a score that is not a finite number, and a segmentation
    that does not describe a mask of its image (RLE ``size`` other than
    the image's, runs not covering exactly height x width pixels, invalid
    compressed counts, polygons that are not lists of at least 2 finite
    (x, y) points). Checking the runs first also keeps pycocotools from
    decoding past a mask.

    Args:
        data (dict): a COCO dataset (``images`` and ``annotations`` with
            the fields present).
        where (str): names the file in messages.
    """
    sizes, names = {}, set()
    for im in data['images']:
        h, w = im['height'], im['width']
        if not all(type(v) is int and v > 0 for v in (h, w)):
            raise InputError(
                f'{where}: image {im["id"]} ({im["file_name"]}) has size '
                f'{w!r}x{h!r}; height and width must be positive integers')
        if im['id'] in sizes:
            raise InputError(f'{where} lists image id {im["id"]} twice: '
                             'ids must be unique')
        if im['file_name'] in names:
            raise InputError(f'{where} lists {im["file_name"]} twice: '
                             'file names must be unique')
        sizes[im['id']] = (h, w)
        names.add(im['file_name'])
    orphans = [a['image_id'] for a in data['annotations']
               if a['image_id'] not in sizes]
    if orphans:
        raise InputError(
            f'{where}: {len(orphans)} annotations refer to images that '
            f'are not in "images" (first image_id: {orphans[0]!r}); list '
            'every image, or pass the JSON its tool wrote')
    for ann in data['annotations']:
        if 'score' in ann:
            score = ann['score']
            if type(score) not in (int, float) or not math.isfinite(score):
                raise InputError(
                    f'{where}: annotation {ann.get("id", "?")} of image '
                    f'{ann["image_id"]} has score {score!r}; scores must be '
                    'finite numbers')
    _check_segmentations(data['annotations'], sizes, where)


def _check_segmentations(anns, sizes, where):
    """The segmentation checks of :func:`check_coco` (runs of compressed
    RLEs counted in one vectorised pass)."""
    compressed, owners = [], []
    for ann in anns:
        seg = ann['segmentation']
        h, w = sizes[ann['image_id']]
        what = f'{where}: the mask of annotation {ann.get("id", "?")} ' \
            f'(image {ann["image_id"]}, {w}x{h})'
        if isinstance(seg, dict):
            size, counts = seg.get('size'), seg.get('counts')
            if not isinstance(size, (list, tuple)) or list(size) != [h, w]:
                raise InputError(f'{what} has RLE size {size!r}; masks must '
                                 'have their image\'s size [height, width]')
            if isinstance(counts, list):
                if not all(type(c) is int and c >= 0 for c in counts) or \
                        sum(counts) != h * w:
                    raise InputError(
                        f'{what}: its uncompressed RLE runs must be '
                        f'non-negative integers adding up to {h * w}')
            elif isinstance(counts, (str, bytes)):
                compressed.append(counts)
                owners.append(what)
            else:
                raise InputError(f'{what} has an RLE without "counts"')
        elif isinstance(seg, list):
            ok = bool(seg) and all(
                isinstance(p, list) and len(p) >= 4 and len(p) % 2 == 0
                and all(type(v) in (int, float) and math.isfinite(v)
                        for v in p) for p in seg)
            if not ok:
                raise InputError(
                    f'{what}: polygons must be a list of [x0, y0, x1, y1, '
                    '...] lists of at least 2 finite points')
        else:
            raise InputError(f'{what} is a {type(seg).__name__}; pass an '
                             'RLE dict or a polygon list')
    if compressed:
        totals = rle_run_totals(compressed)
        pixels = np.array([
            sizes[a['image_id']][0] * sizes[a['image_id']][1] for a in anns
            if isinstance(a['segmentation'], dict)
            and isinstance(a['segmentation'].get('counts'), (str, bytes))
        ], np.int64)
        wrong = np.flatnonzero(totals != pixels)
        if len(wrong):
            k = wrong[0]
            got = ('is not valid compressed RLE' if totals[k] < 0 else
                   f'has runs covering {totals[k]} pixels, not {pixels[k]}')
            raise InputError(f'{owners[k]} {got} ({len(wrong)} such masks); '
                             'encode each mask with pycocotools.mask.encode '
                             'at its image\'s size')


def match_images(pseudo, gt, pseudo_path='pseudo-label JSON',
                 gt_path='ground truth'):
    """Pair every image of ``pseudo`` with its ground-truth image.

    By ``file_name``; by ``id`` only when no file name is found in the
    ground truth at all (e.g. other folder prefixes but the same ids).

    Returns:
        tuple[dict, str]: pseudo image id -> ground-truth image dict, and
        the key used (``'file_name'`` or ``'id'``).
    """
    by_name = {}
    for im in gt['images']:
        if im['file_name'] in by_name:
            raise InputError(f'{gt_path} lists {im["file_name"]} twice: '
                             'file names must be unique')
        by_name[im['file_name']] = im
    names = [im['file_name'] for im in pseudo['images']]
    key = 'file_name' if any(n in by_name for n in names) else 'id'
    lookup = by_name if key == 'file_name' else {
        im['id']: im
        for im in gt['images']
    }
    pairs, missing = {}, []
    for im in pseudo['images']:
        hit = lookup.get(im[key])
        if hit is None:
            missing.append(str(im[key]))
            continue
        if (hit['height'], hit['width']) != (im['height'], im['width']):
            raise InputError(
                f'{im["file_name"]} is {im["width"]}x{im["height"]} in '
                f'{pseudo_path} but {hit["width"]}x{hit["height"]} in '
                f'{gt_path}: pass the ground truth of the same images')
        pairs[im['id']] = hit
    if missing:
        raise InputError(
            f'{len(missing)} of the {len(names)} images of {pseudo_path} are '
            f'not in {gt_path} (matched by {key}; first: '
            f'{", ".join(missing[:3])}): pass the ground truth of the same '
            'images')
    return pairs, key


def _rles(anns, image, path):
    """Compressed RLEs of one image's annotations, sizes checked."""
    h, w = image['height'], image['width']
    out = [to_rle(a['segmentation'], h, w) for a in anns]
    for rle in out:
        if list(rle['size']) != [h, w]:
            raise InputError(
                f'{path}: a mask of {image["file_name"]} is '
                f'{rle["size"][1]}x{rle["size"][0]}, the image '
                f'{w}x{h}: masks must have their image\'s size')
    return out


def _scores(anns, path):
    """Scores of one image's pseudo-masks (see the module docstring)."""
    has = ['score' in a for a in anns]
    if all(has):
        return [float(a['score']) for a in anns]
    if any(has):
        raise InputError(f'{path}: some annotations have a "score" and '
                         'some not: score all of them or none')
    return [1. / (k + 1) for k in range(len(anns))]


def group_annotations(data):
    """image id -> its annotations, in file order."""
    out = {im['id']: [] for im in data['images']}
    for ann in data['annotations']:
        out.setdefault(ann['image_id'], []).append(ann)
    return out


def best_ious(gt_rles, pseudo_rles):
    """(G,) best mask IoU of each ground-truth object over the pseudo-masks
    (0 without pseudo-masks)."""
    iou = rle_iou(pseudo_rles, gt_rles)  # (P, G)
    return iou.max(0) if len(pseudo_rles) else np.zeros(len(gt_rles))


def _coco_stats(gt_coco, results, iou_type):
    """The 12 COCO stats (class-agnostic inputs), pycocotools' prints
    swallowed."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_coco
        gt.createIndex()
        if results:
            dt = gt.loadRes(results)
        else:  # pycocotools cannot load an empty results list
            dt = COCO()
            dt.dataset = dict(
                images=gt_coco['images'],
                categories=gt_coco['categories'],
                annotations=[])
            dt.createIndex()
        ev = COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(STAT_NAMES, (float(s) for s in ev.stats)))


def evaluate_pseudo_masks(pseudo_json, gt_json, progress=True):
    """Class-agnostic COCO AP/AR and a per-image report of pseudo-masks.

    Args:
        pseudo_json (str): COCO JSON of the pseudo-masks.
        gt_json (str): COCO JSON of the ground truth (any categories;
            crowd regions are ignored as COCO does).
        progress (bool): a tqdm progress bar over the images (tqdm, as
            MaskCut's: this stage needs no mmengine).

    Returns:
        dict: ``bbox`` and ``segm`` (dicts of the 12 COCO stats, -1 where
        undefined), ``per_image`` (list of dicts with REPORT_FIELDS;
        ``recall50``/``mean_best_iou`` None for images without objects),
        ``summary`` (images, objects, pseudo-masks, object-weighted
        ``recall50`` and ``mean_best_iou``, ``matched_by``, ``ranked_by``).
    """
    pseudo = load_coco(pseudo_json, 'pseudo-label JSON')
    gt = load_coco(gt_json, 'ground truth')
    pairs, key = match_images(pseudo, gt, pseudo_json, gt_json)
    pseudo_anns = group_annotations(pseudo)
    gt_anns = group_annotations(gt)
    gt_images, gt_list, results, rows, all_best = [], [], [], [], []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(pairs), desc='pseudo-masks', unit='image')
    for pid, gt_image in pairs.items():
        gid = gt_image['id']
        gt_images.append(gt_image)
        objects = gt_anns.get(gid, [])
        g_rles = _rles(objects, gt_image, gt_json)
        crowd = np.array([bool(a.get('iscrowd', 0)) for a in objects], bool)
        g_boxes = rle_boxes(g_rles) if g_rles else np.zeros((0, 4))
        for a, rle, box in zip(objects, g_rles, g_boxes):
            gt_list.append(
                dict(id=len(gt_list) + 1, image_id=gid, category_id=1,
                     segmentation=rle, iscrowd=int(a.get('iscrowd', 0)),
                     area=float(a['area'] if 'area' in a else
                                rle_areas([rle])[0]),
                     bbox=[float(v) for v in a.get('bbox', box)]))
        anns = pseudo_anns.get(pid, [])
        p_rles = _rles(anns, gt_image, pseudo_json)
        p_boxes = rle_boxes(p_rles) if p_rles else np.zeros((0, 4))
        for rle, box, score in zip(p_rles, p_boxes,
                                   _scores(anns, pseudo_json)):
            results.append(
                dict(image_id=gid, category_id=1, segmentation=rle,
                     bbox=[float(v) for v in box], score=score))
        best = best_ious([r for r, c in zip(g_rles, crowd) if not c],
                         p_rles)
        all_best.append(best)
        rows.append(
            dict(file_name=gt_image['file_name'], image_id=gid,
                 num_gt=int(len(best)), num_pseudo=len(anns),
                 recall50=float((best >= 0.5).mean()) if len(best) else None,
                 mean_best_iou=float(best.mean()) if len(best) else None))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    gt_coco = dict(images=gt_images, annotations=gt_list,
                   categories=[_CATEGORY])
    best = np.concatenate(all_best) if all_best else np.zeros(0)
    summary = dict(
        images=len(rows),
        objects=int(len(best)),
        pseudo_masks=len(results),
        recall50=float((best >= 0.5).mean()) if len(best) else None,
        mean_best_iou=float(best.mean()) if len(best) else None,
        matched_by=key,
        ranked_by='score' if pseudo['annotations'] and all(
            'score' in a for a in pseudo['annotations']) else
        'discovery order (1 / (k + 1))')
    return dict(
        bbox=_coco_stats(gt_coco, results, 'bbox'),
        segm=_coco_stats(gt_coco, results, 'segm'),
        per_image=rows,
        summary=summary)
