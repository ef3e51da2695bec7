"""CutLER Mask2Former R50 checkpoint (detectron2) -> mmdet ``Mask2Former``
weights of the image stage.

    python tools/model_converters/cutler_m2f_d2_to_mmdet.py \\
        cutler_m2f_rn50.pth checkpoints/cutler_mask2former_r50_imagenet.pth

The output is the image-stage model of configs/cutler/ and the default
``load_from`` of the video recipe (mmdet renames ``panoptic_head.*`` to
``track_head.*`` when loading). Key mapping and the layers whose
semantics differ: see ``vcl_mm/models/converters.py``.
"""
import functools
import os.path as osp

from vcl_mm.models.converters import convert_mask2former_d2
from vcl_mm.models.converters_cli import converter_cli

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(
    ROOT, 'configs/cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py')


def main(argv=None):
    converter_cli(
        __doc__.split('\n\n')[0],
        functools.partial(convert_mask2former_d2, head='panoptic_head'),
        CONFIG,
        argv=argv)


if __name__ == '__main__':
    main()
