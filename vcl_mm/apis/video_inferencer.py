"""VideoInferencer: segment and track every object of a video from Python.

The video counterpart of mmdet's ``DetInferencer``: built once from a
config (a file, or a package config name such as
``'vcl_mm::videocutler/eval_ytvis2019_train.py'``) and a checkpoint, then
called on a video file or a folder of frames::

    from vcl_mm.apis import VideoInferencer
    inferencer = VideoInferencer(CONFIG, CKPT, device='cpu')
    result = inferencer('video.mp4', out_dir='demo/')
    for track in result['tracks']:
        print(track['id'], track['score'])

It is not a subclass of mmengine's ``BaseInferencer``: that one runs the
dataset pipeline on whole inputs and batches them, while a video here
streams through the windowed tracker (:func:`~vcl_mm.apis.inference.\
track_video`) so memory stays bounded however long the video is; the
frames get exactly the test pipeline's tensors all the same.
"""
import json
import os
import os.path as osp
import time

import numpy as np

from vcl_mm.utils import InputError
from vcl_mm.visualization.track_overlay import DEFAULT_PRED_SCORE_THR

#: benchmarks/linking_bench.py: both linkers tie exactly on long generated
#: videos (benchmarks/results/linking_bench.md), so the default stays mask IoU
DEFAULT_LINKER = 'mask_iou'
#: frames per forward pass and frames shared by consecutive windows: the
#: memory bound of streaming inference (the official demo runs the whole
#: video at once)
DEFAULT_WINDOW = 30
DEFAULT_OVERLAP = 4

#: how :func:`check_options` names each option in its messages (the demo
#: passes its flag names)
OPTION_NAMES = dict(window_size='window_size',
                    window_overlap='window_overlap',
                    short_side='short_side',
                    pred_score_thr='pred_score_thr',
                    score_thr='score_thr',
                    topk='topk')


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, bool)


def check_options(window_size=None, window_overlap=None, short_side=None,
                  pred_score_thr=None, score_thr=None, topk=None,
                  names=None):
    """Refuse nonsensical numeric options before any work is done.

    None means "not given" and is not checked.

    Args:
        window_size (int): frames per forward pass, >= 2.
        window_overlap (int): in ``[0, window_size)``.
        short_side (int): test resolution, >= 1 (its upper bound, the
            config's long-side cap, is checked with the config).
        pred_score_thr (float): drawing threshold, in [0, 1].
        score_thr (float): the model's score threshold, in [0, 1].
        topk (int): tracks kept, >= 1.
        names (dict, optional): the name to use for each option in
            messages (e.g. ``{'window_size': '--window'}``).

    Raises:
        InputError: naming the option, its value and the valid range.
    """
    names = {**OPTION_NAMES, **(names or {})}

    def bad(key, value, what):
        raise InputError(f'{names[key]} must be {what}, got {value!r}')

    if window_size is not None and not (_is_int(window_size)
                                        and window_size >= 2):
        bad('window_size', window_size,
            'an integer >= 2 (frames per forward pass)')
    if window_overlap is not None:
        if not (_is_int(window_overlap) and window_overlap >= 0):
            bad('window_overlap', window_overlap,
                'an integer >= 0 (frames shared by consecutive windows)')
        if window_size is not None and window_overlap >= window_size:
            bad('window_overlap', window_overlap,
                f'smaller than {names["window_size"]} ({window_size}), so '
                'that windows advance')
    if short_side is not None and not (_is_int(short_side)
                                       and short_side >= 1):
        bad('short_side', short_side,
            'a positive integer (short side of the frames in pixels)')
    for key, value in (('pred_score_thr', pred_score_thr),
                       ('score_thr', score_thr)):
        if value is not None and not (
                isinstance(value, (float, int, np.floating))
                and not isinstance(value, bool) and 0 <= value <= 1):
            bad(key, value, 'a score in [0, 1]')
    if topk is not None and not (_is_int(topk) and topk >= 1):
        bad('topk', topk, 'an integer >= 1 (tracks kept)')


def resolve_device(device=None, name='device'):
    """``'cpu'``, ``'cuda'`` or ``'cuda:N'``, checked against this machine.

    Args:
        device (str, optional): None picks CUDA where available, else CPU.
        name (str): how messages name the option.

    Returns:
        str: the device.
    """
    import torch
    if device is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    kind, _, index = str(device).partition(':')
    if kind == 'cpu' and not index:
        return 'cpu'
    if kind != 'cuda' or (index and not index.isdigit()):
        raise InputError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got "
                         f'{device!r}')
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if int(index or 0) >= count:
        raise InputError(f'{name} {device} is not available on this machine '
                         f'({count} CUDA device(s)); pass {name} cpu')
    return device


class OverlayWriter:
    """An H.264 mp4 written frame by frame (imageio-ffmpeg's ffmpeg)."""

    def __init__(self, path, width, height, fps):
        import imageio_ffmpeg
        # even sizes for yuv420p
        self.size = (width - width % 2, height - height % 2)
        self._gen = imageio_ffmpeg.write_frames(
            path, self.size, fps=fps, codec='libx264', pix_fmt_out='yuv420p',
            macro_block_size=2, ffmpeg_log_level='error')
        self._gen.send(None)

    def write(self, frame):
        self._gen.send(
            np.ascontiguousarray(frame[:self.size[1], :self.size[0]]))

    def close(self):
        self._gen.close()


def draw_frame(visualizer, frame, masks, ids, scores, pred_score_thr):
    """One frame's tracks through the visualizer's ``add_datasample`` (the
    path of the test hook and the dataset browser).

    Args:
        visualizer (TrackOverlayVisualizer): draws the frame.
        frame (np.ndarray): (H, W, 3) uint8 RGB.
        masks (np.ndarray): (K, H, W) bool.
        ids (list[int]): track id of each mask.
        scores (list[float]): score of each track.
        pred_score_thr (float): tracks scoring above it are drawn.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    sample = DetDataSample(pred_track_instances=InstanceData(
        masks=torch.from_numpy(np.ascontiguousarray(masks)),
        instances_id=torch.tensor(ids, dtype=torch.long).reshape(-1),
        scores=torch.tensor(scores, dtype=torch.float64).reshape(-1)))
    visualizer.add_datasample('frame', frame, sample, draw_gt=False,
                              pred_score_thr=pred_score_thr)
    return visualizer.get_image()


class VideoInferencer:
    """Segment and track every object of a video (class-agnostic).

    Args:
        model (str | mmengine.Config): config file, package config name
            (``'vcl_mm::...'``, resolved by mmengine) or config of a
            ``VideoCutLER`` model.
        weights (str): checkpoint file (loaded strictly: a checkpoint of
            another model is refused, naming the keys).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:N'``; None:
            CUDA where available.
        cfg_options (dict, optional): config overrides (e.g.
            ``{'model.test_cfg.topk': 5}``).
        show_progress (bool): progress bars while tracking and writing.
    """

    def __init__(self, model, weights, device=None, cfg_options=None,
                 show_progress=True):
        from vcl_mm.apis.inference import init_video_model
        self.device = resolve_device(device)
        self.model, self.cfg = init_video_model(model, weights, self.device,
                                                cfg_options)
        self.show_progress = show_progress

    def __call__(self,
                 inputs,
                 out_dir='',
                 pred_score_thr=DEFAULT_PRED_SCORE_THR,
                 window_size=DEFAULT_WINDOW,
                 window_overlap=None,
                 short_side=None,
                 linker=DEFAULT_LINKER,
                 no_save_vis=False,
                 no_save_pred=False):
        """Track every object of one video.

        Args:
            inputs (str): a video file (mp4/avi/mov/mkv/webm) or a folder
                of frames.
            out_dir (str): where to write; '' writes nothing. Under it:
                ``overlay.mp4`` (tracks scoring above ``pred_score_thr``,
                drawn by :class:`~vcl_mm.visualization.\
TrackOverlayVisualizer`: one colour per track id, labels sized to the
                frame),
                ``masks/<frame>.png`` (DAVIS-style indexed PNGs of every
                track, id k = k-th best, better tracks win overlaps) and
                ``tracks.json`` (the returned dict).
            pred_score_thr (float): only tracks scoring above it are drawn
                (mmdet's visualizers' rule and default, 0.3); the others are
                still returned and written to the masks.
            window_size (int): frames per forward pass (memory bound).
            window_overlap (int, optional): frames shared by consecutive
                windows; None: :data:`DEFAULT_OVERLAP`, at most
                ``window_size - 1``.
            short_side (int, optional): test resolution; None: the
                config's test pipeline.
            linker (str): ``'mask_iou'`` or ``'query_embed'``.
            no_save_vis (bool): do not write the overlay.
            no_save_pred (bool): do not write masks and ``tracks.json``.

        Returns:
            dict: ``input``, ``num_frames``, ``frame_names``, ``height``,
            ``width``, ``tracks`` (best first: ``id`` 1..K, ``score``,
            ``segmentations``: one COCO RLE per frame, None where the track
            is absent), ``drawn`` (ids of the tracks in the overlay) and
            ``infer_seconds``.
        """
        from tqdm import tqdm

        from vcl_mm.apis import inference
        from vcl_mm.apis.video_io import VideoSource
        from vcl_mm.evaluation.track_results import (encode_masks,
                                                     paint_proposals,
                                                     write_davis_png)
        from vcl_mm.utils import require_writable
        from vcl_mm.visualization import TrackOverlayVisualizer
        check_options(window_size, window_overlap, short_side,
                      pred_score_thr)
        if window_overlap is None:
            window_overlap = min(DEFAULT_OVERLAP, window_size - 1)
        save_vis = bool(out_dir) and not no_save_vis
        save_pred = bool(out_dir) and not no_save_pred
        if out_dir:
            require_writable(osp.join(out_dir, 'tracks.json'), 'output',
                             'pass another out_dir')
        # fail on a bad short side before decoding anything
        inference.resize_from_test_pipeline(self.cfg, short_side)
        source = VideoSource(inputs)
        start = time.time()
        # looked up on the module so that the tracker can be wrapped
        store, rows, _, scores = inference.track_video(
            self.model, source, window_size, window_overlap, short_side,
            linker=linker, cfg=self.cfg, progress=self.show_progress)
        infer_s = time.time() - start
        rows = [int(r) for r in rows]
        scores = [float(s) for s in scores]
        # ids 1..K by descending score (the selection is already sorted)
        order = np.argsort(-np.asarray(scores), kind='stable')
        rows = [rows[k] for k in order]
        scores = [scores[k] for k in order]
        ids = list(range(1, len(rows) + 1))
        drawn = [i for i, s in zip(ids, scores) if s > pred_score_thr]

        if save_pred:
            os.makedirs(osp.join(out_dir, 'masks'), exist_ok=True)
        writer = OverlayWriter(osp.join(out_dir, 'overlay.mp4'),
                               source.width, source.height,
                               source.fps) if save_vis else None
        visualizer = TrackOverlayVisualizer(
            name='video_inferencer') if save_vis else None
        segmentations = [[] for _ in ids]
        source_again = VideoSource(inputs)  # second, sequential pass
        shape = (source.height, source.width)
        try:
            for t in tqdm(range(len(source)), desc='writing', unit='frame',
                          disable=not self.show_progress):
                masks = store.frame(t, rows) if rows else np.zeros(
                    (0, ) + shape, bool)
                if save_pred:
                    write_davis_png(
                        osp.join(out_dir, 'masks',
                                 f'{source.frame_names[t]}.png'),
                        paint_proposals(masks, ids[:255], shape))
                if writer is not None:
                    frame = source_again.read(t, t + 1)[0]
                    writer.write(
                        draw_frame(visualizer, frame, masks, ids, scores,
                                   pred_score_thr))
                for k, rle in enumerate(encode_masks(masks)):
                    segmentations[k].append(rle if masks[k].any() else None)
        finally:
            if writer is not None:
                writer.close()
            source.close()
            source_again.close()
        result = dict(
            input=inputs,
            num_frames=len(source),
            frame_names=source.frame_names,
            height=source.height,
            width=source.width,
            tracks=[
                dict(id=i, score=s, segmentations=seg)
                for i, s, seg in zip(ids, scores, segmentations)
            ])
        if save_pred:
            with open(osp.join(out_dir, 'tracks.json'), 'w') as f:
                json.dump(result, f)
        result.update(drawn=drawn, infer_seconds=infer_s)
        return result
