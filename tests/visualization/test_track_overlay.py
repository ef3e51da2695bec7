"""Track overlays: stable colours from mmdet's palette, drawn where masks
are, in either channel order, through TrackOverlayVisualizer (mmdet's
track visualizer, without seaborn)."""
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.visualization.palette import get_palette
from mmengine.structures import InstanceData

from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.visualization import (DEFAULT_PRED_SCORE_THR,
                                  TrackOverlayVisualizer, draw_tracks,
                                  label_style, track_colour)


def draw(img, masks, ids, scores=None, thr=DEFAULT_PRED_SCORE_THR,
         **kwargs):
    """Predictions drawn as the test hook and the demo draw them."""
    fields = dict(masks=torch.from_numpy(masks),
                  instances_id=torch.tensor(ids, dtype=torch.long))
    if scores is not None:
        fields['scores'] = torch.tensor(scores, dtype=torch.float64)
    sample = DetDataSample(pred_track_instances=InstanceData(**fields))
    vis = TrackOverlayVisualizer(name='test', **kwargs)
    vis.add_datasample('frame', img, sample, draw_gt=False,
                       pred_score_thr=thr)
    return vis.get_image()


def test_colours_are_mmdet_random_palette_by_id():
    palette = get_palette('random', 256)
    assert track_colour(3) == tuple(int(c) for c in palette[3])
    assert track_colour(3, rgb=False) == track_colour(3)[::-1]
    assert track_colour(259) == track_colour(3)  # wraps, stays stable
    assert track_colour(1) != track_colour(2)


def test_masks_are_filled_outlined_and_labelled_only_where_they_are():
    img = np.zeros((40, 60, 3), np.uint8)
    masks = np.zeros((2, 40, 60), bool)
    masks[0, 20:35, 5:25] = True
    masks[1, 20:35, 35:55] = True
    out = draw_tracks(img, masks, [1, 2], scores=[0.9, 0.5], alpha=0.5)
    assert out.shape == img.shape and out is not img
    assert (img == 0).all()  # input untouched
    inside = out[27, 15].astype(int)
    expected = np.array(track_colour(1)) * 0.5
    assert np.abs(inside - expected).max() <= 1
    assert (out[38:, :] == 0).all()  # below masks, outlines and labels
    bgr = draw_tracks(img, masks, [1, 2], rgb=False)
    assert np.abs(bgr[27, 15].astype(int) - expected[::-1]).max() <= 1
    empty = draw_tracks(img, np.zeros((0, 40, 60), bool), [])
    assert (empty == 0).all()


def ten_tracks(h, w):
    """Ten overlapping box masks on an (h, w) frame, scores 0.9 .. 0.03."""
    masks = np.zeros((10, h, w), bool)
    rng = np.random.default_rng(0)
    for k in range(10):
        y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
        masks[k, y:y + h // 3, x:x + w // 3] = True
    scores = list(np.linspace(0.9, 0.03, 10))
    return masks, list(range(1, 11)), scores


def test_tracks_below_the_score_threshold_are_not_drawn():
    img = np.full((120, 160, 3), 128, np.uint8)
    masks, ids, scores = ten_tracks(120, 160)
    out = draw(img, masks, ids, scores, thr=0.3)
    drawn = [k for k in range(10) if scores[k] > 0.3]
    hidden = masks[[k for k in range(10) if k not in drawn]].any(0)
    shown = masks[drawn].any(0)
    # pixels of low-score tracks only (away from drawn masks, their
    # outlines and labels) keep the frame's grey
    only_hidden = hidden & ~shown
    only_hidden[:30] = False  # the labels sit above the masks
    assert only_hidden.any()
    assert (out[only_hidden] == 128).all()
    assert (out[shown] != 128).any(-1).all()
    everything = draw(img, masks, ids, scores, thr=0)
    assert (everything[hidden & ~shown] != 128).any()
    assert np.array_equal(everything, draw_tracks(img, masks, ids, scores))


def test_the_best_track_wins_overlaps():
    img = np.zeros((40, 60, 3), np.uint8)
    masks = np.zeros((2, 40, 60), bool)
    masks[0, 10:30, 10:40] = True
    masks[1, 15:35, 20:50] = True
    for scores, best in (([0.9, 0.5], 1), ([0.5, 0.9], 2)):
        out = draw_tracks(img, masks, [1, 2], scores, alpha=0.5,
                          labels=False)
        expected = np.array(track_colour(best)) * 0.5
        assert np.abs(out[25, 30].astype(int) - expected).max() <= 1


def test_labels_are_sized_to_the_frame():
    """At 160x120 (the quickstart's demo) labels leave most of the frame
    visible; on a 1080p frame they are larger, not smaller."""
    fractions = {}
    for h, w in ((120, 160), (1080, 1920)):
        img = np.full((h, w, 3), 128, np.uint8)
        masks, ids, scores = ten_tracks(h, w)
        for thr in (None, DEFAULT_PRED_SCORE_THR):
            with_labels = draw(img, masks, ids, scores, thr=thr or 0)
            without = draw(img, masks, ids, scores, thr=thr or 0,
                           labels=False)
            fractions[h, thr] = (with_labels != without).any(-1).mean()
    # all ten labels (the old overlay's text alone: 24% at 160x120)
    assert 0 < fractions[120, None] < 0.22, fractions
    assert 0 < fractions[1080, None] < 0.22, fractions
    # the demo's default: the seven tracks scoring >= 0.3
    assert 0 < fractions[120, DEFAULT_PRED_SCORE_THR] < 0.15, fractions
    small, large = label_style(120, 160), label_style(1080, 1920)
    assert large['font_scale'] > small['font_scale']
    (_, th), base = cv2.getTextSize('10 0.90', cv2.FONT_HERSHEY_SIMPLEX,
                                    small['font_scale'], small['thickness'])
    assert th + base <= 120 // 10


def test_one_colour_per_track_id():
    colours = {track_colour(i) for i in range(1, 11)}
    assert len(colours) == 10
    img = np.zeros((40, 60, 3), np.uint8)
    mask = np.zeros((1, 40, 60), bool)
    mask[0, 20:35, 5:25] = True
    a = draw_tracks(img, mask, [7], [0.8], labels=False)
    b = draw_tracks(img, mask, [7], [0.4], labels=False)
    assert np.array_equal(a, b)  # same id, same colour, whatever the score


def test_is_mmdets_track_visualizer_in_the_vcl_mm_scope():
    from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
    from mmdet.visualization import TrackLocalVisualizer

    from vcl_mm.registry import VISUALIZERS
    from vcl_mm.utils.launch import load_config
    assert issubclass(TrackOverlayVisualizer, TrackLocalVisualizer)
    assert VISUALIZERS.get('TrackOverlayVisualizer') is \
        TrackOverlayVisualizer
    assert MMDET_VISUALIZERS.get('vcl_mm.TrackOverlayVisualizer') is \
        TrackOverlayVisualizer
    cfg = load_config(f'{REPO_ROOT}/configs/toy/video_smoke_generated.py')
    assert cfg.visualizer.type == 'vcl_mm.TrackOverlayVisualizer'


def test_draws_without_seaborn(monkeypatch):
    """mmdet's own track colours raise without seaborn; ours do not use
    them."""
    import mmdet.visualization.local_visualizer as local
    monkeypatch.setattr(local, 'sns', None)
    img = np.zeros((40, 60, 3), np.uint8)
    masks = np.zeros((1, 40, 60), bool)
    masks[0, 10:30, 10:40] = True
    out = draw(img, masks, [4], [0.9], labels=False)
    assert np.abs(out[20, 25].astype(int) -
                  np.array(track_colour(4)) * 0.5).max() <= 1


def test_add_datasample_keeps_mmdets_contract(tmp_path):
    """GT left of predictions, above-threshold rule, out_file in BGR,
    ground truth with the packed ``instances_ids`` and no scores."""
    from mmdet.structures.mask import BitmapMasks
    img = np.full((40, 60, 3), 50, np.uint8)
    masks = np.zeros((2, 40, 60), bool)
    masks[0, 5:20, 5:25] = True
    masks[1, 22:38, 30:55] = True
    sample = DetDataSample(
        gt_instances=InstanceData(masks=BitmapMasks(masks, 40, 60),
                                  instances_ids=torch.tensor([3, 8])),
        pred_track_instances=InstanceData(
            masks=torch.from_numpy(masks), instances_id=torch.tensor([3, 8]),
            scores=torch.tensor([0.3, 0.31])))
    vis = TrackOverlayVisualizer(name='contract')
    out_file = str(tmp_path / 'frame.png')
    vis.add_datasample('f', img, sample, pred_score_thr=0.3,
                       out_file=out_file)
    written = cv2.imread(out_file)[..., ::-1]
    assert written.shape == (40, 120, 3)
    gt, pred = written[:, :60], written[:, 60:]
    assert np.array_equal(gt, draw_tracks(img, masks, [3, 8]))
    # 0.3 is not above the threshold: only track 8 is drawn
    assert np.array_equal(pred, draw_tracks(img, masks[1:], [8], [0.31]))
    assert np.array_equal(vis.get_image(), pred)
    vis.set_image(img)  # mmengine's canvas again
    assert np.array_equal(vis.get_image(), img)
    with pytest.raises(ValueError, match='do not fit'):
        vis.add_datasample('f', img[:30], sample, draw_gt=False)


def test_importing_the_package_stays_light():
    code = ('import sys, vcl_mm.visualization as v; '
            'assert "torch" not in sys.modules; '
            'assert "mmdet" not in sys.modules; '
            'assert v.TrackOverlayVisualizer.__name__; '
            'assert "mmdet" in sys.modules')
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
