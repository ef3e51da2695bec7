"""Official VideoCutLER checkpoint (detectron2 VideoMask2Former R50) ->
vcl_mm ``VideoCutLER`` weights.

    python tools/model_converters/videocutler_d2_to_mmdet.py \\
        videocutler_m2f_rn50.pth checkpoints/videocutler_r50_mmdet.pth
    python tools/test.py configs/videocutler/eval_ytvis2019_train.py \\
        checkpoints/videocutler_r50_mmdet.pth

Key mapping and the layers whose semantics differ: see
``vcl_mm/models/converters.py``.
"""
import functools
import os.path as osp

from vcl_mm.models.converters import convert_mask2former_d2
from vcl_mm.models.converters_cli import converter_cli

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT,
                  'configs/videocutler/videocutler_r50_8xb2-80k_imagenet.py')


def main(argv=None):
    converter_cli(
        __doc__.split('\n\n')[0],
        functools.partial(convert_mask2former_d2, head='track_head'),
        CONFIG,
        argv=argv)


if __name__ == '__main__':
    main()
