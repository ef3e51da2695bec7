"""Helpers for the evaluation tests: masks -> official YouTube-VIS dicts,
and loading the official-design references in benchmarks/."""
import importlib.util
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

REPO_ROOT = Path(__file__).resolve().parents[2]


def enc(mask):
    """Compressed RLE (counts str) of an (H, W) bool mask."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def box(h, w, y0, y1, x0, x1):
    """(h, w) bool mask, True in [y0:y1, x0:x1]."""
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def track(masks):
    """Per-frame segmentations of a list of masks (None -> absent)."""
    return [None if m is None else enc(m) for m in masks]


def make_gt(videos, categories=(1, )):
    """Official GT dict.

    Args:
        videos (list[tuple]): (video_id, h, w, T, [ann, ...]) with ann a
            dict(masks=[mask or None]*T, category_id=..., iscrowd=...).
    """
    gt = dict(
        videos=[],
        annotations=[],
        categories=[dict(id=c, name=f'c{c}') for c in categories])
    for vid, h, w, T, anns in videos:
        gt['videos'].append(
            dict(
                id=vid,
                height=h,
                width=w,
                length=T,
                file_names=[f'v{vid}/{t:05d}.jpg' for t in range(T)]))
        for a in anns:
            masks = a['masks']
            gt['annotations'].append(
                dict(
                    id=len(gt['annotations']) + 1,
                    video_id=vid,
                    category_id=a.get('category_id', categories[0]),
                    iscrowd=a.get('iscrowd', 0),
                    segmentations=track(masks),
                    areas=[
                        None if m is None else float(m.sum()) for m in masks
                    ],
                    bboxes=[None] * T,
                    height=h,
                    width=w,
                    length=T))
    return gt


def make_res(vid, masks, score, category_id=1):
    """One official result entry."""
    return dict(
        video_id=vid,
        score=score,
        category_id=category_id,
        segmentations=track(masks))


def load_bench(name):
    path = REPO_ROOT / 'benchmarks' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'_bench_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mmdet_ytviseval(gt, results, use_cats, monkeypatch):
    """mmdet's own ``YTVIS`` + ``YTVISeval`` (the official YTVOSeval copy)
    run the ordinary way on copies of the inputs: (12 stats, precision,
    recall). ``np.float`` (removed in numpy 1.24, used by its
    ``accumulate``) is put back for the call."""
    import contextlib
    import copy
    import io

    from mmdet.evaluation.functional import YTVIS, YTVISeval
    monkeypatch.setattr(np, 'float', float, raising=False)
    gt, results = copy.deepcopy(gt), copy.deepcopy(results)
    with contextlib.redirect_stdout(io.StringIO()):
        api = YTVIS(gt)
        ev = YTVISeval(api, api.loadRes(results), 'segm')
        ev.params.useCats = int(use_cats)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats), ev.eval['precision'], ev.eval['recall']
