"""Fixtures of the evaluation tests (helpers live in evalhelpers.py)."""
import pytest
from evalhelpers import load_bench

from vcl_mm.testing.toy_data import write_video_set


@pytest.fixture(scope='session')
def davis_reference():
    """benchmarks/davis_reference.py (the official DAVIS design)."""
    return load_bench('davis_reference')


@pytest.fixture(scope='session')
def bench():
    """benchmarks/eval_bench.py (random case generators)."""
    return load_bench('eval_bench')


@pytest.fixture(scope='session')
def videos(tmp_path_factory):
    """3 generated videos in the YouTube-VIS (official and mmdet JSON) and
    DAVIS (flat ``Annotations/<video>``, ImageSets val) layouts."""
    from mmengine.registry import init_default_scope
    init_default_scope('vcl_mm')
    root = str(tmp_path_factory.mktemp('videos'))
    return write_video_set(
        root,
        num_videos=3,
        seed=1,
        size=(48, 64),
        frames=(4, 6),
        objects=(1, 3))
