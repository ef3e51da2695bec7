"""Draw MaskCut pseudo-masks over their images, one PNG per image.

Each mask gets its own colour (50% fill) and a contour::

    python tools/analysis_tools/show_pseudo_masks.py maskcut.json \\
        --img-root data/imagenet/train --output-dir work_dirs/show --num 20
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np

from vcl_mm.utils import InputError, require_dir, require_writable
from vcl_mm.utils.launch import cli_main


def palette(n, seed=0):
    """n distinct bright RGB colours (uint8, (n, 3))."""
    hues = (np.arange(n) * 0.618034 + np.random.default_rng(seed).random()) % 1
    out = []
    for h in hues:
        i, f = int(h * 6), h * 6 % 1
        v, p, q, t = 1., 0.15, 1. - 0.85 * f, 0.15 + 0.85 * f
        rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v),
               (v, p, q)][i % 6]
        out.append([int(255 * c) for c in rgb])
    return np.array(out, np.uint8).reshape(-1, 3)


def draw_masks(image, masks, alpha=0.5):
    """Overlay masks on an image.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        masks (list[np.ndarray]): (H, W) bool masks.
        alpha (float): fill opacity.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    from scipy import ndimage
    out = image.astype(np.float32)
    colours = palette(len(masks))
    for m, c in zip(masks, colours):
        out[m] = (1 - alpha) * out[m] + alpha * c
        edge = m & ~ndimage.binary_erosion(m, iterations=2)
        out[edge] = c
    return out.round().astype(np.uint8)


def show(ann_file, img_root, out_dir, num=20, seed=0):
    """Write ``num`` overlay PNGs (a seeded sample of the labelled images).

    Returns:
        list[str]: written files.
    """
    from PIL import Image

    from vcl_mm.datasets.api_wrappers.masks import decode, to_rle
    from vcl_mm.evaluation.pseudo_masks import load_coco
    from vcl_mm.maskcut.images import SkipImage, load_image
    if num < 1:
        raise InputError(f'--num must be >= 1, got {num}')
    # checked on load: truncated or wrong-shaped JSON, orphans, duplicates,
    # RLEs or polygons that do not fit their image
    coco = load_coco(ann_file, 'pseudo-label JSON')
    require_dir(img_root, 'image root', 'pass --img-root, the --input '
                'folder of tools/maskcut.py')
    require_writable(osp.join(out_dir, 'probe.png'), 'output folder')
    by_image = {}
    for ann in coco['annotations']:
        by_image.setdefault(ann['image_id'], []).append(ann)
    images = [im for im in coco['images'] if im['id'] in by_image]
    if not images:
        raise InputError(f'{ann_file} has no annotated image')
    rng = np.random.default_rng(seed)
    pick = sorted(
        rng.choice(len(images), min(num, len(images)), replace=False))
    written = []
    for i in pick:
        info = images[i]
        path = osp.join(img_root, info['file_name'])
        try:
            img = load_image(path, min_size=1)
        except SkipImage as err:
            print(f'skipped {path}: {err}', file=sys.stderr)
            continue
        h, w = info['height'], info['width']
        masks = [
            decode(to_rle(a['segmentation'], h, w))
            for a in by_image[info['id']]
        ]
        if img.shape[:2] != (h, w):
            raise InputError(
                f'{path} is {img.shape[1]}x{img.shape[0]} but its masks '
                f'are {w}x{h}: wrong --img-root?')
        name = info['file_name'].replace('/', '__').rsplit('.', 1)[0]
        dst = osp.join(out_dir, f'{name}.png')
        Image.fromarray(draw_masks(img, masks)).save(dst)
        written.append(dst)
    return written


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='draw MaskCut pseudo-masks over a sample of images')
    parser.add_argument('ann_file', help='pseudo-label JSON')
    parser.add_argument(
        '--img-root', required=True, help='folder the file names are in')
    parser.add_argument('--output-dir', required=True, help='PNG folder')
    parser.add_argument('--num', type=int, default=20, help='images to draw')
    parser.add_argument('--seed', type=int, default=0, help='sample seed')
    return parser.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    files = show(args.ann_file, args.img_root, args.output_dir, args.num,
                 args.seed)
    print(f'wrote {len(files)} images to {args.output_dir}')


if __name__ == '__main__':
    main()
