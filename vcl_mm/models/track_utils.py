"""Test-time pieces of VideoCutLER inference, as plain functions.

Shapes: ``Q`` queries, ``C`` classes (1 for VideoCutLER), ``T`` frames,
``K`` kept tracks, ``h, w`` mask-feature size (1/4 of the padded input),
``H, W`` output frame size in pixels.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment

from mmdet.structures.mask import mask2bbox
from vcl_mm.datasets.api_wrappers.masks import decode, encode


def query_scores(cls_logits: torch.Tensor) -> torch.Tensor:
    """Foreground probabilities per query and class.

    Args:
        cls_logits (Tensor): (Q, C + 1) logits, no-object last.

    Returns:
        Tensor: (Q, C) softmax probabilities without the no-object column.
    """
    return F.softmax(cls_logits.float(), dim=-1)[:, :-1]


def select_topk(
    scores: torch.Tensor,
    topk: int = 10,
    score_thr: Optional[float] = None
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Best (query, class) pairs, as the official VideoCutLER test.

    Args:
        scores (Tensor): (Q, C) probabilities.
        topk (int): pairs kept (at most Q * C).
        score_thr (float, optional): also drop pairs scoring below it.

    Returns:
        tuple: query indices (K,) long, labels (K,) long, scores (K,)
        float, sorted by descending score.
    """
    num_classes = scores.shape[1]
    flat = scores.flatten()
    k = min(int(topk), flat.numel())
    top_scores, top_idx = flat.topk(k, sorted=True)
    if score_thr is not None:
        keep = top_scores >= score_thr
        top_scores, top_idx = top_scores[keep], top_idx[keep]
    return top_idx // num_classes, top_idx % num_classes, top_scores


def masks_to_frames(mask_logits: torch.Tensor,
                    batch_input_shape: Sequence[int],
                    img_shape: Sequence[int],
                    ori_shape: Optional[Sequence[int]] = None,
                    mask_thr: float = 0.,
                    frame_chunk: int = 8) -> torch.Tensor:
    """Upsample mask logits to frame pixels and binarise them.

    Same steps as mmdet / detectron2 VideoMask2Former: bilinear to the
    padded input size, crop the padding, bilinear to the original size,
    threshold the *logits*. Frames are processed ``frame_chunk`` at a time
    (exact: interpolation is per frame), so the float buffer stays small.

    Args:
        mask_logits (Tensor): (K, T, h, w).
        batch_input_shape (tuple): padded input (H_pad, W_pad).
        img_shape (tuple): resized image (H_img, W_img) inside the padding.
        ori_shape (tuple, optional): original (H, W); None keeps
            ``img_shape`` (``rescale=False``).
        mask_thr (float): logit threshold (0 = probability 0.5).
        frame_chunk (int): frames per interpolation call.

    Returns:
        Tensor: (K, T, H, W) bool on the logits' device.
    """
    num, frames = mask_logits.shape[:2]
    out_hw = tuple(ori_shape[:2]) if ori_shape is not None else tuple(
        img_shape[:2])
    out = torch.zeros(
        (num, frames) + out_hw, dtype=torch.bool, device=mask_logits.device)
    if num == 0:
        return out
    pad_hw = tuple(batch_input_shape[:2])
    for s in range(0, frames, max(1, frame_chunk)):
        chunk = mask_logits[:, s:s + frame_chunk].float()
        chunk = F.interpolate(
            chunk, size=pad_hw, mode='bilinear', align_corners=False)
        chunk = chunk[:, :, :img_shape[0], :img_shape[1]]
        if ori_shape is not None:
            chunk = F.interpolate(
                chunk, size=out_hw, mode='bilinear', align_corners=False)
        out[:, s:s + frame_chunk] = chunk > mask_thr
    return out


def pack_track_instances(masks: torch.Tensor, labels: torch.Tensor,
                         scores: torch.Tensor,
                         ids: torch.Tensor) -> List[InstanceData]:
    """Per-frame ``pred_track_instances`` as mmdet's VIS heads return them.

    Args:
        masks (Tensor): (K, T, H, W) bool.
        labels (Tensor): (K,) long.
        scores (Tensor): (K,) float, one score per track.
        ids (Tensor): (K,) long track ids.

    Returns:
        list[InstanceData]: T items with ``masks`` (K, H, W) bool,
        ``bboxes`` (K, 4) xyxy pixels, ``labels``, ``scores``,
        ``instances_id``.
    """
    results = []
    for t in range(masks.shape[1]):
        inst = InstanceData()
        inst.masks = masks[:, t]
        inst.bboxes = mask2bbox(masks[:, t])
        inst.labels = labels
        inst.scores = scores
        inst.instances_id = ids
        results.append(inst)
    return results


def window_spans(num_frames: int, window_size: int,
                 overlap: int) -> List[Tuple[int, int]]:
    """Start/end frames of the inference windows.

    Windows advance by ``window_size - overlap``; the last one is moved back
    to end at the last frame, so every window has ``window_size`` frames
    (when the video is that long) and the overlap with its predecessor is
    at least ``overlap``.

    Returns:
        list[tuple[int, int]]: half-open ``[start, end)`` spans.
    """
    if window_size < 1:
        raise ValueError(f'window_size must be >= 1, got {window_size}')
    if not 0 <= overlap < window_size:
        raise ValueError(f'window_overlap must be in [0, window_size), got '
                         f'{overlap} for window_size {window_size}')
    if num_frames <= window_size:
        return [(0, num_frames)]
    stride = window_size - overlap
    spans, start = [], 0
    while start + window_size < num_frames:
        spans.append((start, start + window_size))
        start += stride
    spans.append((num_frames - window_size, num_frames))
    return spans


def frame_owners(spans: Sequence[Tuple[int, int]]) -> List[int]:
    """For every frame, the window whose prediction is kept for it.

    A frame covered by two windows goes to the one where it is more
    central: the overlap is split at its midpoint.

    Returns:
        list[int]: window index per frame.
    """
    num_frames = spans[-1][1]
    owner = [0] * num_frames
    for i, (start, end) in enumerate(spans):
        first = start
        if i > 0:
            prev_end = spans[i - 1][1]
            first = start + (max(0, prev_end - start) + 1) // 2
        for t in range(first, end):
            owner[t] = i
    return owner


def soft_mask_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise soft IoU of two sets of mask logits.

    ``sum(p_a * p_b) / sum(p_a + p_b - p_a * p_b)`` with ``p = sigmoid``
    over all pixels of all frames (the video IoU of the YouTube-VIS
    metric, on probabilities).

    Args:
        a (Tensor): (N, T, h, w) logits.
        b (Tensor): (M, T, h, w) logits.

    Returns:
        Tensor: (N, M) in [0, 1].
    """
    pa = a.float().sigmoid().flatten(1)
    pb = b.float().sigmoid().flatten(1)
    inter = pa @ pb.t()
    union = pa.sum(1)[:, None] + pb.sum(1)[None, :] - inter
    return inter / union.clamp(min=1e-6)


def link_queries(prev_masks: torch.Tensor,
                 cur_masks: torch.Tensor,
                 prev_slots: torch.Tensor,
                 slot_bonus: float = 1e-3) -> torch.Tensor:
    """Match the queries of a new window to the current tracks.

    Hungarian matching maximising the soft IoU (:func:`soft_mask_iou`) of
    each track's masks and each new query's masks on the frames the two
    windows share. Ties (typically tracks empty on the shared frames) are
    broken towards the query slot that carried the track in the previous
    window (``slot_bonus`` is far below any real IoU difference).

    Args:
        prev_masks (Tensor): (Q, T_ov, h, w) logits of the tracks on the
            shared frames (row = track id).
        cur_masks (Tensor): (Q, T_ov, h, w) logits of the new window's
            queries on the same frames.
        prev_slots (Tensor): (Q,) query index that carried each track in
            the previous window.
        slot_bonus (float): tie-break bonus.

    Returns:
        Tensor: (Q,) long, ``track_of_query[q]`` = track id of query q.
    """
    iou = soft_mask_iou(prev_masks, cur_masks)
    bonus = torch.zeros_like(iou)
    bonus[torch.arange(len(prev_slots)), prev_slots.long()] = slot_bonus
    rows, cols = linear_sum_assignment((-(iou + bonus)).cpu().numpy())
    track_of_query = torch.empty(cur_masks.shape[0], dtype=torch.long)
    track_of_query[torch.as_tensor(cols)] = torch.as_tensor(rows)
    return track_of_query


def link_queries_by_embedding(prev_embeds: torch.Tensor,
                              cur_embeds: torch.Tensor) -> torch.Tensor:
    """Match the queries of a new window to the current tracks by their
    decoder embeddings (MinVIS).

    Hungarian matching maximising the cosine similarity of each track's
    query embedding in the previous window and each new query's embedding
    (the last decoder layer's output after its final norm, as
    :meth:`~vcl_mm.models.VideoCutLERTrackHead.decode_last` returns it).
    Needs no shared frames, so windows may be disjoint.

    Args:
        prev_embeds (Tensor): (Q, c) embeddings of the tracks (row = track
            id) in the previous window.
        cur_embeds (Tensor): (Q, c) embeddings of the new window's queries.

    Returns:
        Tensor: (Q,) long, ``track_of_query[q]`` = track id of query q.
    """
    prev = F.normalize(prev_embeds.float(), dim=-1)
    cur = F.normalize(cur_embeds.float(), dim=-1)
    sim = prev @ cur.t()
    rows, cols = linear_sum_assignment((-sim).cpu().numpy())
    track_of_query = torch.empty(cur_embeds.shape[0], dtype=torch.long)
    track_of_query[torch.as_tensor(cols)] = torch.as_tensor(rows)
    return track_of_query


#: how windowed inference links windows: ``test_cfg.linker`` values
LINKERS = ('mask_iou', 'query_embed')


def check_linker(linker: str) -> str:
    """``linker`` if it is one of :data:`LINKERS`, else a ValueError."""
    if linker not in LINKERS:
        raise ValueError(f'linker must be one of {LINKERS}, got {linker!r}')
    return linker


class FrameMaskStore:
    """Binary masks of every track in every frame, stored as COCO RLE.

    Windowed inference only knows which tracks are kept (top-k by score
    over the whole video) after the last window, so it must keep all
    ``Q`` tracks' masks until then. Compressed RLE costs bytes per mask
    instead of ``H * W``, which keeps the state small as the video grows;
    the (K, T, H, W) output is decoded at the end.

    Args:
        num_frames (int): T.
        num_tracks (int): Q.
        hw (tuple[int, int]): (H, W) of the stored masks.
    """

    def __init__(self, num_frames: int, num_tracks: int,
                 hw: Tuple[int, int]) -> None:
        self.hw = tuple(hw)
        self.num_tracks = num_tracks
        self._rles: List[Optional[list]] = [None] * num_frames

    def put(self, frame: int, masks: torch.Tensor) -> None:
        """Store frame ``frame``: ``masks`` (Q, H, W) bool, row = track."""
        arr = masks.cpu().numpy()
        nonempty = arr.reshape(len(arr), -1).any(1)
        rles = [None] * len(arr)
        idx = np.flatnonzero(nonempty)
        if len(idx):
            for i, rle in zip(idx, encode(arr[idx], str_counts=False)):
                rles[i] = rle
        self._rles[frame] = rles

    def nbytes(self) -> int:
        """Bytes held by the RLE strings (for benchmarks)."""
        return sum(
            len(r['counts']) for rles in self._rles if rles for r in rles
            if r is not None)

    def frame(self, t: int, tracks: Sequence[int]) -> np.ndarray:
        """Decode frame ``t`` of ``tracks``: (K, H, W) bool."""
        rles = self._rles[t]
        if rles is None:
            raise RuntimeError(f'frame {t} was never stored')
        out = np.zeros((len(tracks), ) + self.hw, bool)
        for k, track in enumerate(tracks):
            rle = rles[int(track)]
            if rle is not None:
                out[k] = decode(rle)
        return out

    def gather(self, tracks: Sequence[int]) -> torch.Tensor:
        """Decode the masks of ``tracks``: (K, T, H, W) bool."""
        return torch.from_numpy(
            np.stack([self.frame(t, tracks) for t in range(len(self._rles))],
                     axis=1))
