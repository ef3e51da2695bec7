"""DropLoss (``drop_loss_iou_thr``) and the frame-masked mask loss
(``mask_loss_on_labelled_frames``) on cases whose answer is known."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import InstanceData
from model_helpers import ROOT

from vcl_mm.models.drop_loss import drop_loss_keep, max_gt_iou

VIDEO_SMOKE = osp.join(ROOT, 'configs', 'toy', 'videocutler_smoke_cpu.py')
IMAGE_SMOKE = osp.join(ROOT, 'configs', 'toy',
                       'cutler_mask2former_smoke_cpu.py')
NO_OBJECT_WEIGHT = 0.1  # class_weight[-1] of the recipes


@pytest.fixture(autouse=True)
def mmdet_scope():
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)


def video_head(num_frames=3, **overrides):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(VIDEO_SMOKE)
    head_cfg = dict(cfg.model.track_head, num_frames=num_frames, **overrides)
    head_cfg['train_cfg'] = Config(dict(head_cfg['train_cfg'], num_points=64))
    torch.manual_seed(0)
    return MODELS.build(head_cfg)


def image_head(**overrides):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(IMAGE_SMOKE)
    head_cfg = dict(cfg.model.panoptic_head, **overrides)
    head_cfg['train_cfg'] = Config(dict(cfg.model.train_cfg, num_points=64))
    torch.manual_seed(0)
    return MODELS.build(head_cfg)


def box(shape, y0, y1, x0, x1, inside=8., outside=-8.):
    out = torch.full(shape, outside)
    out[..., y0:y1, x0:x1] = inside
    return out


# --------------------------------------------------------------- the IoU
def test_max_gt_iou_is_the_video_iou_of_binarised_masks():
    # predictions at 4x4 over 2 frames, ground truth at 8x8 (area-resized)
    pred = torch.full((3, 2, 4, 4), -1.)
    pred[0, :, :2, :2] = 1.  # 4 cells per frame = GT exactly
    pred[1, 0, :2, :4] = 1.  # frame 0: 8 cells, GT 4 of them; frame 1 none
    pred[2, :, 2:, 2:] = 1.  # disjoint from the GT
    gt = torch.zeros(1, 2, 8, 8, dtype=torch.long)
    gt[0, :, :4, :4] = 1  # -> 2x2 cells per frame at 4x4
    iou = max_gt_iou(pred, gt)
    # query 1: intersection 4 (frame 0), union 8 + 4 (frame 1 GT) = 12
    assert iou.tolist() == pytest.approx([1., 4 / 12, 0.])
    # sigmoid > 0.5 is logit > 0: a logit of exactly 0 is background
    assert max_gt_iou(torch.zeros(1, 2, 4, 4), gt).item() == 0.
    # no ground truth: IoU 0 and nothing is dropped
    empty = gt[:0]
    assert max_gt_iou(pred, empty).tolist() == [0., 0., 0.]
    keep = drop_loss_keep(pred, empty, torch.arange(3), 0.01)
    assert keep.tolist() == [1., 1., 1.]
    # an unmatched query is dropped at IoU <= thr only
    keep = drop_loss_keep(pred, gt, torch.tensor([1, 2]), 0.01)
    assert keep.tolist() == [1., 1., 0.]
    keep = drop_loss_keep(pred, gt, torch.tensor([1, 2]), 0.5)
    assert keep.tolist() == [1., 0., 0.]


def _known_case(head, frames=None):
    """One pseudo-mask; query 0 predicts it (matched), query 1 a box half
    on it (unmatched, IoU 1/3 > 0.01), query 2 an object the pseudo-mask
    misses (unmatched, IoU 0); the other queries predict nothing."""
    spatial = (16, 16)
    lead = () if frames is None else (frames, )
    gt_masks = torch.zeros((1, ) + lead + (32, 32), dtype=torch.long)
    gt_masks[0, ..., 0:16, 0:16] = 1  # -> cells 0:4 at 16x16 ... (x4)
    q = head.num_queries
    masks = torch.full((1, q) + lead + spatial, -8.)
    masks[0, 0] = box(lead + spatial, 0, 8, 0, 8)
    masks[0, 1] = box(lead + spatial, 0, 8, 4, 12)
    masks[0, 2] = box(lead + spatial, 10, 16, 10, 16)
    cls = torch.zeros(1, q, 2)
    cls[0, :, 1] = 2.  # no object
    cls[0, 0] = torch.tensor([4., -4.])  # query 0: clearly the object
    cls[0, 1] = torch.tensor([1., 0.])
    cls[0, 2] = torch.tensor([1.5, 0.])
    gt = InstanceData(labels=torch.zeros(1, dtype=torch.long), masks=gt_masks)
    return cls, masks, gt


def _hand_class_loss(head, cls, dropped):
    """CE with class weights [1, 0.1], query 0 labelled 0, the rest
    no-object; dropped queries weigh 0 in the sum and stay in the
    denominator (CutLER's mean over all proposals)."""
    logits = cls[0]
    labels = torch.ones(len(logits), dtype=torch.long)
    labels[0] = 0
    weight = torch.tensor([1., NO_OBJECT_WEIGHT])[labels]
    ce = F.cross_entropy(logits, labels, reduction='none') * weight
    keep = torch.ones(len(logits))
    keep[list(dropped)] = 0.
    return head.loss_cls.loss_weight * (ce * keep).sum() / weight.sum()


@pytest.mark.parametrize('stage', ['video', 'image'])
def test_drop_loss_weights_and_class_loss(stage):
    if stage == 'video':
        on, off = video_head(drop_loss_iou_thr=0.01), video_head()
        cls, masks, gt = _known_case(on, frames=3)
    else:
        on = image_head(type='CutLERMask2FormerHead', drop_loss_iou_thr=0.01)
        off = image_head()  # mmdet's own Mask2FormerHead
        cls, masks, gt = _known_case(on)
    torch.manual_seed(3)
    targets = on._get_targets_single(cls[0], masks[0], gt, {})
    labels, label_weights, pos_inds = targets[0], targets[1], targets[4]
    assert pos_inds.tolist() == [0]
    # kept: the match and the unmatched duplicate overlapping the GT;
    # dropped: the object the pseudo-mask misses and the empty queries
    assert label_weights[:3].tolist() == [1, 1, 0]
    assert label_weights[3:].tolist() == [0] * (on.num_queries - 3)
    assert labels.tolist() == [0] + [1] * (on.num_queries - 1)

    torch.manual_seed(3)
    loss_on = on._loss_by_feat_single(cls, masks, [gt], [{}])
    torch.manual_seed(3)
    loss_off = off._loss_by_feat_single(cls, masks, [gt], [{}])
    dropped = [2] + list(range(3, on.num_queries))
    assert float(loss_on[0]) == pytest.approx(
        float(_hand_class_loss(on, cls, dropped)), rel=1e-5)
    assert float(loss_off[0]) == pytest.approx(
        float(_hand_class_loss(on, cls, [])), rel=1e-5)
    # the mask losses (matched queries only) do not change
    assert float(loss_on[1]) == pytest.approx(float(loss_off[1]), rel=1e-6)
    assert float(loss_on[2]) == pytest.approx(float(loss_off[2]), rel=1e-6)


def test_dropped_query_loss_equals_loss_without_it():
    """The dropped query's no-object term is gone: removing that query
    from the unmatched set (its CE term) leaves the same sum."""
    head = video_head(drop_loss_iou_thr=0.01)
    cls, masks, gt = _known_case(head, frames=3)
    # make every other unmatched query overlap the GT, so only query 2
    # (IoU 0) is dropped
    for q in range(3, head.num_queries):
        masks[0, q] = box(masks.shape[2:], 0, 8, 0, 8, inside=0.5)
    torch.manual_seed(4)
    targets = head._get_targets_single(cls[0], masks[0], gt, {})
    assert targets[1].tolist() == [1, 1, 0] + [1] * (head.num_queries - 3)
    torch.manual_seed(4)
    loss_cls = head._loss_by_feat_single(cls, masks, [gt], [{}])[0]
    assert float(loss_cls) == pytest.approx(
        float(_hand_class_loss(head, cls, [2])), rel=1e-5)


@pytest.mark.parametrize('stage', ['video', 'image'])
def test_drop_loss_off_is_mmdet(stage):
    from mmdet.models.dense_heads import Mask2FormerHead
    from mmdet.models.tracking_heads import Mask2FormerTrackHead
    if stage == 'video':
        head, base = video_head(), Mask2FormerTrackHead
        cls, masks, gt = _known_case(head, frames=3)
    else:
        head = image_head(type='CutLERMask2FormerHead')
        base = Mask2FormerHead
        cls, masks, gt = _known_case(head)
    assert head.drop_loss_iou_thr is None
    torch.manual_seed(5)
    ours = head._get_targets_single(cls[0], masks[0], gt, {})
    torch.manual_seed(5)
    theirs = base._get_targets_single(head, cls[0], masks[0], gt, {})
    for a, b in zip(ours[:6], theirs[:6]):
        assert torch.equal(a, b)


def test_drop_loss_threshold_is_checked():
    with pytest.raises(ValueError, match='drop_loss_iou_thr'):
        video_head(drop_loss_iou_thr=1.5)


def test_drop_loss_runs_through_all_decoder_layers():
    head = video_head(drop_loss_iou_thr=0.01)
    cls, masks, gt = _known_case(head, frames=3)
    layers = head.num_transformer_decoder_layers + 1
    cls = cls.expand(layers, -1, -1, -1).clone().requires_grad_()
    masks = masks.expand(layers, -1, -1, -1, -1, -1).clone()
    torch.manual_seed(0)
    losses = head.loss_by_feat(cls, masks, [gt], [{}])
    assert len(losses) == 3 * layers
    sum(losses.values()).backward()
    # the dropped query gets no class gradient, the kept duplicate does
    assert cls.grad[:, 0, 2].abs().sum() == 0
    assert cls.grad[:, 0, 1].abs().sum() > 0


# ------------------------------------------------- labelled-frame mask loss
def _track_clip(frames, labelled, num_tracks=1, seed=0):
    """GT tracks labelled on the frames ``labelled[i]``, and per track
    (T, 16, 16) mask logits that follow it (so query i matches track i),
    plus noise."""
    g = torch.Generator().manual_seed(seed)
    gt_masks = torch.zeros(num_tracks, frames, 32, 32, dtype=torch.long)
    for i in range(num_tracks):
        for t in labelled[i]:
            gt_masks[i, t, 12 * i:12 * i + 14, 2 + t:16 + t] = 1
    gt = InstanceData(
        labels=torch.zeros(num_tracks, dtype=torch.long), masks=gt_masks)
    small = F.interpolate(gt_masks.float(), size=(16, 16), mode='area')
    logits = [
        4 * small[i] - 2 + 0.5 * torch.randn(frames, 16, 16, generator=g)
        for i in range(num_tracks)
    ]
    return gt, logits


def _preds(head, per_track_logits, other=-6.):
    """Query i predicts track i (strong class logit, its logits); the
    other queries predict ``other`` everywhere."""
    q = head.num_queries
    masks = torch.full((1, q) + per_track_logits[0].shape, other)
    cls = torch.zeros(1, q, 2)
    cls[0, :, 1] = 3.
    for i, logits in enumerate(per_track_logits):
        masks[0, i] = logits
        cls[0, i] = torch.tensor([5., -5.])
    return cls, masks


def test_fully_labelled_clip_loss_is_unchanged():
    off = video_head(3)
    on = video_head(3, mask_loss_on_labelled_frames=True)
    gt, logits = _track_clip(3, [range(3), range(3)], num_tracks=2, seed=1)
    cls, masks = _preds(on, logits)
    torch.manual_seed(7)
    a = off._loss_by_feat_single(cls, masks, [gt], [{}])
    torch.manual_seed(7)
    b = on._loss_by_feat_single(cls, masks, [gt], [{}])
    for x, y in zip(a, b):
        assert float(x) == pytest.approx(float(y), rel=1e-6)


def test_track_labelled_on_two_of_three_frames_is_the_two_frame_clip():
    """Frames 0, 1 labelled, frame 2 not: the mask losses are those of the
    2-frame clip of frames 0, 1 per labelled (track, frame) pair (the
    totals differ by the clip length, 3 / 2, since the official loss sums
    over frames), whatever the prediction on frame 2."""
    gt3, (logits3, ) = _track_clip(3, [[0, 1]], seed=3)
    logits3[2] = 3.  # confident mask on the unlabelled frame
    gt2 = InstanceData(labels=gt3.labels, masks=gt3.masks[:, :2].clone())
    on3 = video_head(3, mask_loss_on_labelled_frames=True)
    off3 = video_head(3)
    two = video_head(2)
    # the other queries cover everything, so query 0 stays the match
    cls3, masks3 = _preds(on3, [logits3], other=6.)
    cls2, masks2 = _preds(two, [logits3[:2]], other=6.)
    torch.manual_seed(8)
    assert on3._get_targets_single(cls3[0], masks3[0], gt3,
                                   {})[4].tolist() == [0]
    torch.manual_seed(8)
    _, mask3, dice3 = on3._loss_by_feat_single(cls3, masks3, [gt3], [{}])
    torch.manual_seed(8)
    _, mask2, dice2 = two._loss_by_feat_single(cls2, masks2, [gt2], [{}])
    assert float(mask3) / 3 == pytest.approx(float(mask2) / 2, rel=1e-5)
    assert float(dice3) / 3 == pytest.approx(float(dice2) / 2, rel=1e-5)
    # without the switch, the confident frame-2 mask is penalised
    torch.manual_seed(8)
    _, mask_off, dice_off = off3._loss_by_feat_single(cls3, masks3, [gt3],
                                                      [{}])
    assert float(mask_off) > float(mask3) + 1.
    assert float(dice_off) > float(dice3)


def test_labelled_frame_normalisation_by_hand(monkeypatch):
    """Two tracks, labelled on 3 and on 1 of 3 frames; with fixed sample
    points, loss = T * (sum over the 4 labelled pairs) / 4."""
    import vcl_mm.models.videocutler_head as head_module
    from mmcv.ops import point_sample
    grid = (torch.arange(8) + 0.5) / 8  # 64 points = train_cfg.num_points
    coords = torch.stack(torch.meshgrid(grid, grid, indexing='xy'),
                         -1).reshape(1, -1, 2)

    def fixed_points(mask_preds, _, num_points, *args):
        assert num_points == coords.shape[1]
        return coords.expand(len(mask_preds), -1, -1)

    monkeypatch.setattr(head_module,
                        'get_uncertain_point_coords_with_randomness',
                        fixed_points)
    head = video_head(3, mask_loss_on_labelled_frames=True)
    gt, logits = _track_clip(3, [range(3), [1]], num_tracks=2, seed=5)
    cls, masks = _preds(head, logits)
    torch.manual_seed(9)
    targets = head._get_targets_single(cls[0], masks[0], gt, {})
    assert targets[4].tolist() == [0, 1]  # query i matches track i
    torch.manual_seed(9)
    _, loss_mask, loss_dice = head._loss_by_feat_single(cls, masks, [gt], [{}])
    pairs = [(0, 0), (0, 1), (0, 2), (1, 1)]
    bce, dice = 0., 0.
    for i, t in pairs:
        p = point_sample(masks[0, i, t][None, None], coords)[0, 0]
        y = point_sample(gt.masks[i, t][None, None].float(), coords)[0, 0]
        bce += F.binary_cross_entropy_with_logits(p, y).item()
        s, eps = p.sigmoid(), head.loss_dice.eps  # naive dice, as mmdet's
        dice += 1 - ((2 * (s * y).sum() + eps) /
                     (s.sum() + y.sum() + eps)).item()
    norm = len(pairs) / 3
    assert float(loss_mask) == pytest.approx(5 * bce / norm, rel=1e-4)
    assert float(loss_dice) == pytest.approx(5 * dice / norm, rel=1e-4)


def test_no_labelled_frame_gives_zero_mask_loss():
    head = video_head(3, mask_loss_on_labelled_frames=True)
    gt, logits = _track_clip(3, [[]])
    cls, masks = _preds(head, logits)
    masks.requires_grad_()
    loss_cls, loss_mask, loss_dice = head._loss_by_feat_single(
        cls, masks, [gt], [{}])
    assert float(loss_mask) == 0. and float(loss_dice) == 0.
    assert math.isfinite(float(loss_cls))
    (loss_mask + loss_dice).backward()  # still part of the graph
