"""DropLoss for Mask2Former heads (CutLER, AutoQ-VIS): unmatched queries
whose mask overlaps no pseudo-mask are not pushed to "no object".

Pseudo-masks miss objects. Without DropLoss, a query that finds an object
MaskCut missed is unmatched and its "no object" cross-entropy teaches the
model to stop finding it. With DropLoss such a query's class-loss weight is
0 when its predicted mask overlaps no pseudo-mask (max IoU at or below
``drop_loss_iou_thr``); unmatched queries that do overlap a pseudo-mask
(duplicates, bad localisations) keep weight 1 and are still pushed to "no
object", and matched queries are never dropped.

IoU, as computed here (:func:`max_gt_iou`): the predicted mask is the
query's mask logits of that decoder layer binarised at ``sigmoid > 0.5``
(logit > 0), at the prediction's resolution (h, w) = 1/4 of the padded
input; each pseudo-mask is resized to (h, w) by area averaging (a cell is
foreground when at least half of its pixels are); for a clip, intersection
and union are summed over all T frames (the video IoU of YouTube-VIS), for
an image over its pixels. No gradient flows through the weights. The IoU
is computed in float32 with autocast off (exact pixel counts under AMP).

Normalisation: mmdet divides the class loss by ``class_weight[labels].sum()``
over *all* queries (the weighted mean of detectron2's ``F.cross_entropy``),
ignoring ``label_weights``; dropped queries therefore stay in the
denominator. That is what CutLER does (``fast_rcnn.py``:
``(weights * cross_entropy(..., reduction='none')).mean()``, the mean over
all proposals, dropped ones included). AutoQ-VIS instead divides by the
number of kept queries; we follow CutLER.

A clip or image without any pseudo-mask drops nothing (CutLER falls back to
the plain loss when an image has no ground truth; otherwise every query
would be dropped and the class loss would vanish).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def max_gt_iou(mask_logits: Tensor, gt_masks: Tensor) -> Tensor:
    """Each query's best IoU with any ground-truth mask (see the module
    docstring for the exact definition).

    Args:
        mask_logits (Tensor): (Q, h, w) or (Q, T, h, w) mask logits.
        gt_masks (Tensor): (G, H, W) or (G, T, H, W), any dtype, non-zero =
            foreground; H, W at least h, w.

    Returns:
        Tensor: (Q,) float in [0, 1]; 0 when G == 0 or for an empty
        prediction with no overlap.
    """
    num_queries = mask_logits.shape[0]
    if gt_masks.shape[0] == 0:
        return mask_logits.new_zeros(num_queries, dtype=torch.float)
    if gt_masks.shape[1:-2] != mask_logits.shape[1:-2]:
        raise ValueError(f'gt_masks {tuple(gt_masks.shape)} and mask_logits '
                         f'{tuple(mask_logits.shape)} differ in frames')
    hw = mask_logits.shape[-2:]
    # float32 with autocast off, as upstream's matcher: pixel counts above
    # 2048 are inexact in float16 and above 65504 overflow.
    with torch.autocast(device_type=mask_logits.device.type, enabled=False):
        pred = (mask_logits.detach() > 0).flatten(1).float()
        gt = gt_masks.detach().float().flatten(0, -3).unsqueeze(1)
        if tuple(gt.shape[-2:]) != tuple(hw):
            gt = F.interpolate(gt, size=hw, mode='area')
        gt = (gt >= 0.5).reshape(gt_masks.shape[0], -1).float()
        inter = pred @ gt.t()
        union = pred.sum(1)[:, None] + gt.sum(1)[None, :] - inter
        return (inter / union.clamp(min=1)).max(1).values


def drop_loss_keep(mask_logits: Tensor, gt_masks: Tensor, neg_inds: Tensor,
                   iou_thr: float) -> Tensor:
    """Class-loss weights of DropLoss for one image or clip.

    Args:
        mask_logits (Tensor): (Q, [T,] h, w) mask logits.
        gt_masks (Tensor): (G, [T,] H, W) ground-truth masks.
        neg_inds (Tensor): (N,) long, the unmatched queries.
        iou_thr (float): an unmatched query with max IoU <= ``iou_thr`` is
            dropped (CutLER: ``iou_max.le(thresh)``).

    Returns:
        Tensor: (Q,) float, 0 for dropped queries, else 1.
    """
    keep = mask_logits.new_ones(mask_logits.shape[0], dtype=torch.float)
    if gt_masks.shape[0] == 0 or len(neg_inds) == 0:
        return keep
    iou = max_gt_iou(mask_logits[neg_inds], gt_masks)
    keep[neg_inds[iou <= iou_thr]] = 0.
    return keep


class DropLossMixin:
    """Adds DropLoss to a Mask2Former head's ``_get_targets_single``.

    Put it before the mmdet head in the bases; the head must set
    ``self.drop_loss_iou_thr`` (None = off: the targets are mmdet's
    exactly). The weights multiply ``label_weights``, so they enter the
    class loss of every decoder layer, each with that layer's masks.
    """

    drop_loss_iou_thr: Optional[float] = None

    def _get_targets_single(self, cls_score: Tensor, mask_pred: Tensor,
                            gt_instances, img_meta: dict) -> Tuple:
        """mmdet's targets; with DropLoss, ``label_weights`` (Q,) is 0 for
        the dropped unmatched queries (see :func:`drop_loss_keep`)."""
        targets = super()._get_targets_single(cls_score, mask_pred,
                                              gt_instances, img_meta)
        if self.drop_loss_iou_thr is None:
            return targets
        (labels, label_weights, mask_targets, mask_weights, pos_inds, neg_inds,
         sampling_result) = targets
        keep = drop_loss_keep(mask_pred, gt_instances.masks, neg_inds,
                              self.drop_loss_iou_thr)
        label_weights = label_weights * keep.to(label_weights.dtype)
        return (labels, label_weights, mask_targets, mask_weights, pos_inds,
                neg_inds, sampling_result)


def check_iou_thr(value: Optional[float], name: str) -> Optional[float]:
    """``value`` as a float in [0, 1), or None; else a ValueError naming
    ``name``."""
    if value is None:
        return None
    value = float(value)
    if not 0. <= value < 1.:
        raise ValueError(f'{name} must be None (off) or in [0, 1), got '
                         f'{value}')
    return value
