"""NCut core: known objects, agreement with upstream's dense solver, the
foreground rules and the iteration logic."""
import hashlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.linalg import eigh

from vcl_mm.maskcut import ncut
from vcl_mm.maskcut.eigensolver import (binary_affinity, fiedler_vectors,
                                        lapack_sign)
from vcl_mm.maskcut.ncut import (maskcut_patch_masks,
                                 maskcut_patch_masks_batch, select_object)
from vcl_mm.testing.maskcut_reference import (effective_masks,
                                              reference_maskcut,
                                              upstream_loop)
from vcl_mm.testing.patch_features import synthetic_features


def _features(seed, size=24, **kw):
    rng = np.random.default_rng(seed)
    kw.setdefault('num_objects', int(rng.integers(1, 5)))
    kw.setdefault('noise', rng.uniform(0.8, 2.0))
    kw.setdefault('shared', rng.uniform(0.2, 0.4))
    kw.setdefault('parts', rng.uniform(0, 1))
    return synthetic_features(rng, size, size, **kw)


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_finds_known_objects():
    feats, objects = _features(
        3, size=30, num_objects=3, noise=1.0, shared=0.3, parts=0.3)
    masks = maskcut_patch_masks(feats, tau=0.15, num_masks=3)
    assert len(masks) == 3
    assert all(m.dtype == bool and m.shape == (30, 30) for m in masks)
    found = []
    for m in masks:
        ious = [(m & o).sum() / (m | o).sum() for o in objects]
        assert max(ious) > 0.9
        found.append(int(np.argmax(ious)))
    assert sorted(found) == [0, 1, 2]


def test_fiedler_vector_matches_dense_generalized_solve():
    feats, _ = _features(1, size=20)
    f = torch.from_numpy(feats).reshape(1, feats.shape[0], -1)
    adj = binary_affinity(f, 0.15)
    keep = torch.ones(1, 400, dtype=torch.bool)
    keep[0, 50:120] = False  # zeroed patches, as after a first mask
    fn = F.normalize(f[0] * keep[0].float(), dim=0)
    a = np.where((fn.T @ fn).numpy() > 0.15, 1., 1e-5)
    d = np.diag(a.sum(1))
    values, vectors = eigh(d - a, d, subset_by_index=[1, 2])
    ref = vectors[:, 0]
    for kw in (dict(dense_below=0), dict(dense_below=10**6),
               dict(dense_below=0, dtype=torch.float64, tol=1e-11)):
        sol = fiedler_vectors(adj, keep, **kw)
        x = sol['vectors'][0].numpy()
        cos = abs(x @ d @ ref) / np.sqrt((x @ d @ x) * (ref @ d @ ref))
        assert cos > 1 - 1e-8, kw
        assert sol['eigenvalues'][0].item() == pytest.approx(
            values[0], abs=1e-6)
        assert sol['gaps'][0].item() == pytest.approx(
            values[1] - values[0], abs=1e-4)


@pytest.mark.parametrize('seed', range(8))
def test_same_masks_as_upstream_dense_solver(seed):
    feats, _ = _features(seed)
    ref = reference_maskcut(feats, 0.15, 3)
    fast = maskcut_patch_masks(feats, 0.15, 3, dense_below=0)
    assert _same(effective_masks(ref['masks']), effective_masks(fast))


def test_batch_equals_single_and_input_types():
    feats = np.stack([_features(s)[0] for s in (10, 11, 12)])
    batch = maskcut_patch_masks_batch(torch.from_numpy(feats), dense_below=0)
    for f, got in zip(feats, batch):
        assert _same(maskcut_patch_masks(f, dense_below=0), got)
        assert _same(
            maskcut_patch_masks(torch.from_numpy(f).double(), dense_below=0),
            got)
    with pytest.raises(ValueError, match='C, h, w'):
        maskcut_patch_masks(feats)
    with pytest.raises(TypeError):
        maskcut_patch_masks([[1.]])


def _grid_vector(h, w, regions):
    """x on an (h, w) grid from {value: bool mask} (rest 0)."""
    x = np.zeros((h, w))
    for value, m in regions:
        x[m] = value
    return x.ravel()


def test_corner_rule_takes_the_complement():
    # the positive side covers all 4 corners (a frame) but the most extreme
    # patch is inside it: upstream takes the complement, the centre object
    h = w = 10
    frame = np.ones((h, w), bool)
    frame[2:8, 2:8] = False
    centre = np.zeros((h, w), bool)
    centre[4:6, 4:6] = True
    x = _grid_vector(h, w, [(1., frame), (-0.2, ~frame), (-0.5, centre)])
    x[0] = 2.  # the seed is a corner of the frame
    for sign in ('corners', 'seed', 'as_is'):
        mask, amb = select_object(x, h, w, sign=sign)
        assert amb
    # the corner rule wins under 'corners' whichever sign x has
    for v in (x, -x):
        mask, _ = select_object(v, h, w, sign='corners')
        assert np.array_equal(mask, ~frame)
        mask, _ = select_object(v, h, w, sign='seed')
        assert np.array_equal(mask, frame)
    # upstream with this sign: the positive side has 4 corners -> reversed
    assert np.array_equal(select_object(x, h, w, 'as_is')[0], ~frame)
    assert np.array_equal(select_object(-x, h, w, 'as_is')[0], frame)


def test_seed_side_and_component():
    # two blobs on the negative side, the most extreme patch in blob B;
    # no corner on that side: the seed rule picks it, only B's component
    h = w = 12
    a = np.zeros((h, w), bool)
    a[2:5, 2:5] = True
    b = np.zeros((h, w), bool)
    b[7:10, 6:10] = True
    x = _grid_vector(h, w, [(0.3, ~(a | b)), (-0.8, a), (-1.0, b)])
    for v in (x, -x):
        mask, amb = select_object(v, h, w)
        assert not amb
        assert np.array_equal(mask, b)


def test_degenerate_graphs_give_no_mask():
    # identical features: every patch linked to every other one
    assert maskcut_patch_masks(np.ones((16, 20, 20), np.float32)) == []
    # zero features: no links at all
    assert maskcut_patch_masks(np.zeros((16, 20, 20), np.float32)) == []


def test_all_noise_input():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(64, 20, 20)).astype(np.float32)
    masks = maskcut_patch_masks(noise, num_masks=3, dense_below=0)
    assert len(masks) <= 3
    assert all(m.shape == (20, 20) and m.dtype == bool for m in masks)
    assert _same(
        effective_masks(masks),
        effective_masks(maskcut_patch_masks(noise, num_masks=3)))


def _oracle(pool, seed):
    """A deterministic 'solver': the mask depends only on the graph (the
    kept patches), like upstream's LAPACK call."""

    def solve(keep):
        digest = hashlib.sha1(keep.tobytes() + bytes([seed])).digest()
        return pool[digest[0] % len(pool)]

    return solve


def _scripted_batch(monkeypatch, solve, h, w, num_masks):
    """Run the fast loop with the solver and the rules replaced by
    ``solve`` (which sees the kept patches through the 'vector')."""
    calls = []

    def fake_fiedler(binary, keep, init=None, **kw):
        calls.append(1)
        k = keep.shape[0]
        return dict(
            vectors=keep.double(),
            gaps=torch.ones(k),
            eigenvalues=torch.zeros(k),
            residuals=torch.zeros(k),
            block=None)

    def fake_select(x, h_, w_, sign=None):
        return solve(np.asarray(x) > 0.5), False

    monkeypatch.setattr(ncut, 'fiedler_vectors', fake_fiedler)
    monkeypatch.setattr(ncut, 'select_object', fake_select)
    feats = torch.rand(1, 4, h, w)
    masks = maskcut_patch_masks_batch(feats, num_masks=num_masks)[0]
    return masks, len(calls)


def test_rejection_rules_match_upstream(monkeypatch):
    h = w = 12
    rng = np.random.default_rng(0)
    base = np.zeros((h, w), bool)
    base[2:8, 2:8] = True
    pool = [base]
    for _ in range(6):
        m = base.copy()
        m[rng.integers(0, h, 8), rng.integers(0, w, 8)] ^= True
        pool.append(m)  # overlaps base heavily (IoU > 0.5)
    tiny = np.zeros((h, w), bool)
    tiny[0, 0] = True
    pool.append(tiny)  # area <= 1%
    other = np.zeros((h, w), bool)
    other[9:12, 0:12] = True
    pool += [other, other | base, base[::-1].copy()]
    trials = 0
    for seed in range(120):
        solve = _oracle(pool, seed)
        for n in (1, 2, 3, 4):
            ups, _ = upstream_loop(lambda keep: (solve(keep), None), h, w, n)
            fast, calls = _scripted_batch(monkeypatch, solve, h, w, n)
            assert len(fast) <= n and calls <= n
            assert _same(effective_masks(ups),
                         effective_masks(fast)), (seed, n)
            trials += 1
    assert trials == 480


def test_rejected_iteration_is_spent(monkeypatch):
    h = w = 10
    first = np.zeros((h, w), bool)
    first[1:6, 1:6] = True
    second = first.copy()
    second[6, 1:6] = True  # IoU 25/30 > 0.5 with the first

    def solve(keep):
        return first if keep.all() else second

    # upstream: [first, rejected, second]; the fast path returns it once
    masks, calls = _scripted_batch(monkeypatch, solve, h, w, 3)
    assert _same(masks, [first, second]) and calls == 2
    masks, calls = _scripted_batch(monkeypatch, solve, h, w, 2)
    assert _same(masks, [first]) and calls == 2

    def small(keep):
        out = np.zeros((h, w), bool)
        out[0, 0] = not keep.all()
        return first if keep.all() else out

    masks, calls = _scripted_batch(monkeypatch, small, h, w, 3)
    assert _same(masks, [first]) and calls == 2  # area rejection: stop


def test_lapack_sign_matches_scipy_on_sign_dependent_cases():
    agree = total = 0
    for seed in range(300):
        feats, _ = _features(seed, size=16, num_objects=seed % 4, dim=64)
        f = torch.from_numpy(feats).reshape(1, feats.shape[0], -1)
        adj = binary_affinity(f, 0.15)
        a = np.where(adj[0].numpy(), 1., 1e-5)
        d = np.diag(a.sum(1))
        values, vectors = eigh(d - a, d, subset_by_index=[1, 2])
        x = vectors[:, 0]
        if values[1] - values[0] < 1e-6:
            continue  # repeated eigenvalue: the vector itself is arbitrary
        if not select_object(x, 16, 16, sign='as_is')[1]:
            continue
        total += 1
        keep = torch.ones(256, dtype=torch.bool)
        # the emulation tells which sign LAPACK gave, from either sign
        agree += lapack_sign(adj[0], keep, x) == 1
        agree += lapack_sign(adj[0], keep, -x) == -1
    assert total >= 10
    assert agree == 2 * total
