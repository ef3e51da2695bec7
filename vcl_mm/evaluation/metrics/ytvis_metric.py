"""YouTube-VIS metric (class-agnostic by default) for video predictions."""
from typing import Optional

from mmengine.logging import MMLogger

from mmdet.evaluation.metrics.base_video_metric import BaseVideoMetric
from vcl_mm.registry import METRICS
from vcl_mm.datasets.api_wrappers.masks import (mean_area, segs_to_rles,
                                                track_areas)
from vcl_mm.utils import InputError
from ..functional.fast_ytviseval import STAT_NAMES, FastYTVISeval
from ..functional.ytvis_eval import format_stats
from ..track_results import (encode_masks, group_tracks, tracks_to_ytvis,
                             write_ytvis_results)

__all__ = ['ClassAgnosticYTVISMetric', 'gt_tracks_from_instances']


def gt_tracks_from_instances(video_id, frame_instances, height, width):
    """Ground-truth tracks of a video from per-frame dataset instances.

    Args:
        video_id (int): the video.
        frame_instances (list[list[dict]]): per frame the ``instances`` of
            the data info (``mask`` RLE/polygon at the original size,
            ``bbox_label``, ``instance_id``, ``ignore_flag``, optional
            ``area`` = the official per-frame area).
        height, width (int): original frame size.

    Returns:
        list[dict]: one official-style annotation per track (``id``,
        ``video_id``, ``category_id`` = label + 1, ``iscrowd``,
        ``segmentations`` as RLEs, ``mask_areas``, ``avg_area``: the mean
        of the given per-frame areas, the mask area where none is given),
        ordered by instance id (= annotation order for
        :class:`vcl_mm.datasets.YTVISDataset`).
    """
    T = len(frame_instances)
    tracks = {}
    for t, instances in enumerate(frame_instances):
        for inst in instances or ():
            iid = inst['instance_id']
            tr = tracks.setdefault(
                iid,
                dict(
                    segs=[None] * T,
                    areas=[None] * T,
                    label=int(inst['bbox_label']),
                    crowd=bool(inst.get('ignore_flag', 0))))
            if inst.get('mask') is None:
                raise InputError(f'video {video_id}, frame {t}: ground-truth '
                                 f'instance {iid} has no mask')
            tr['segs'][t] = inst['mask']
            tr['areas'][t] = inst.get('area')
    out = []
    for iid in sorted(tracks):
        tr = tracks[iid]
        rles = segs_to_rles(tr['segs'], height, width,
                            f'video {video_id}, ground-truth instance {iid}')
        masks = track_areas([rles])[0]
        areas = [
            a if a is not None or r is None else float(m)
            for a, r, m in zip(tr['areas'], rles, masks.tolist())
        ]
        out.append(
            dict(
                id=iid,
                video_id=video_id,
                category_id=tr['label'] + 1,
                iscrowd=int(tr['crowd']),
                segmentations=rles,
                mask_areas=masks,
                avg_area=mean_area(areas)))
    return out


@METRICS.register_module()
class ClassAgnosticYTVISMetric(BaseVideoMetric):
    """YouTube-VIS AP/AR, class-agnostic (``useCats=0``) or class-aware.

    Subclasses mmdet's ``BaseVideoMetric`` (video grouping, distributed
    collection) rather than ``YouTubeVISMetric``, which runs the same
    ``YTVISeval`` but without a class-agnostic mode, on numpy < 1.24 only,
    with S/M/L areas from boxes, after collecting every video. Here
    :class:`FastYTVISeval` (mmdet's evaluator, fast video IoU) matches each
    video as soon as it is processed, so only small per-video records (and,
    when exporting, the RLEs) are kept.

    Consumes ``Mask2FormerVideo`` outputs: per frame ``pred_track_instances``
    with ``masks`` (N, H, W) bool at the original size, ``scores``,
    ``labels`` and ``instances_id``; ground truth from the frames'
    ``instances`` meta (as packed by ``PackTrackInputs``).

    Args:
        class_agnostic (bool): ignore categories (VideoCutLER protocol).
        outfile_prefix (str, optional): also write ``<prefix>.json`` (the
            official ``results.json``) and ``<prefix>.submission_file.zip``.
        format_only (bool): only write the results (needs
            ``outfile_prefix``), no evaluation.
        collect_device (str): 'cpu' or 'gpu'.
        prefix (str, optional): metric name prefix, default 'youtube_vis'.
    """
    default_prefix: Optional[str] = 'youtube_vis'

    def __init__(self,
                 class_agnostic: bool = True,
                 outfile_prefix: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and not outfile_prefix:
            raise InputError('ClassAgnosticYTVISMetric: format_only=True '
                             'needs outfile_prefix (where to write results)')
        self.class_agnostic = class_agnostic
        self.outfile_prefix = outfile_prefix
        self.format_only = format_only

    @property
    def cat_ids(self):
        """Category ids 1..C of the dataset classes."""
        classes = (self.dataset_meta or {}).get('classes') or ('object', )
        return list(range(1, len(classes) + 1))

    def _evaluator(self):
        """The official evaluator (fast video IoU) for this metric's mode
        and the dataset's categories."""
        ev = FastYTVISeval(use_cats=not self.class_agnostic)
        ev.params.catIds = self.cat_ids
        return ev

    def process_image(self, data_samples, ori_video_len):
        raise InputError('ClassAgnosticYTVISMetric needs whole videos per '
                         'sample; got frame-level test samples')

    def process_video(self, data_samples):
        """Encode, group and match the predictions of one video."""
        meta0 = data_samples[0].metainfo
        video_id = meta0['video_id']
        height, width = meta0['ori_shape'][:2]
        frames, gt_instances = [], []
        for t, ds in enumerate(data_samples):
            pred = ds.pred_track_instances
            masks = pred.masks
            if len(masks) and tuple(masks.shape[-2:]) != (height, width):
                raise InputError(
                    f'video {video_id}, frame {t}: predicted masks of size '
                    f'{tuple(masks.shape[-2:])}, the video is '
                    f'{(height, width)} (predict with rescale=True)')
            frames.append(
                dict(
                    rles=encode_masks(masks),
                    scores=pred.scores,
                    labels=pred.labels,
                    instances_id=pred.instances_id))
            gt_instances.append(ds.metainfo.get('instances', []))
        tracks = group_tracks(frames)
        cats = self.cat_ids
        for tr in tracks:
            if tr['label'] + 1 not in cats:
                raise InputError(
                    f'video {video_id}: predicted label {tr["label"]} has no '
                    f'class in the dataset ({len(cats)} classes)')
        record = None
        if not self.format_only:
            areas = track_areas([tr['rles'] for tr in tracks])
            dts = [
                dict(
                    id=k + 1,
                    video_id=video_id,
                    category_id=tr['label'] + 1,
                    iscrowd=0,
                    score=tr['score'],
                    segmentations=tr['rles'],
                    mask_areas=a,
                    avg_area=mean_area(a.tolist()))
                for k, (tr, a) in enumerate(zip(tracks, areas))
            ]
            gts = gt_tracks_from_instances(video_id, gt_instances, height,
                                           width)
            record = self._evaluator().evaluate_video(video_id, gts, dts)
        entries = (
            tracks_to_ytvis(video_id, tracks) if self.outfile_prefix else None)
        self.results.append(
            dict(video_id=video_id, record=record, entries=entries))

    def compute_metrics(self, results):
        """Accumulate the per-video records into the 12 statistics."""
        logger = MMLogger.get_current_instance()
        by_video = {}
        for r in results:
            by_video.setdefault(r['video_id'], r)
        ordered = [by_video[v] for v in sorted(by_video)]
        if self.outfile_prefix:
            entries = [e for r in ordered for e in r['entries']]
            json_path, zip_path = write_ytvis_results(entries,
                                                      self.outfile_prefix)
            logger.info(f'YouTube-VIS results written to {json_path} and '
                        f'{zip_path}')
        if self.format_only:
            return {}
        stats = self._evaluator().accumulate_videos(
            {r['video_id']: r['record']
             for r in ordered})
        mode = 'class-agnostic' if self.class_agnostic else 'class-aware'
        logger.info(f'YouTube-VIS ({mode}, {len(ordered)} videos):\n' +
                    format_stats(stats))
        return {k: stats[k] for k in STAT_NAMES}
