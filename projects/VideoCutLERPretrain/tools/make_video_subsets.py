"""Write seeded subsets of a YouTube-VIS training set, by video.

Example::

    python projects/VideoCutLERPretrain/tools/make_video_subsets.py \
        data/youtube_vis_2019/train.json data/youtube_vis_2019/subsets \
        --fractions 0.05 0.1 0.2 0.3 0.4 0.5 --seed 0

writes ``train_5pct_seed0.json`` ... in the official layout; subsets of one
seed are nested and each keeps every class where the budget allows.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from videocutler_pretrain.subsets import (check_ytvis_json,  # noqa: E402
                                          make_subset)

from vcl_mm.utils import InputError  # noqa: E402
from vcl_mm.utils.launch import cli_main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', help='official YouTube-VIS train JSON')
    parser.add_argument('out_dir', help='folder for the subset JSONs')
    parser.add_argument('--fractions', type=float, nargs='+',
                        default=[0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def subset_name(ann_file, fraction, seed):
    stem = osp.splitext(osp.basename(ann_file))[0]
    return f'{stem}_{round(fraction * 100):d}pct_seed{seed}.json'


@cli_main
def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.ann_file):
        raise InputError(f'annotation file not found: {args.ann_file}')
    try:
        with open(args.ann_file) as f:
            ann = json.load(f)
    except json.JSONDecodeError as err:
        raise InputError(f'{args.ann_file} is not valid JSON: {err}')
    check_ytvis_json(ann, args.ann_file)
    os.makedirs(args.out_dir, exist_ok=True)
    for fraction in args.fractions:
        subset = make_subset(ann, fraction, args.seed)
        path = osp.join(args.out_dir,
                        subset_name(args.ann_file, fraction, args.seed))
        with open(path, 'w') as f:
            json.dump(subset, f)
        info = subset['info']['subset']
        note = '' if info['all_classes_covered'] else \
            ' (budget too small to cover every class)'
        print(f'{path}: {info["num_videos"]}/{info["of_videos"]} videos, '
              f'{len(subset["annotations"])} tracks{note}')


if __name__ == '__main__':
    main()
