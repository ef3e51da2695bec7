"""Write training clips as image strips, to see what the model trains on.

Each clip becomes one JPEG: its frames side by side, every track (instance
id) filled and outlined in its own colour, the same colour in every frame,
with its id written on it (drawn by ``TrackOverlayVisualizer``, as
``tools/test.py --show-dir`` and the demo draw); the header shows the frame
index and, for ImageCut2Video clips, whether objects were pasted or a skip
rule fired.

Examples::

    python tools/analysis_tools/browse_dataset.py \
        configs/_base_/datasets/imagecut2video.py --output-dir vis/clips \
        --num 20 \
        --cfg-options train_dataloader.dataset.dataset.data_root=data/toy/
"""
import argparse
import os.path as osp
import sys

import numpy as np
from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw training clips of a config as image strips')
    parser.add_argument('config', help='config file with a train_dataloader')
    parser.add_argument(
        '--output-dir', required=True, help='output folder (mmdet\'s name)')
    parser.add_argument(
        '--num', type=int, default=10, help='number of clips (default 10)')
    parser.add_argument(
        '--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument(
        '--alpha', type=float, default=0.5, help='mask fill opacity')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. '
        'train_dataloader.dataset.dataset.data_root=x')
    return parser.parse_args(argv)


def draw_frame(visualizer, img, sample, title=''):
    """One BGR frame with its ground-truth tracks under a header.

    Args:
        visualizer (TrackOverlayVisualizer): draws the tracks (as
            ``tools/test.py --show-dir`` and the demo do).
        img (np.ndarray): (H, W, 3) uint8 BGR frame.
        sample (DetDataSample): the frame's sample with ``gt_instances``.
        title (str): header text.

    Returns:
        np.ndarray: (H + 24, W, 3) uint8 BGR.
    """
    import cv2
    visualizer.add_datasample('frame', img[..., ::-1], sample, draw_gt=True,
                              draw_pred=False)
    out = np.ascontiguousarray(visualizer.get_image()[..., ::-1])
    header = np.full((24, out.shape[1], 3), 255, np.uint8)
    cv2.putText(header, title, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([header, out])


def clip_strip(packed, alpha=0.5):
    """A packed sample (``inputs`` (T, 3, H, W), ``data_samples``) -> strip.

    Returns:
        tuple: strip (H + 24, sum W + gaps, 3) uint8 BGR and a one-line
        description (image path, ids per frame, paste status).
    """
    from vcl_mm.visualization import TrackOverlayVisualizer
    visualizer = TrackOverlayVisualizer(name='browse_dataset', alpha=alpha)
    frames = packed['inputs'].numpy()
    if frames.ndim == 3:  # a single image (DetDataSample)
        frames = frames[None]
    samples = packed['data_samples']
    samples = list(samples.video_data_samples) if hasattr(
        samples, 'video_data_samples') else [samples]
    tiles, ids_per_frame = [], []
    for t, (frame, sample) in enumerate(zip(frames, samples)):
        gt = sample.gt_instances
        ids = gt.instances_ids.tolist() if 'instances_ids' in gt else list(
            range(1,
                  len(gt) + 1))
        ids_per_frame.append(ids)
        status = sample.metainfo.get('paste_status', '')
        title = f'frame {t}  {status}'.strip()
        tiles.append(
            draw_frame(visualizer,
                       np.ascontiguousarray(frame.transpose(1, 2, 0)),
                       sample, title))
        tiles.append(np.full((tiles[-1].shape[0], 6, 3), 255, np.uint8))
    strip = np.concatenate(tiles[:-1], axis=1)
    meta = samples[0].metainfo
    desc = (f'{meta.get("img_path", "?")} ids/frame={ids_per_frame} '
            f'{meta.get("paste_status", "")}').rstrip()
    return strip, desc


def browse(cfg, out_dir, num, seed=0, alpha=0.5):
    """Build ``cfg.train_dataloader.dataset`` and write ``num`` strips.

    Returns:
        list[str]: written file paths.
    """
    import random

    import cv2
    import torch
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    from vcl_mm.utils import (InputError, register_all_modules,
                              require_writable)
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    loader = cfg.get('train_dataloader')
    if not loader or 'dataset' not in loader:
        raise InputError('the config defines no train_dataloader.dataset')
    require_writable(osp.join(out_dir, 'clip_0000.jpg'), 'output folder',
                     'pass another --output-dir')
    empty = InputError(
        'the training dataset of the config is empty (no image or video '
        'left after loading and filtering); check its ann_file and '
        'filter_cfg')
    try:
        dataset = DATASETS.build(loader['dataset'])
    except ValueError as err:
        # mmengine cannot serialise an empty data list
        if 'need at least one array' in str(err):
            raise empty from None
        raise
    if len(dataset) == 0:
        raise empty
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    order = np.random.permutation(len(dataset))
    written = []
    for k in range(num):
        idx = int(order[k % len(order)])
        strip, desc = clip_strip(dataset[idx], alpha)
        path = osp.join(out_dir, f'clip_{k:04d}_idx{idx}.jpg')
        cv2.imwrite(path, strip)
        written.append(path)
        print(f'{path}: {desc}')
    return written


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.utils.launch import check_data_paths, cli_main, load_config

    @cli_main
    def run():
        from vcl_mm.utils import InputError
        if args.num < 1:
            raise InputError(f'--num must be >= 1, got {args.num}')
        cfg = load_config(args.config, args.cfg_options)
        check_data_paths(cfg, loaders=('train_dataloader', ))
        return browse(cfg, args.output_dir, args.num, args.seed, args.alpha)

    run()


if __name__ == '__main__':
    sys.exit(main())
