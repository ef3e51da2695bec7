"""Segment and track every object of a video with a VideoCutLER model.

Example::

    python tools/demo/video_demo.py demo.mp4 CONFIG CKPT --out demo_out
    python tools/demo/video_demo.py frames_dir/ CONFIG CKPT --out out \
        --window 20 --score-thr 0.3 --device cuda

INPUT is a video file (mp4/avi/mov/mkv/webm) or a folder of frames. Writes to
``--out``: ``overlay.mp4`` (each track in its own colour with id and score),
``masks/<frame>.png`` (DAVIS-style indexed PNGs, id k = k-th best track,
better tracks win overlaps), ``tracks.json`` (per track: id, score, one
compressed RLE or null per frame), and prints a summary. Long videos run in
bounded memory (windowed inference, frames decoded window by window).
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
from tqdm import tqdm

#: benchmarks/linking_bench.py: both linkers tie exactly on long generated
#: videos (benchmarks/results/linking_bench.md), so the default stays mask IoU
DEFAULT_LINKER = 'mask_iou'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='video file or folder of frames')
    parser.add_argument('config', help='VideoCutLER config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: cuda if '
                        'available, else cpu)')
    parser.add_argument('--score-thr', type=float, default=None,
                        help='drop tracks scoring below this')
    parser.add_argument('--topk', type=int, default=None,
                        help='keep at most this many tracks (config: 10)')
    parser.add_argument('--window', type=int, default=30,
                        help='frames per forward pass (memory bound)')
    parser.add_argument('--overlap', type=int, default=4,
                        help='frames shared by consecutive windows')
    parser.add_argument('--linker', choices=('mask_iou', 'query_embed'),
                        default=DEFAULT_LINKER,
                        help='how windows are linked into tracks: soft mask '
                        'IoU on the shared frames, or cosine similarity of '
                        'the decoder query embeddings (MinVIS) '
                        f'(default: {DEFAULT_LINKER}, see '
                        'benchmarks/linking_bench.py)')
    parser.add_argument('--short-side', type=int, default=360,
                        help='test resolution (paper: 360)')
    return parser.parse_args(argv)


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


def run(args):
    import torch

    from vcl_mm.apis.inference import init_video_model, track_video
    from vcl_mm.apis.video_io import VideoSource
    from vcl_mm.evaluation.track_results import (encode_masks,
                                                 paint_proposals,
                                                 write_davis_png)
    from vcl_mm.utils import require_writable
    from vcl_mm.visualization import draw_tracks
    require_writable(
        osp.join(args.out, 'tracks.json'), 'demo output', 'pass another --out')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    source = VideoSource(args.input)
    test_cfg = dict(window_size=args.window, window_overlap=args.overlap,
                    linker=args.linker)
    if args.score_thr is not None:
        test_cfg['score_thr'] = args.score_thr
    if args.topk is not None:
        test_cfg['topk'] = args.topk
    model, _ = init_video_model(args.config, args.checkpoint, device,
                                cfg_options=dict(model=dict(
                                    test_cfg=test_cfg)))
    print(f'{args.input}: {len(source)} frames, {source.width}x'
          f'{source.height}, {source.fps:.1f} fps; device {device}')
    start = time.time()
    store, rows, _, scores = track_video(model, source, args.window,
                                         args.overlap, args.short_side,
                                         linker=args.linker)
    infer_s = time.time() - start
    rows = [int(r) for r in rows]
    scores = [float(s) for s in scores]
    # ids 1..K by descending score (the selection is already sorted)
    order = np.argsort(-np.asarray(scores), kind='stable')
    rows = [rows[k] for k in order]
    scores = [scores[k] for k in order]
    ids = list(range(1, len(rows) + 1))

    os.makedirs(osp.join(args.out, 'masks'), exist_ok=True)
    writer = OverlayWriter(osp.join(args.out, 'overlay.mp4'), source.width,
                           source.height, source.fps)
    segmentations = [[] for _ in ids]
    frames_present = [0] * len(ids)
    source_again = VideoSource(args.input)  # second, sequential pass
    shape = (source.height, source.width)
    for t in tqdm(range(len(source)), desc='writing', unit='frame'):
        frame = source_again.read(t, t + 1)[0]
        masks = store.frame(t, rows) if rows else np.zeros(
            (0, ) + shape, bool)
        write_davis_png(
            osp.join(args.out, 'masks', f'{source.frame_names[t]}.png'),
            paint_proposals(masks, ids[:255], shape))
        writer.write(draw_tracks(frame, masks, ids, scores))
        for k, rle in enumerate(encode_masks(masks)):
            present = masks[k].any()
            segmentations[k].append(rle if present else None)
            frames_present[k] += int(present)
    writer.close()
    source.close()
    source_again.close()
    tracks = [
        dict(id=i, score=s, segmentations=seg)
        for i, s, seg in zip(ids, scores, segmentations)
    ]
    with open(osp.join(args.out, 'tracks.json'), 'w') as f:
        json.dump(
            dict(input=args.input, num_frames=len(source),
                 frame_names=source.frame_names, height=source.height,
                 width=source.width, tracks=tracks), f)
    print(f'{len(tracks)} tracks in {infer_s:.1f} s of inference '
          f'({len(source) / max(infer_s, 1e-9):.1f} frames/s):')
    for i, s, n in zip(ids, scores, frames_present):
        print(f'  track {i:2d}  score {s:.3f}  in {n}/{len(source)} frames')
    print(f'wrote {args.out}/overlay.mp4, {args.out}/masks/*.png, '
          f'{args.out}/tracks.json')
    return tracks


def main(argv=None):
    from vcl_mm.utils.launch import cli_main
    args = parse_args(argv)
    return cli_main(run)(args)


if __name__ == '__main__':
    main()
