"""VideoMask2Former track head: the official mask-loss normalisation,
DropLoss and frame-masked mask loss (switches), configurable test-time
selection."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.ops import point_sample
from torch import Tensor

from mmdet.models.tracking_heads import Mask2FormerTrackHead
from mmdet.models.utils import get_uncertain_point_coords_with_randomness
from vcl_mm.registry import MODELS
from vcl_mm.utils.config_variables import require_resolved
from mmdet.structures import TrackDataSample
from mmdet.utils import reduce_mean
from .drop_loss import DropLossMixin, check_iou_thr
from .float32_matching import Float32MatchingMixin
from .track_utils import (check_linker, masks_to_frames, pack_track_instances,
                          query_scores, select_topk)

DEFAULT_TEST_CFG = dict(
    topk=10,
    score_thr=None,
    mask_thr=0.,
    window_size=None,
    window_overlap=4,
    linker='mask_iou',
    frame_chunk=None,
    upsample_chunk=8)


@MODELS.register_module()
class VideoCutLERTrackHead(Float32MatchingMixin, DropLossMixin,
                           Mask2FormerTrackHead):
    """``Mask2FormerTrackHead`` with the official mask loss and a
    configurable inference.

    Subclassed because (1) mmdet 3.3 divides the summed point BCE by
    ``num_masks * num_points / num_frames``, ``num_frames`` times the
    official value (VideoCutLER's ``criterion.py``: mean over points, summed
    over (track, frame), divided by the number of tracks); dice and class
    losses already match; (2) mmdet's ``predict`` hard-codes top-10 with no
    threshold, keeps every decoder layer's (Q, T, h, w) masks and upsamples
    all queries to full resolution; (3) two loss switches for training on
    imperfect pseudo-labels (both off in the paper recipe); (4) matching
    runs in float32 with autocast off, as upstream's matcher (in float16
    its summed point costs overflow: :mod:`vcl_mm.models.float32_matching`).

    Args:
        official_mask_loss (bool): divide the point BCE by
            ``num_masks * num_points`` as upstream (default). False keeps
            mmdet 3.3's value (``num_frames`` times larger), e.g. to compare
            with mmdet's own Mask2Former-VIS numbers.
        drop_loss_iou_thr (float, optional): DropLoss (CutLER, AutoQ-VIS):
            an unmatched query whose binarised mask has video IoU (summed
            over the clip's T frames) at most this with every pseudo-mask
            gets class-loss weight 0 instead of being pushed to "no
            object". None (default) = off, the paper recipe; the
            ``*_droploss`` configs use 0.01 (CutLER's value). Exact
            definition and normalisation: :mod:`vcl_mm.models.drop_loss`.
        mask_loss_on_labelled_frames (bool): True: a (track, frame) whose
            pseudo-mask is empty (all zero, the track has no label in that
            frame) adds neither mask BCE nor dice, so partial tracks of real
            videos can train the model. Normalisation: by the number of
            labelled (track, frame) pairs divided by T, i.e. by the number
            of tracks when every frame is labelled, so on fully labelled
            clips the losses equal the default's exactly (and the BCE keeps
            ``official_mask_loss``'s scale); a partly labelled track counts
            as the fraction of a track it is labelled on. False (default):
            mmdet / official (empty frames push the mask to empty).
        test_cfg (dict, optional): see below.

    ``test_cfg`` keys (defaults = official VideoCutLER test):

    * ``topk`` (int, 10): tracks kept per video, ranked by foreground
      probability of the last decoder layer.
    * ``score_thr`` (float | None, None): also drop tracks below it.
    * ``mask_thr`` (float, 0.): logit threshold after upsampling.
    * ``window_size`` (int | None), ``window_overlap`` (int, 4),
      ``linker`` (``'mask_iou'`` | ``'query_embed'``, ``'mask_iou'``),
      ``frame_chunk`` (int | None), ``upsample_chunk`` (int, 8): used by
      :class:`~vcl_mm.models.VideoCutLER` (windowed inference and how its
      windows are linked, frames per backbone call, frames per upsampling
      call).
    """

    def __init__(self,
                 *args,
                 official_mask_loss: bool = True,
                 drop_loss_iou_thr: Optional[float] = None,
                 mask_loss_on_labelled_frames: bool = False,
                 test_cfg: Optional[dict] = None,
                 **kwargs):
        require_resolved(
            kwargs.get('num_frames'), 'model.track_head.num_frames')
        super().__init__(*args, **kwargs)
        self.official_mask_loss = official_mask_loss
        self.drop_loss_iou_thr = check_iou_thr(drop_loss_iou_thr,
                                               'drop_loss_iou_thr')
        self.mask_loss_on_labelled_frames = bool(mask_loss_on_labelled_frames)
        cfg = dict(DEFAULT_TEST_CFG)
        cfg.update(test_cfg or {})
        unknown = set(cfg) - set(DEFAULT_TEST_CFG)
        if unknown:
            raise KeyError(f'unknown test_cfg keys {sorted(unknown)} for '
                           f'{type(self).__name__}; valid keys: '
                           f'{sorted(DEFAULT_TEST_CFG)}')
        check_linker(cfg['linker'])
        self.test_cfg = cfg

    # ------------------------------------------------------------------ loss
    def _loss_by_feat_single(self, cls_scores: Tensor, mask_preds: Tensor,
                             batch_gt_instances: list,
                             batch_img_metas: List[dict]) -> Tuple[Tensor]:
        """One decoder layer's losses; see the class docstring for the
        mask-loss normalisation.

        Args:
            cls_scores (Tensor): (B, Q, C + 1) class logits.
            mask_preds (Tensor): (B, Q, T, h, w) mask logits.
            batch_gt_instances (list[InstanceData]): per clip, ``labels``
                (G,) and ``masks`` (G, T, H, W).
            batch_img_metas (list[dict]): per clip meta information.

        Returns:
            tuple[Tensor]: ``loss_cls``, ``loss_mask``, ``loss_dice``.
        """
        if self.mask_loss_on_labelled_frames:
            return self._loss_on_labelled_frames(cls_scores, mask_preds,
                                                 batch_gt_instances,
                                                 batch_img_metas)
        loss_cls, loss_mask, loss_dice = super()._loss_by_feat_single(
            cls_scores, mask_preds, batch_gt_instances, batch_img_metas)
        if self.official_mask_loss:
            loss_mask = loss_mask / self.num_frames
        return loss_cls, loss_mask, loss_dice

    def _loss_on_labelled_frames(self, cls_scores: Tensor, mask_preds: Tensor,
                                 batch_gt_instances: list,
                                 batch_img_metas: List[dict]) -> Tuple[Tensor]:
        """mmdet's per-layer losses with the mask losses restricted to the
        labelled (track, frame) pairs (``mask_loss_on_labelled_frames``).

        Class loss and matching are mmdet's (with DropLoss if set). Points
        are sampled per labelled (track, frame) as mmdet does per (track,
        frame). With ``n`` labelled pairs over the batch (averaged over
        processes like mmdet's ``num_total_masks``), dice is summed over
        them and divided by ``max(n, 1) / T``; the BCE (mean over points)
        likewise, times T more with ``official_mask_loss=False``.
        """
        num_imgs = cls_scores.size(0)
        (labels_list, label_weights_list, mask_targets_list, mask_weights_list,
         _) = self.get_targets([cls_scores[i] for i in range(num_imgs)],
                               [mask_preds[i] for i in range(num_imgs)],
                               batch_gt_instances, batch_img_metas)
        labels = torch.stack(labels_list).flatten(0, 1)
        label_weights = torch.stack(label_weights_list).flatten(0, 1)
        mask_targets = torch.cat(mask_targets_list)  # (N, T, H, W)
        mask_weights = torch.stack(mask_weights_list)
        cls_scores = cls_scores.flatten(0, 1)
        class_weight = cls_scores.new_tensor(self.class_weight)
        loss_cls = self.loss_cls(
            cls_scores,
            labels,
            label_weights,
            avg_factor=class_weight[labels].sum())

        mask_preds = mask_preds[mask_weights > 0]  # (N, T, h, w)
        labelled = mask_targets.flatten(2).any(-1)  # (N, T)
        num_pairs = reduce_mean(cls_scores.new_tensor([float(labelled.sum())]))
        norm = max(float(num_pairs), 1.) / self.num_frames
        mask_preds = mask_preds[labelled]  # (n, h, w)
        if mask_preds.shape[0] == 0:
            zero = mask_preds.sum()
            return loss_cls, zero, zero
        mask_targets = mask_targets[labelled]  # (n, H, W)
        with torch.no_grad():
            coords = get_uncertain_point_coords_with_randomness(
                mask_preds.unsqueeze(1), None, self.num_points,
                self.oversample_ratio, self.importance_sample_ratio)
            point_targets = point_sample(
                mask_targets.unsqueeze(1).float(), coords).squeeze(1)
        point_preds = point_sample(mask_preds.unsqueeze(1), coords).squeeze(1)
        loss_dice = self.loss_dice(point_preds, point_targets, avg_factor=norm)
        bce_norm = norm * self.num_points
        if not self.official_mask_loss:
            bce_norm = bce_norm / self.num_frames
        loss_mask = self.loss_mask(
            point_preds.reshape(-1),
            point_targets.reshape(-1),
            avg_factor=bce_norm)
        return loss_cls, loss_mask, loss_dice

    # ---------------------------------------------------------------- decode
    def decode_last(
        self, mask_features: Tensor, multi_scale_memorys: Sequence[Tensor]
    ) -> Tuple[Tensor, Tensor, Tensor]:
        """Transformer decoder on one video, keeping only the last layer.

        Same computation as :meth:`forward` at test time (one video), but
        the 10 intermediate (Q, T, h, w) predictions are not kept.

        Args:
            mask_features (Tensor): (T, c, h, w) per-frame mask features of
                the pixel decoder.
            multi_scale_memorys (list[Tensor]): per level (T, c, h_i, w_i),
                low to high resolution.

        Returns:
            tuple: class logits (Q, C + 1), mask logits (Q, T, h, w) and the
            decoder output (Q, c) after the final norm.
        """
        t, c_m, h_m, w_m = mask_features.shape
        mask_features = mask_features.view(1, t, c_m, h_m, w_m)
        keys, key_pos = [], []
        for i in range(self.num_transformer_feat_level):
            feat = self.decoder_input_projs[i](multi_scale_memorys[i])
            feat = feat.flatten(2) + self.level_embed.weight[i][None, :, None]
            _, c, hw = feat.shape
            keys.append(
                feat.view(1, t, c, hw).permute(0, 1, 3, 2).flatten(1, 2))
            mask = feat.new_zeros(
                (1, t) + multi_scale_memorys[i].shape[-2:], dtype=torch.bool)
            pos = self.decoder_positional_encoding(mask)
            key_pos.append(pos.flatten(3).permute(0, 1, 3, 2).flatten(1, 2))
        query_feat = self.query_feat.weight.unsqueeze(0)
        query_embed = self.query_embed.weight.unsqueeze(0)
        cls_pred, mask_pred, attn_mask = self._forward_head(
            query_feat, mask_features, multi_scale_memorys[0].shape[-2:])
        for i in range(self.num_transformer_decoder_layers):
            level = i % self.num_transformer_feat_level
            attn_mask[torch.where(
                attn_mask.sum(-1) == attn_mask.shape[-1])] = False
            query_feat = self.transformer_decoder.layers[i](
                query=query_feat,
                key=keys[level],
                value=keys[level],
                query_pos=query_embed,
                key_pos=key_pos[level],
                cross_attn_mask=attn_mask,
                query_key_padding_mask=None,
                key_padding_mask=None)
            del attn_mask, mask_pred
            next_level = (i + 1) % self.num_transformer_feat_level
            cls_pred, mask_pred, attn_mask = self._forward_head(
                query_feat, mask_features,
                multi_scale_memorys[next_level].shape[-2:])
        embed = self.transformer_decoder.post_norm(query_feat)
        return cls_pred[0], mask_pred[0], embed[0]

    # --------------------------------------------------------------- predict
    def predict(self,
                x: Tuple[Tensor],
                data_samples: TrackDataSample,
                rescale: bool = True) -> List:
        """Whole-video inference from backbone features of all T frames.

        Args:
            x (tuple[Tensor]): backbone features, each (T, c, h, w).
            data_samples (TrackDataSample): the video's frames.
            rescale (bool): masks at the original frame size (True) or at
                the resized input size.

        Returns:
            list[InstanceData]: one per frame (see
            :func:`~vcl_mm.models.track_utils.pack_track_instances`).
        """
        mask_features, memorys = self.pixel_decoder(x)
        return self.predict_from_features(mask_features, memorys, data_samples,
                                          rescale)

    def predict_from_features(self,
                              mask_features: Tensor,
                              memorys: Sequence[Tensor],
                              data_samples: TrackDataSample,
                              rescale: bool = True) -> List:
        """Decode, select the top-k tracks and upsample only those."""
        cls_logits, mask_logits, _ = self.decode_last(mask_features, memorys)
        query_idx, labels, scores = select_topk(
            query_scores(cls_logits), self.test_cfg['topk'],
            self.test_cfg['score_thr'])
        masks = self.upsample(mask_logits[query_idx], data_samples[0].metainfo,
                              rescale)
        ids = torch.arange(len(query_idx))
        return pack_track_instances(masks.cpu(), labels.cpu(), scores.cpu(),
                                    ids)

    def upsample(self, mask_logits: Tensor, meta: dict,
                 rescale: bool) -> Tensor:
        """(K, T, h, w) logits -> (K, T, H, W) bool frame masks."""
        return masks_to_frames(
            mask_logits,
            meta['batch_input_shape'],
            meta['img_shape'],
            meta['ori_shape'] if rescale else None,
            mask_thr=self.test_cfg['mask_thr'],
            frame_chunk=self.test_cfg['upsample_chunk'])
