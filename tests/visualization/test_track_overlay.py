"""Track overlays: stable colours from mmdet's palette, drawn where masks
are, in either channel order."""
import numpy as np
from mmdet.visualization.palette import get_palette

from vcl_mm.visualization import draw_tracks, track_colour


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
