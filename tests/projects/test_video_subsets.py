"""The seeded, stratified video-subset tool of projects/VideoCutLERPretrain."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from vcl_mm.testing.runners import REPO_ROOT

ROOT = REPO_ROOT
PROJECT = osp.join(ROOT, 'projects', 'VideoCutLERPretrain')
sys.path.insert(0, PROJECT)

from videocutler_pretrain.subsets import make_subset  # noqa: E402


def fake_ytvis(num_videos=200, num_classes=40, seed=0):
    """A YouTube-VIS-like JSON with a long-tailed class distribution; class
    40 appears in exactly one video."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, num_classes)
    weights /= weights.sum()
    videos, anns = [], []
    for v in range(1, num_videos + 1):
        videos.append(dict(id=v, length=3, width=8, height=8,
                           file_names=[f'v{v}/{t}.jpg' for t in range(3)]))
        k = int(rng.integers(1, 4))
        cats = rng.choice(np.arange(1, num_classes), size=k, p=weights)
        if v == 77:
            cats = [num_classes]
        for c in cats:
            anns.append(dict(id=len(anns) + 1, video_id=v,
                             category_id=int(c), segmentations=[None] * 3,
                             areas=[None] * 3, bboxes=[None] * 3,
                             iscrowd=0))
    cats = [dict(id=c, name=f'class{c}') for c in range(1, num_classes + 1)]
    return dict(videos=videos, annotations=anns, categories=cats)


@pytest.mark.parametrize('fraction', [0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
def test_fraction_size_coverage_and_no_leakage(fraction):
    ann = fake_ytvis(num_videos=1000)  # 5% = 50 videos >= 40 classes
    sub = make_subset(ann, fraction, seed=3)
    ids = [v['id'] for v in sub['videos']]
    assert len(ids) == len(set(ids)) == round(fraction * 1000)
    assert sub['info']['subset']['all_classes_covered'] is True
    assert {a['video_id'] for a in sub['annotations']} <= set(ids)
    # every track of a chosen video is kept, none of the others
    expected = [a for a in ann['annotations'] if a['video_id'] in set(ids)]
    assert sub['annotations'] == expected
    present = {a['category_id'] for a in ann['annotations']}
    assert {a['category_id'] for a in sub['annotations']} == present
    assert 77 in ids  # the only video of the rarest class
    assert sub['categories'] == ann['categories']


def test_same_seed_same_subset_other_seed_differs_and_nested():
    ann = fake_ytvis()
    a = make_subset(ann, 0.2, seed=0)
    b = make_subset(ann, 0.2, seed=0)
    c = make_subset(ann, 0.2, seed=1)
    assert a == b
    assert [v['id'] for v in a['videos']] != [v['id'] for v in c['videos']]
    small = {v['id'] for v in make_subset(ann, 0.1, seed=0)['videos']}
    assert small <= {v['id'] for v in a['videos']}


def test_budget_smaller_than_classes_is_reported():
    ann = fake_ytvis(num_videos=200)
    sub = make_subset(ann, 0.05, seed=0)  # 10 videos, 40 classes
    assert sub['info']['subset']['all_classes_covered'] is False
    assert len(sub['videos']) == 10


def test_cli_writes_files_and_rejects_bad_json(tmp_path):
    ann_file = tmp_path / 'train.json'
    ann_file.write_text(json.dumps(fake_ytvis()))
    tool = osp.join(PROJECT, 'tools', 'make_video_subsets.py')
    proc = subprocess.run(
        [sys.executable, tool, str(ann_file), str(tmp_path / 'out'),
         '--fractions', '0.1', '0.5', '--seed', '2'],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads((tmp_path / 'out' / 'train_10pct_seed2.json')
                     .read_text())
    assert len(out['videos']) == 20
    assert (tmp_path / 'out' / 'train_50pct_seed2.json').is_file()
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(videos=[], annotations=[])))
    proc = subprocess.run([sys.executable, tool, str(bad), str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'has no "categories" list' in proc.stderr
