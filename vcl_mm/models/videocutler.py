"""VideoCutLER: VideoMask2Former with whole-video and windowed inference."""
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from mmdet.models.vis import Mask2FormerVideo
from vcl_mm.registry import MODELS
from mmdet.structures import TrackDataSample, TrackSampleList
from .track_utils import (FrameMaskStore, check_linker, frame_owners,
                          link_queries, link_queries_by_embedding,
                          pack_track_instances, query_scores, select_topk,
                          window_spans)


@MODELS.register_module()
class VideoCutLER(Mask2FormerVideo):
    """``Mask2FormerVideo`` whose inference runs in bounded memory.

    Subclassed because mmdet's ``predict`` always runs the backbone and the
    head on all frames at once, so memory grows with the video length.
    Training, losses and checkpoint keys are those of ``Mask2FormerVideo``
    (an image Mask2Former checkpoint loads, ``panoptic_head.*`` being
    renamed to ``track_head.*``).

    Inference (``test_cfg``, shared with the track head, see
    :class:`VideoCutLERTrackHead`):

    * whole-video (``window_size=None`` or a video no longer than it): one
      forward over all frames, top-``topk`` queries by foreground
      probability, masks binarised at logit ``mask_thr`` after upsampling
      (the official test). ``frame_chunk`` runs the backbone and pixel
      decoder that many frames at a time (exact: both are per frame).
    * windowed: windows of ``window_size`` frames overlapping by at least
      ``window_overlap`` (:func:`~vcl_mm.models.track_utils.window_spans`).
      The queries of each window are linked to the tracks so far by
      Hungarian matching of soft mask IoU on the shared frames
      (``linker='mask_iou'``, default,
      :func:`~vcl_mm.models.track_utils.link_queries`) or of the cosine
      similarity of the decoder's query embeddings with those of the
      previous window (``linker='query_embed'``, MinVIS,
      :func:`~vcl_mm.models.track_utils.link_queries_by_embedding`); every
      frame takes
      the masks of the window where it is most central; a track's score is
      the frame-weighted mean of its per-window foreground probability;
      the top-``topk`` tracks are kept at the end. Shared frames are
      encoded (backbone + pixel decoder) once. The masks of all tracks
      wait as compressed RLE, so memory stays flat in the video length
      (besides the (topk, T, H, W) output).

    Args:
        test_cfg (dict, optional): inference keys (see above); passed to the
            track head.
        **kwargs: as :class:`mmdet.models.Mask2FormerVideo`.
    """

    def __init__(self,
                 backbone: Optional[dict] = None,
                 track_head: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        track_head = dict(track_head or {})
        if test_cfg is not None:
            merged = dict(track_head.get('test_cfg') or {})
            merged.update(test_cfg)
            track_head['test_cfg'] = merged
        super().__init__(
            backbone=backbone,
            track_head=track_head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not hasattr(self.track_head, 'decode_last'):
            raise TypeError('VideoCutLER needs track_head type '
                            "'VideoCutLERTrackHead' (or a subclass), got "
                            f'{type(self.track_head).__name__}')

    @property
    def test_cfg(self) -> dict:
        """The inference settings (those of the track head)."""
        return self.track_head.test_cfg

    def encode(self, frames: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """Backbone + pixel decoder, ``frame_chunk`` frames at a time.

        Args:
            frames (Tensor): (T, 3, H, W) normalised frames.

        Returns:
            tuple: mask features (T, c, H/4, W/4) and the multi-scale
            memories, each (T, c, h_i, w_i), low to high resolution.
        """
        chunk = self.test_cfg['frame_chunk'] or len(frames)
        mask_feats, memorys = [], []
        for s in range(0, len(frames), chunk):
            feats = self.backbone(frames[s:s + chunk])
            mask_feat, memory = self.track_head.pixel_decoder(feats)
            mask_feats.append(mask_feat)
            memorys.append(memory)
        if len(mask_feats) == 1:
            return mask_feats[0], memorys[0]
        return torch.cat(mask_feats), [
            torch.cat(level) for level in zip(*memorys)
        ]

    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True) -> TrackSampleList:
        """Track instances of one video.

        Args:
            inputs (Tensor): (1, T, 3, H, W).
            data_samples (list[TrackDataSample]): one video.
            rescale (bool): masks at the original frame size.

        Returns:
            list[TrackDataSample]: frames carry ``pred_track_instances``
            (``masks`` (K, H, W) bool, ``bboxes``, ``labels``, ``scores``,
            ``instances_id``; the same id is the same track in every frame).
        """
        assert inputs.dim() == 5, 'inputs must be (N, T, C, H, W)'
        assert len(data_samples) == 1, \
            'VideoCutLER inference takes one video per batch'
        frames, video = inputs[0], data_samples[0]
        window = self.test_cfg['window_size']
        if window is None or len(frames) <= window:
            mask_feats, memorys = self.encode(frames)
            preds = self.track_head.predict_from_features(
                mask_feats, memorys, video, rescale)
        else:
            preds = self.predict_windowed(frames, video, rescale)
        frames_out = []
        for t, pred in enumerate(preds):
            sample = video[t]
            sample.pred_track_instances = pred
            frames_out.append(sample)
        result = TrackDataSample()
        result.video_data_samples = frames_out
        return [result]

    def _encode_window(self, frames: Tensor, start: int, end: int,
                       cached: Optional[tuple]) -> Tuple[Tensor, list]:
        """Encoder outputs of frames ``[start, end)``, reusing ``cached``
        (those of the first frames, shared with the previous window):
        the backbone and pixel decoder work per frame, so shared frames are
        encoded once."""
        if cached is None:
            return self.encode(frames[start:end])
        old_feats, old_memorys = cached
        new_feats, new_memorys = self.encode(frames[start +
                                                    len(old_feats):end])
        return torch.cat([old_feats, new_feats]), [
            torch.cat(pair) for pair in zip(old_memorys, new_memorys)
        ]

    @torch.no_grad()
    def predict_windowed(self,
                         frames: Tensor,
                         video: TrackDataSample,
                         rescale: bool = True,
                         window_size: Optional[int] = None,
                         window_overlap: Optional[int] = None,
                         store_stats: Optional[dict] = None,
                         linker: Optional[str] = None) -> List:
        """Windowed inference (see the class docstring), decoded.

        Args: as :meth:`track_windowed`.

        Returns:
            list[InstanceData]: one per frame.
        """
        store, track_idx, labels, scores = self.track_windowed(
            frames, video, rescale, window_size, window_overlap, linker)
        masks = store.gather(track_idx.tolist())
        if store_stats is not None:
            store_stats['rle_bytes'] = store.nbytes()
        return pack_track_instances(masks, labels.cpu(), scores.cpu(),
                                    torch.arange(len(track_idx)))

    @torch.no_grad()
    def track_windowed(self,
                       frames,
                       video: TrackDataSample,
                       rescale: bool = True,
                       window_size: Optional[int] = None,
                       window_overlap: Optional[int] = None,
                       linker: Optional[str] = None) -> tuple:
        """Windowed inference (see the class docstring), kept compressed.

        Args:
            frames (Tensor | sequence): (T, 3, H, W) normalised frames, or
                any object with ``len()`` and ``[start:end]`` slicing that
                returns such a tensor (e.g. frames decoded on demand by
                :class:`vcl_mm.apis.inference.WindowFrames`, so the video
                never sits in memory whole); slices move forward only.
            video (TrackDataSample): the frames' data samples.
            rescale (bool): masks at the original frame size.
            window_size (int, optional): overrides ``test_cfg``.
            window_overlap (int, optional): overrides ``test_cfg``.
            linker (str, optional): ``'mask_iou'`` or ``'query_embed'``;
                overrides ``test_cfg``.

        Returns:
            tuple: the :class:`FrameMaskStore` of all tracks' masks, the
            chosen track rows (K,), their labels (K,) and scores (K,).
        """
        cfg = self.test_cfg
        size = window_size or cfg['window_size'] or len(frames)
        overlap = cfg['window_overlap'] if window_overlap is None \
            else window_overlap
        linker = check_linker(linker or cfg['linker'])
        num_frames = len(frames)
        spans = window_spans(num_frames, size, min(overlap, size - 1))
        owner = frame_owners(spans)
        head = self.track_head
        meta = video[0].metainfo

        store = None
        score_sum = None
        track_of_query = prev_slots = prev_tail = prev_embeds = None
        cached = None  # encoder outputs of the frames shared with the next
        for w, (start, end) in enumerate(spans):
            mask_feats, memorys = self._encode_window(frames, start, end,
                                                      cached)
            cls_logits, mask_logits, embeds = head.decode_last(
                mask_feats, memorys)
            if w + 1 < len(spans):
                shared = spans[w + 1][0] - start
                cached = (mask_feats[shared:].clone(),
                          [m[shared:].clone() for m in memorys])
            del mask_feats, memorys
            num_queries = len(cls_logits)
            if w == 0:
                track_of_query = torch.arange(num_queries)
            elif linker == 'query_embed':
                track_of_query = link_queries_by_embedding(prev_embeds, embeds)
            else:
                shared = spans[w - 1][1] - start
                track_of_query = link_queries(prev_tail,
                                              mask_logits[:, :shared],
                                              prev_slots)
            # reorder so that row i is track i
            query_of_track = torch.empty_like(track_of_query)
            query_of_track[track_of_query] = torch.arange(num_queries)
            mask_logits = mask_logits[query_of_track]
            scores = query_scores(cls_logits)[query_of_track]

            own = [t for t in range(start, end) if owner[t] == w]
            score_sum = scores * len(own) if score_sum is None \
                else score_sum + scores * len(own)
            rel = torch.as_tensor([t - start for t in own])
            masks = head.upsample(mask_logits[:, rel], meta, rescale)
            if store is None:
                store = FrameMaskStore(num_frames, num_queries,
                                       masks.shape[-2:])
            for i, t in enumerate(own):
                store.put(t, masks[:, i])
            del masks
            if w + 1 < len(spans):
                next_start = spans[w + 1][0]
                prev_tail = mask_logits[:, next_start - start:].clone()
                prev_slots = query_of_track
                prev_embeds = embeds[query_of_track]
            del mask_logits

        track_idx, labels, scores = select_topk(score_sum / num_frames,
                                                cfg['topk'], cfg['score_thr'])
        return store, track_idx, labels, scores
