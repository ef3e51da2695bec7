"""Re-size a class-agnostic checkpoint's classification layer for fine-tuning.

Example::

    python projects/VideoCutLERPretrain/tools/resize_class_head.py \
        checkpoints/videocutler_r50.pth checkpoints/videocutler_r50_40cls.pth \
        --num-classes 40
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from videocutler_pretrain.class_head import resize_class_head  # noqa: E402

from vcl_mm.utils import load_local_checkpoint  # noqa: E402
from vcl_mm.utils.launch import cli_main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='pre-trained checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the re-sized checkpoint')
    parser.add_argument('--num-classes', type=int, required=True)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    ckpt = load_local_checkpoint(args.src, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    new_state, reset = resize_class_head(state, args.num_classes, args.seed)
    # Only weights go on: optimizer and iteration state of the
    # pre-training run must not leak into fine-tuning.
    torch.save(dict(state_dict=new_state,
                    meta=dict(resized_from=args.src,
                              num_classes=args.num_classes,
                              reinitialised=reset)), args.dst)
    kept = len(new_state) - len(reset)
    print(f'{args.dst}: re-initialised {", ".join(reset)} '
          f'({args.num_classes} classes + no-object); kept {kept} tensors')


if __name__ == '__main__':
    main()
