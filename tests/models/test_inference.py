"""VideoCutLER inference: top-k / threshold keys, whole-video vs windowed."""
import numpy as np
import pytest
import torch

from vcl_mm.models.track_utils import (FrameMaskStore, frame_owners,
                                       link_queries, select_topk, window_spans)
from model_helpers import build_tiny_videocutler, video_sample

PAD, IMG, ORI = (64, 96), (60, 90), (120, 180)


def run_whole(model, frames):
    video = video_sample(len(frames), PAD, IMG, ORI)
    with torch.no_grad():
        out = model.predict(frames[None], [video])[0]
    return [f.pred_track_instances for f in out.video_data_samples]


def test_decode_last_equals_mmdet_forward(tiny_model):
    frames = torch.randn(4, 3, *PAD)
    with torch.no_grad():
        feats = tiny_model.backbone(frames)
        cls_all, masks_all = tiny_model.track_head(feats, None)
        cls, masks, _ = tiny_model.track_head.decode_last(
            *tiny_model.track_head.pixel_decoder(feats))
    assert torch.equal(cls, cls_all[-1][0])
    assert torch.equal(masks, masks_all[-1][0])


def test_whole_video_outputs_per_frame_tracks(tiny_model):
    frames = torch.randn(5, 3, *PAD)
    preds = run_whole(tiny_model, frames)
    assert len(preds) == 5
    for p in preds:
        assert p.masks.shape == (10, ) + ORI and p.masks.dtype == torch.bool
        assert p.bboxes.shape == (10, 4)
        assert torch.equal(p.instances_id, torch.arange(10))
        assert torch.equal(p.scores, preds[0].scores)
        assert (p.labels == 0).all()
    assert (preds[0].scores[:-1] >= preds[0].scores[1:]).all()


def test_topk_and_score_threshold_are_config_keys():
    frames = torch.randn(3, 3, *PAD)
    top3 = run_whole(build_tiny_videocutler(topk=3), frames)
    assert len(top3[0].scores) == 3
    all10 = run_whole(build_tiny_videocutler(topk=10), frames)
    thr = float(all10[0].scores[4])
    kept = run_whole(build_tiny_videocutler(topk=10, score_thr=thr), frames)
    assert torch.equal(kept[0].scores, all10[0].scores[:5])
    assert torch.equal(kept[2].masks, all10[2].masks[:5])


def test_unknown_test_cfg_key_is_refused():
    with pytest.raises(KeyError, match='top_k'):
        build_tiny_videocutler(top_k=3)


def test_one_window_equals_whole_video(tiny_model):
    frames = torch.randn(6, 3, *PAD)
    whole = run_whole(tiny_model, frames)
    video = video_sample(6, PAD, IMG, ORI)
    with torch.no_grad():
        windowed = tiny_model.predict_windowed(frames, video, window_size=6)
    for a, b in zip(whole, windowed):
        assert torch.equal(a.masks, b.masks)
        assert torch.allclose(a.scores, b.scores)
        assert torch.equal(a.instances_id, b.instances_id)


def test_overlapping_windows_on_static_video_stitch_exactly():
    """All windows of a static video see the same clip: the windowed result
    of every frame must be the whole-video result of one window-long clip at
    that frame's position in its window, with the same ids and scores."""
    model = build_tiny_videocutler(window_size=4, window_overlap=2)
    frame = torch.randn(1, 3, *PAD)
    frames = frame.expand(10, -1, -1, -1).contiguous()
    windowed = run_whole(model, frames)  # 10 > window_size: windowed path
    clip = run_whole(model, frames[:4])
    spans = window_spans(10, 4, 2)
    owner = frame_owners(spans)
    for t in range(10):
        rel = t - spans[owner[t]][0]
        # shared frames are encoded in a different batch: allow last-bit
        # differences to flip a few boundary pixels
        differ = (windowed[t].masks != clip[rel].masks).float().mean()
        assert differ < 1e-4, t
        assert torch.allclose(windowed[t].scores, clip[rel].scores)
        assert torch.equal(windowed[t].instances_id, clip[rel].instances_id)


def test_link_queries_recovers_a_permutation():
    gen = torch.Generator().manual_seed(0)
    tracks = torch.randn(8, 2, 12, 12, generator=gen) * 4
    perm = torch.randperm(8, generator=gen)
    new = tracks[perm] + 0.3 * torch.randn(8, 2, 12, 12, generator=gen)
    track_of_query = link_queries(tracks, new, torch.arange(8))
    assert torch.equal(track_of_query, perm)


def test_link_queries_keeps_slots_of_empty_tracks():
    masks = torch.full((4, 2, 6, 6), -20.)
    slots = torch.tensor([2, 0, 3, 1])
    assert torch.equal(
        link_queries(masks, masks.clone(), slots), torch.tensor([1, 3, 0, 2]))


@pytest.mark.parametrize('num,size,overlap', [(10, 4, 2), (7, 7, 3),
                                              (23, 8, 3), (9, 4, 0)])
def test_window_spans_cover_video(num, size, overlap):
    spans = window_spans(num, size, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == num
    for (s0, e0), (s1, e1) in zip(spans, spans[1:]):
        assert e1 - s1 == size and e0 - s1 >= overlap and s1 > s0
    owner = frame_owners(spans)
    assert len(owner) == num
    assert all(spans[w][0] <= t < spans[w][1] for t, w in enumerate(owner))


def test_select_topk_sorted_and_thresholded():
    scores = torch.tensor([[0.1], [0.9], [0.5], [0.7]])
    q, labels, s = select_topk(scores, topk=3)
    assert q.tolist() == [1, 3, 2] and labels.tolist() == [0, 0, 0]
    q, _, s = select_topk(scores, topk=3, score_thr=0.6)
    assert q.tolist() == [1, 3] and torch.allclose(s, torch.tensor([.9, .7]))


def test_frame_mask_store_roundtrip():
    rng = np.random.default_rng(0)
    masks = torch.from_numpy(rng.random((5, 3, 20, 30)) > 0.7)
    masks[2] = False
    store = FrameMaskStore(3, 5, (20, 30))
    for t in range(3):
        store.put(t, masks[:, t])
    assert torch.equal(store.gather([4, 2, 0]), masks[[4, 2, 0]])
    assert 0 < store.nbytes()
