"""Linking windows into tracks: mask IoU on shared frames vs query
embeddings (``test_cfg.linker``), on long videos."""
import pytest
import torch
from model_helpers import build_tiny_videocutler, video_sample

from vcl_mm.models.track_utils import (link_queries_by_embedding, window_spans)

NUM_FRAMES = 120


def test_link_by_embedding_recovers_a_permutation():
    g = torch.Generator().manual_seed(0)
    tracks = torch.randn(10, 64, generator=g)
    perm = torch.randperm(10, generator=g)
    # new window: query q carries track perm[q], scaled and slightly noisy
    new = 3 * tracks[perm] + 0.1 * torch.randn(10, 64, generator=g)
    assert torch.equal(link_queries_by_embedding(tracks, new), perm)


def test_unknown_linker_is_refused():
    with pytest.raises(ValueError, match='linker'):
        build_tiny_videocutler(linker='optical_flow')
    model = build_tiny_videocutler(window_size=8)
    with pytest.raises(ValueError, match='linker'):
        model.track_windowed(
            torch.zeros(20, 3, 32, 32),
            video_sample(20, (32, 32), (32, 32), (32, 32)),
            linker='nearest')


class ScriptedDecoder:
    """Stands in for the encoder and decoder of a tiny model: in window w
    query q carries identity ``perm[w][q]``; identity i < ``num_objects``
    is an object whose mask is column band i (8 x 8 logits, every frame),
    the others predict nothing. Embeddings: identity i's fixed vector plus
    noise, or (``informative=False``) fresh random vectors per window."""

    def __init__(self, model, spans, num_objects=3, informative=True, seed=0):
        self.q = model.track_head.num_queries
        self.num_objects = num_objects
        g = torch.Generator().manual_seed(seed)
        self.starts = [s for s, _ in spans]
        self.perm = [torch.randperm(self.q, generator=g) for _ in spans]
        self.perm[0] = torch.arange(self.q)
        ident = torch.randn(self.q, 64, generator=g)
        self.embeds = [
            ident[p] + 0.05 * torch.randn(self.q, 64, generator=g)
            if informative else torch.randn(self.q, 64, generator=g)
            for p in self.perm
        ]
        model._encode_window = self.encode
        model.track_head.decode_last = self.decode

    def encode(self, frames, start, end, cached):
        return torch.arange(start, end, dtype=torch.float)[:, None], []

    def decode(self, frame_ids, memorys):
        w = self.starts.index(int(frame_ids[0, 0]))
        perm = self.perm[w]
        masks = torch.full((self.q, len(frame_ids), 8, 8), -5.)
        cls = torch.zeros(self.q, 2)
        for q, ident in enumerate(perm.tolist()):
            if ident < self.num_objects:
                masks[q, :, :, 2 * ident:2 * ident + 2] = 5.
                cls[q, 0] = 3. - 0.1 * ident  # objects rank first
        return cls, masks, self.embeds[w]


def object_tracks(store, rows, num_objects):
    """For each object (column band), the set of track rows whose mask
    covers the band in each frame."""
    owners = [set() for _ in range(num_objects)]
    for t in range(NUM_FRAMES):
        masks = store.frame(t, rows)  # (K, 32, 32), bands 8 px wide
        for k in range(num_objects):
            band = masks[:, :, 8 * k:8 * k + 8].reshape(len(rows), -1)
            covering = band.all(1).nonzero()[0]
            assert len(covering) == 1, (t, k)
            owners[k].add(int(rows[covering[0]]))
    return owners


def run_scripted(linker, overlap, informative=True):
    model = build_tiny_videocutler(
        topk=10, window_size=16, window_overlap=overlap)
    spans = window_spans(NUM_FRAMES, 16, overlap)
    assert len(spans) >= 8  # a long video: many links
    ScriptedDecoder(model, spans, informative=informative)
    video = video_sample(NUM_FRAMES, (32, 32), (32, 32), (32, 32))
    store, rows, _, _ = model.track_windowed(
        torch.zeros(NUM_FRAMES, 1), video, linker=linker)
    return object_tracks(store, rows.tolist(), 3)


@pytest.mark.parametrize('linker', ['mask_iou', 'query_embed'])
def test_both_linkers_follow_permuted_queries(linker):
    """Queries are shuffled in every window; masks on the shared frames
    and embeddings both identify the objects: one track per object."""
    owners = run_scripted(linker, overlap=4)
    assert all(len(o) == 1 for o in owners), owners
    assert len(set.union(*owners)) == 3


def test_embedding_linker_needs_no_shared_frames():
    """Disjoint windows: mask IoU has nothing to link on (the slot
    tie-break keeps query indices, which the shuffle breaks); query
    embeddings still link every window."""
    owners = run_scripted('query_embed', overlap=0)
    assert all(len(o) == 1 for o in owners), owners
    owners = run_scripted('mask_iou', overlap=0)
    assert any(len(o) > 1 for o in owners), owners


def test_mask_linker_does_not_need_informative_embeddings():
    owners = run_scripted('mask_iou', overlap=4, informative=False)
    assert all(len(o) == 1 for o in owners), owners
    owners = run_scripted('query_embed', overlap=4, informative=False)
    assert any(len(o) > 1 for o in owners), owners


@pytest.mark.parametrize('linker', ['mask_iou', 'query_embed'])
def test_linkers_on_a_long_video_with_a_tiny_model(linker):
    """Mechanics with real decoder outputs: 30 frames in 7 windows."""
    model = build_tiny_videocutler(
        topk=5, window_size=6, window_overlap=2, linker=linker)
    torch.manual_seed(1)
    frames = torch.randn(30, 3, 32, 32)
    video = video_sample(30, (32, 32), (32, 32), (40, 40))
    store, rows, labels, scores = model.track_windowed(frames, video)
    assert len(rows) == 5 and len(set(rows.tolist())) == 5
    assert scores.shape == (5, ) and torch.all(scores[:-1] >= scores[1:])
    masks = store.gather(rows.tolist())
    assert masks.shape == (5, 30, 40, 40) and masks.dtype == torch.bool
    if linker == 'query_embed':  # and windows may be disjoint
        store, rows, _, _ = model.track_windowed(
            frames, video, window_overlap=0)
        assert store.gather(rows.tolist()).shape == (5, 30, 40, 40)
