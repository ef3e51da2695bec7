"""Pseudo-labels from the model's own tracks (self-training).

A video is tracked whole (:func:`vcl_mm.apis.inference.track_video`); its
tracks are measured frame by frame (:class:`TrackStats`, one decoded frame
in memory at a time), a quality filter keeps the good ones
(:func:`select_tracks`), and the kept tracks become ground-truth-layout
YouTube-VIS annotations (:func:`build_pseudo_json`) that
:class:`vcl_mm.datasets.YTVISDataset` reads for training.
"""
import numpy as np

from vcl_mm.datasets.api_wrappers.masks import encode, rle_areas, rle_boxes
from vcl_mm.evaluation.track_results import tracks_to_ytvis
from vcl_mm.utils import InputError

__all__ = [
    'FILTER_KEYS', 'TrackStats', 'select_tracks', 'pseudo_label_video',
    'build_pseudo_json'
]

#: the quality filter's settings (``self_training.filter`` in a config)
FILTER_KEYS = ('score_thr', 'min_area', 'min_frames', 'min_temporal_iou',
               'max_overlap', 'max_tracks')


class TrackStats:
    """What the quality filter needs about K tracks of one video.

    Feed the frames in order with :meth:`put`; masks smaller than
    ``min_area`` pixels count as absent in that frame.

    Args:
        num_tracks (int): K.
        min_area (int): pixels.

    Attributes:
        areas (list[np.ndarray]): per frame (K,) int64 areas (0: absent).
        rles (list[list]): per track, one compressed RLE (str counts) or
            None per frame.
        inter, union (np.ndarray): (K, K) float64 pixel counts summed over
            frames (track-to-track overlap).
        pair_iou (list[list[float]]): per track, the mask IoU of each pair
            of consecutive frames where it is present in both.
    """

    def __init__(self, num_tracks, min_area=0):
        self.num_tracks = num_tracks
        self.min_area = min_area
        self.areas = []
        self.rles = [[] for _ in range(num_tracks)]
        self.inter = np.zeros((num_tracks, num_tracks))
        self.union = np.zeros((num_tracks, num_tracks))
        self.pair_iou = [[] for _ in range(num_tracks)]
        self._prev = None

    def put(self, masks):
        """Add the next frame: ``masks`` (K, H, W) bool."""
        masks = np.asarray(masks, bool)
        if len(masks) != self.num_tracks:
            raise ValueError(f'expected {self.num_tracks} masks, got '
                             f'{len(masks)}')
        flat = masks.reshape(len(masks), -1)
        area = flat.sum(1)
        present = area >= max(self.min_area, 1)
        flat = flat & present[:, None]
        area = np.where(present, area, 0)
        f32 = flat.astype(np.float32)
        inter = f32 @ f32.T
        self.inter += inter
        self.union += area[:, None] + area[None, :] - inter
        if self._prev is not None:
            prev, prev_area = self._prev
            both = present & (prev_area > 0)
            for k in np.flatnonzero(both):
                i = np.count_nonzero(flat[k] & prev[k])
                self.pair_iou[k].append(i / (area[k] + prev_area[k] - i))
        self._prev = (flat, area)
        self.areas.append(area.astype(np.int64))
        rles = encode(masks & present[:, None, None]) if present.any() \
            else []
        for k in range(self.num_tracks):
            self.rles[k].append(rles[k] if present[k] else None)

    def frames_present(self):
        """(K,) int: frames with a mask."""
        if not self.areas:
            return np.zeros(self.num_tracks, int)
        return (np.stack(self.areas) > 0).sum(0)

    def temporal_iou(self):
        """(K,) float: mean IoU of consecutive frames' masks (0 for a
        track never present in two consecutive frames)."""
        return np.array([float(np.mean(p)) if p else 0.
                         for p in self.pair_iou])

    def overlap(self):
        """(K, K) float: video mask IoU between tracks."""
        return np.divide(self.inter, self.union,
                         out=np.zeros_like(self.inter),
                         where=self.union > 0)


def select_tracks(scores, stats, filter_cfg):
    """Keep the tracks that pass the quality filter, best score first.

    Rules, in this order: ``score >= score_thr``; present (mask of at least
    ``min_area`` px) in ``>= min_frames`` frames; mean IoU of consecutive
    frames' masks ``>= min_temporal_iou``; video mask IoU with an already
    kept (better) track ``<= max_overlap``; at most ``max_tracks``.

    Args:
        scores (Sequence[float]): (K,) track scores.
        stats (TrackStats): the K tracks measured.
        filter_cfg (dict): the settings of :data:`FILTER_KEYS`.

    Returns:
        tuple: kept track indices (list, by descending score) and a dict
        ``reason -> number of tracks dropped for it``.
    """
    unknown = set(filter_cfg) - set(FILTER_KEYS)
    missing = set(FILTER_KEYS) - set(filter_cfg)
    if unknown or missing:
        raise InputError(
            f'self_training.filter: unknown keys {sorted(unknown)}, missing '
            f'{sorted(missing)} (expected {", ".join(FILTER_KEYS)})')
    scores = np.asarray(scores, np.float64)
    frames = stats.frames_present()
    tiou = stats.temporal_iou()
    overlap = stats.overlap()
    kept, dropped = [], {}
    for k in np.argsort(-scores, kind='stable'):
        if scores[k] < filter_cfg['score_thr']:
            reason = 'score'
        elif frames[k] < filter_cfg['min_frames']:
            reason = 'frames'
        elif tiou[k] < filter_cfg['min_temporal_iou']:
            reason = 'temporal_iou'
        elif kept and overlap[k, kept].max() > filter_cfg['max_overlap']:
            reason = 'overlap'
        elif len(kept) >= filter_cfg['max_tracks']:
            reason = 'max_tracks'
        else:
            kept.append(int(k))
            continue
        dropped[reason] = dropped.get(reason, 0) + 1
    return kept, dropped


def pseudo_label_video(model, source, tracker_cfg, filter_cfg):
    """Track a video and keep its good tracks.

    Args:
        model (VideoCutLER): in eval mode.
        source (VideoSource): the video (>= 2 frames).
        tracker_cfg (dict): ``window_size``, ``window_overlap``,
            ``short_side`` of :func:`~vcl_mm.apis.inference.track_video`.
        filter_cfg (dict): see :func:`select_tracks`.

    Returns:
        dict: ``tracks`` (kept, best first: ``score`` and ``rles``, one
        compressed RLE or None per frame, at the video's size), ``scores``
        (all K tracks' scores), ``dropped`` (reason -> count).
    """
    from .inference import track_video
    store, rows, _, scores = track_video(model, source, **tracker_cfg)
    rows = rows.tolist()
    stats = TrackStats(len(rows), filter_cfg['min_area'])
    for t in range(len(source)):
        stats.put(store.frame(t, rows))
    scores = scores.cpu().numpy().astype(np.float64)
    kept, dropped = select_tracks(scores, stats, filter_cfg)
    tracks = [dict(score=float(scores[k]), rles=stats.rles[k]) for k in kept]
    return dict(tracks=tracks, scores=scores.tolist(), dropped=dropped)


def build_pseudo_json(videos, info=None):
    """The pseudo-labels of many videos as a YouTube-VIS ground truth.

    Args:
        videos (list[dict]): per video ``file_names`` (frame paths relative
            to the frames folder), ``height``, ``width``, ``tracks`` (from
            :func:`pseudo_label_video`) and optionally ``name``.
        info (dict, optional): stored as the JSON's ``info``.

    Returns:
        dict: ``videos`` (``id``, ``name``, ``file_names``, ``height``,
        ``width``, ``length``), ``annotations`` (``id``, ``video_id``,
        ``category_id`` 1, ``iscrowd`` 0, ``score``, ``segmentations``,
        ``areas``, ``bboxes``: None where absent), ``categories``
        (``object``), ``info``. Videos without tracks are left out.
    """
    out = dict(info=dict(info or {}), videos=[], annotations=[],
               categories=[dict(id=1, name='object', supercategory='')])
    for video in videos:
        if not video['tracks']:
            continue
        vid = len(out['videos']) + 1
        num_frames = len(video['file_names'])
        out['videos'].append(
            dict(id=vid, name=video.get('name', str(vid)),
                 file_names=list(video['file_names']),
                 height=int(video['height']), width=int(video['width']),
                 length=num_frames))
        tracks = [dict(tr, label=0) for tr in video['tracks']]
        for entry in tracks_to_ytvis(vid, tracks):
            segs = entry['segmentations']
            if len(segs) != num_frames:
                raise ValueError(f'video {video.get("name")}: a track has '
                                 f'{len(segs)} frames, the video '
                                 f'{num_frames}')
            idx = [t for t, s in enumerate(segs) if s is not None]
            areas, boxes = [None] * num_frames, [None] * num_frames
            present = [segs[t] for t in idx]
            for t, a, b in zip(idx, rle_areas(present).tolist(),
                               rle_boxes(present).tolist()):
                areas[t], boxes[t] = float(a), b
            out['annotations'].append(
                dict(id=len(out['annotations']) + 1, iscrowd=0,
                     height=int(video['height']), width=int(video['width']),
                     length=num_frames, areas=areas, bboxes=boxes,
                     **entry))
    return out
