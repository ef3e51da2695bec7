"""Label-efficient splits of YouTube-VIS: subsets of the training *videos*.

The paper (Sec. 5.2, Fig. 4) fine-tunes on 5/10/20/30/40/50% of the training
videos. :func:`video_order` draws one seeded order of all videos in which the
first videos cover every class (rarest class first), then the rest in random
order; a subset of fraction ``p`` is the first ``round(p * N)`` videos of that
order. Hence, for one seed, subsets are nested (5% is inside 10%), every class
keeps at least one video whenever the budget allows it, and the same seed
always gives the same files.
"""
import copy
import math
from collections import defaultdict

import numpy as np

from vcl_mm.utils import InputError


def _video_classes(ann):
    """Map video id -> set of category ids annotated in it."""
    classes = defaultdict(set)
    for a in ann['annotations']:
        classes[a['video_id']].add(a['category_id'])
    return classes


def check_ytvis_json(ann, name='annotation file'):
    """Raise :class:`InputError` unless ``ann`` looks like an official
    YouTube-VIS training JSON (``videos``, ``annotations`` with ``video_id``
    and ``category_id``, ``categories``)."""
    for key in ('videos', 'annotations', 'categories'):
        if key not in ann:
            raise InputError(f'{name} has no "{key}" list: not a YouTube-VIS '
                             'annotation file')
    video_ids = {v['id'] for v in ann['videos']}
    for a in ann['annotations']:
        if 'video_id' not in a or 'category_id' not in a:
            raise InputError(f'{name}: annotation {a.get("id")} lacks '
                             'video_id or category_id')
        if a['video_id'] not in video_ids:
            raise InputError(f'{name}: annotation {a.get("id")} refers to '
                             f'unknown video {a["video_id"]}')


def video_order(ann, seed=0):
    """One seeded order of all video ids, class-covering videos first.

    Args:
        ann (dict): official YouTube-VIS JSON.
        seed (int): random seed.

    Returns:
        tuple[list[int], int]: the video ids in order, and how many of the
        first ones are needed to cover every class that has a video.
    """
    rng = np.random.default_rng(seed)
    classes = _video_classes(ann)
    ids = [v['id'] for v in ann['videos']]
    videos_of = defaultdict(list)
    for vid in ids:
        for c in classes.get(vid, ()):
            videos_of[c].append(vid)
    covered, head = set(), []
    # Rarest class first: its few videos are the only way to cover it.
    for c in sorted(videos_of, key=lambda c: (len(videos_of[c]), c)):
        if c in covered:
            continue
        choice = videos_of[c][int(rng.integers(len(videos_of[c])))]
        head.append(choice)
        covered |= classes[choice]
    chosen = set(head)
    rest = [vid for vid in ids if vid not in chosen]
    rest = [rest[i] for i in rng.permutation(len(rest))]
    return head + rest, len(head)


def make_subset(ann, fraction, seed=0):
    """The subset of ``ann`` with ``fraction`` of its videos.

    Args:
        ann (dict): official YouTube-VIS JSON.
        fraction (float): in (0, 1].
        seed (int): random seed.

    Returns:
        dict: a YouTube-VIS JSON with the chosen videos, their annotations,
        all categories, and ``info.subset`` describing the draw.
    """
    if not 0 < fraction <= 1:
        raise InputError(f'fraction must be in (0, 1], got {fraction}')
    order, num_cover = video_order(ann, seed)
    n = max(1, int(math.floor(fraction * len(order) + 0.5)))
    keep = set(order[:n])
    out = {k: copy.deepcopy(v) for k, v in ann.items()
           if k not in ('videos', 'annotations')}
    out['videos'] = [v for v in ann['videos'] if v['id'] in keep]
    out['annotations'] = [
        a for a in ann['annotations'] if a['video_id'] in keep
    ]
    info = dict(out.get('info') or {})
    info['subset'] = dict(
        fraction=fraction, seed=seed, num_videos=len(keep),
        of_videos=len(order), all_classes_covered=n >= num_cover)
    out['info'] = info
    return out
