"""Segment and track every object of a video with a VideoCutLER model.

Example::

    python tools/demo/video_demo.py demo.mp4 CONFIG CKPT --out demo_out
    python tools/demo/video_demo.py frames_dir/ CONFIG CKPT --out out \
        --window 20 --pred-score-thr 0.5 --device cuda

INPUT is a video file (mp4/avi/mov/mkv/webm) or a folder of frames; CONFIG
a config file or a package config name (``vcl_mm::videocutler/...``).
Writes to ``--out``: ``overlay.mp4`` (the tracks scoring above
``--pred-score-thr``, each in its own colour with id and score, drawn by
``TrackOverlayVisualizer`` as ``tools/test.py --show-dir`` draws),
``masks/<frame>.png`` (DAVIS-style indexed PNGs of every track, id k = k-th
best track, better tracks win overlaps), ``tracks.json`` (per track: id,
score, one compressed RLE or null per frame), and prints a summary. Long
videos run in bounded memory (windowed inference, frames decoded window by
window). A thin command line over :class:`vcl_mm.apis.VideoInferencer`.
"""
import argparse
import os.path as osp

from vcl_mm.apis.video_inferencer import (DEFAULT_LINKER, DEFAULT_OVERLAP,
                                          DEFAULT_WINDOW, check_options)
from vcl_mm.visualization.track_overlay import DEFAULT_PRED_SCORE_THR

#: the demo's flag for each inferencer option, for error messages
FLAG_NAMES = dict(window_size='--window', window_overlap='--overlap',
                  short_side='--short-side', pred_score_thr='--pred-score-thr',
                  score_thr='--score-thr', topk='--topk')


class OneLineParser(argparse.ArgumentParser):
    """Bad flags end in one ``error:`` line and exit 2, as bad input does
    everywhere else in the tools."""

    def error(self, message):
        self.exit(2, f'error: {message} (see --help)\n')


def parse_args(argv=None):
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='video file or folder of frames')
    parser.add_argument('config',
                        help='VideoCutLER config file or vcl_mm:: name')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: cuda if '
                        'available, else cpu)')
    parser.add_argument('--pred-score-thr', type=float,
                        default=DEFAULT_PRED_SCORE_THR,
                        help='draw the tracks scoring above this in the '
                        'overlay (default: mmdet visualizers\' '
                        f'{DEFAULT_PRED_SCORE_THR}); masks and tracks.json '
                        'keep every track')
    parser.add_argument('--score-thr', type=float, default=None,
                        help='drop tracks scoring below this from every '
                        'output (the model\'s test_cfg.score_thr; config: '
                        'none)')
    parser.add_argument('--topk', type=int, default=None,
                        help='keep at most this many tracks (config: 10)')
    parser.add_argument('--window', type=int, default=DEFAULT_WINDOW,
                        help='frames per forward pass (memory bound)')
    parser.add_argument('--overlap', type=int, default=None,
                        help='frames shared by consecutive windows (default: '
                        f'{DEFAULT_OVERLAP}, at most --window - 1)')
    parser.add_argument('--linker', choices=('mask_iou', 'query_embed'),
                        default=DEFAULT_LINKER,
                        help='how windows are linked into tracks: soft mask '
                        'IoU on the shared frames, or cosine similarity of '
                        'the decoder query embeddings (MinVIS) '
                        f'(default: {DEFAULT_LINKER}, see '
                        'benchmarks/linking_bench.py)')
    parser.add_argument('--short-side', type=int, default=None,
                        help='test resolution (default: the config\'s test '
                        'pipeline, 360 in the paper)')
    return parser.parse_args(argv)


def run(args):
    from vcl_mm.apis.video_inferencer import VideoInferencer, resolve_device
    from vcl_mm.utils import require_writable
    check_options(args.window, args.overlap, args.short_side,
                  args.pred_score_thr, args.score_thr, args.topk,
                  names=FLAG_NAMES)
    require_writable(
        osp.join(args.out, 'tracks.json'), 'demo output', 'pass another --out')
    device = resolve_device(args.device, '--device')
    overlap = min(DEFAULT_OVERLAP, args.window - 1) \
        if args.overlap is None else args.overlap
    test_cfg = dict(window_size=args.window, window_overlap=overlap,
                    linker=args.linker)
    if args.score_thr is not None:
        test_cfg['score_thr'] = args.score_thr
    if args.topk is not None:
        test_cfg['topk'] = args.topk
    inferencer = VideoInferencer(args.config, args.checkpoint, device,
                                 cfg_options=dict(model=dict(
                                     test_cfg=test_cfg)))
    result = inferencer(args.input, args.out,
                        pred_score_thr=args.pred_score_thr,
                        window_size=args.window,
                        window_overlap=overlap,
                        short_side=args.short_side, linker=args.linker)
    num, tracks = result['num_frames'], result['tracks']
    print(f'{args.input}: {num} frames, {result["width"]}x'
          f'{result["height"]}; device {device}')
    print(f'{len(tracks)} tracks in {result["infer_seconds"]:.1f} s of '
          f'inference ({num / max(result["infer_seconds"], 1e-9):.1f} '
          'frames/s):')
    for tr in tracks:
        present = sum(s is not None for s in tr['segmentations'])
        drawn = 'drawn' if tr['id'] in result['drawn'] else \
            f'not drawn (<= {args.pred_score_thr})'
        print(f'  track {tr["id"]:2d}  score {tr["score"]:.3f}  in '
              f'{present}/{num} frames  {drawn}')
    if tracks and not result['drawn']:
        print(f'no track scores above {args.pred_score_thr}: the overlay '
              'shows none (lower --pred-score-thr to see them)')
    print(f'wrote {args.out}/overlay.mp4, {args.out}/masks/*.png, '
          f'{args.out}/tracks.json')
    return tracks


def main(argv=None):
    from vcl_mm.utils.launch import cli_main
    args = parse_args(argv)
    return cli_main(run)(args)


if __name__ == '__main__':
    main()
