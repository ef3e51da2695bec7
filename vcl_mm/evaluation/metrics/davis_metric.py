"""DAVIS 2017 unsupervised metric (J, F, J&F) for video predictions."""
import json
import os
import os.path as osp
from typing import Optional

import numpy as np
from mmengine.logging import MMLogger

from mmdet.evaluation.metrics.base_video_metric import BaseVideoMetric
from vcl_mm.registry import METRICS
from vcl_mm.datasets.api_wrappers.davis_format import read_label_png
from vcl_mm.utils import InputError
from ..functional.davis_eval import (MAX_PROPOSALS, MEASURES, DAVISSummary,
                                     SequenceEvaluator, format_davis_table)
from ..track_results import paint_proposals, rank_tracks, write_davis_png

__all__ = ['DAVISMetric']


def _np(x):
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


@METRICS.register_module()
class DAVISMetric(BaseVideoMetric):
    """DAVIS unsupervised J / F / J&F of video instance predictions.

    Subclasses mmdet's ``BaseVideoMetric`` for its video grouping and
    distributed collection; mmdet has no DAVIS metric. Per video, the
    tracks (one per ``instances_id``, score = mean over frames) are ranked
    by score, at most ``max_proposals`` are kept and painted into one
    label map per frame in ascending score order (better tracks win
    overlaps), then scored against the ground-truth PNG frame by frame
    (read from the ``seg_map_path`` meta, full resolution, 255 = void).

    Args:
        max_proposals (int): proposals painted per sequence (protocol: 20).
        bound_th (float): boundary tolerance (fraction of the diagonal).
        outfile_dir (str, optional): also write the painted proposals as
            ``<outfile_dir>/<seq>/<frame>.png`` (palette) and the summary
            as ``<outfile_dir>/davis_summary.json``.
        format_only (bool): only write the PNGs (needs ``outfile_dir``).
        collect_device (str): 'cpu' or 'gpu'.
        prefix (str, optional): metric name prefix, default 'davis'.
    """
    default_prefix: Optional[str] = 'davis'

    def __init__(self,
                 max_proposals: int = MAX_PROPOSALS,
                 bound_th: float = 0.008,
                 outfile_dir: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and not outfile_dir:
            raise InputError('DAVISMetric: format_only=True needs '
                             'outfile_dir (where to write the PNGs)')
        self.max_proposals = max_proposals
        self.bound_th = bound_th
        self.outfile_dir = outfile_dir
        self.format_only = format_only

    def process_image(self, data_samples, ori_video_len):
        raise InputError('DAVISMetric needs whole videos per sample; got '
                         'frame-level test samples')

    def process_video(self, data_samples):
        """Paint the best tracks of one sequence and score every frame."""
        metas = [ds.metainfo for ds in data_samples]
        gt_paths = [m.get('seg_map_path') for m in metas]
        if not self.format_only and any(p is None for p in gt_paths):
            raise InputError(
                'DAVISMetric needs the ground-truth path of every frame: '
                "add meta_keys=('seg_map_path', ) to PackTrackInputs and use "
                'vcl_mm DAVISDataset')
        ref = gt_paths[0] or metas[0]['img_path']
        seq = osp.basename(osp.dirname(ref))
        preds = [ds.pred_track_instances for ds in data_samples]
        scores = {}
        for p in preds:
            for iid, s in zip(
                    _np(p.instances_id).tolist(),
                    _np(p.scores).tolist()):
                scores.setdefault(iid, []).append(s)
        track_ids = list(scores)
        order = rank_tracks([np.mean(scores[i]) for i in track_ids],
                            self.max_proposals)
        proposal_of = {track_ids[k]: n + 1 for n, k in enumerate(order)}
        ev = SequenceEvaluator(
            seq, max_proposals=self.max_proposals, bound_th=self.bound_th)
        for meta, pred, gt_path in zip(metas, preds, gt_paths):
            frame = osp.splitext(osp.basename(gt_path or meta['img_path']))[0]
            ids = _np(pred.instances_id).tolist()
            rows = [r for r, iid in enumerate(ids) if iid in proposal_of]
            masks = _np(pred.masks)
            label = paint_proposals(
                masks[rows], [proposal_of[ids[r]] for r in rows],
                shape=tuple(meta['ori_shape'][:2]))
            if self.outfile_dir:
                write_davis_png(
                    osp.join(self.outfile_dir, seq, f'{frame}.png'), label)
            if not self.format_only:
                ev.add_frame(read_label_png(gt_path), label, frame)
        result = None if self.format_only else ev.result()
        self.results.append(
            dict(video_id=metas[0].get('video_id', seq), result=result))

    def compute_metrics(self, results):
        """Global J&F table over the sequences, in dataset order."""
        if self.format_only:
            return {}
        logger = MMLogger.get_current_instance()
        by_video = {}
        for r in results:
            by_video.setdefault(r['video_id'], r)
        summary = DAVISSummary()
        for vid in sorted(by_video):
            summary.add(by_video[vid]['result'])
        out = summary.summary()
        logger.info(f'DAVIS unsupervised ({len(by_video)} sequences):\n' +
                    format_davis_table(out))
        if self.outfile_dir:
            os.makedirs(self.outfile_dir, exist_ok=True)
            with open(osp.join(self.outfile_dir, 'davis_summary.json'),
                      'w') as f:
                json.dump(out, f, indent=1)
        return {k: out[k] for k in MEASURES}
