"""VideoMask2Former track head: the official mask-loss normalisation and
configurable test-time selection."""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmdet.models.tracking_heads import Mask2FormerTrackHead
from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from .track_utils import (masks_to_frames, pack_track_instances, query_scores,
                          select_topk)

DEFAULT_TEST_CFG = dict(
    topk=10,
    score_thr=None,
    mask_thr=0.,
    window_size=None,
    window_overlap=4,
    frame_chunk=None,
    upsample_chunk=8)


@MODELS.register_module()
class VideoCutLERTrackHead(Mask2FormerTrackHead):
    """``Mask2FormerTrackHead`` with the official mask loss and a
    configurable inference.

    Subclassed because (1) mmdet 3.3 divides the summed point BCE by
    ``num_masks * num_points / num_frames``, ``num_frames`` times the
    official value (VideoCutLER's ``criterion.py``: mean over points, summed
    over (track, frame), divided by the number of tracks); dice and class
    losses already match; (2) mmdet's ``predict`` hard-codes top-10 with no
    threshold, keeps every decoder layer's (Q, T, h, w) masks and upsamples
    all queries to full resolution.

    Args:
        official_mask_loss (bool): divide the point BCE by
            ``num_masks * num_points`` as upstream (default). False keeps
            mmdet 3.3's value (``num_frames`` times larger), e.g. to compare
            with mmdet's own Mask2Former-VIS numbers.
        test_cfg (dict, optional): see below.

    ``test_cfg`` keys (defaults = official VideoCutLER test):

    * ``topk`` (int, 10): tracks kept per video, ranked by foreground
      probability of the last decoder layer.
    * ``score_thr`` (float | None, None): also drop tracks below it.
    * ``mask_thr`` (float, 0.): logit threshold after upsampling.
    * ``window_size`` (int | None), ``window_overlap`` (int, 4),
      ``frame_chunk`` (int | None), ``upsample_chunk`` (int, 8): used by
      :class:`~vcl_mm.models.VideoCutLER` (windowed inference, frames per
      backbone call, frames per upsampling call).
    """

    def __init__(self,
                 *args,
                 official_mask_loss: bool = True,
                 test_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.official_mask_loss = official_mask_loss
        cfg = dict(DEFAULT_TEST_CFG)
        cfg.update(test_cfg or {})
        unknown = set(cfg) - set(DEFAULT_TEST_CFG)
        if unknown:
            raise KeyError(f'unknown test_cfg keys {sorted(unknown)} for '
                           f'{type(self).__name__}; valid keys: '
                           f'{sorted(DEFAULT_TEST_CFG)}')
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
        loss_cls, loss_mask, loss_dice = super()._loss_by_feat_single(
            cls_scores, mask_preds, batch_gt_instances, batch_img_metas)
        if self.official_mask_loss:
            loss_mask = loss_mask / self.num_frames
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
