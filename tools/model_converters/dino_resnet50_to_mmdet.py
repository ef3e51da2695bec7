"""DINO (self-supervised) ResNet-50 -> mmdet ``ResNet`` backbone weights.

Accepts the detectron2 ``.pkl`` form (``stem.conv1.weight``,
``res2.0.conv1.norm.weight``, ``res2.0.shortcut.*``; e.g. CutLER's
``dino_RN50_pretrain_d2_format.pkl``) and the torch ``.pth`` form
(torchvision names, possibly under ``module.`` / ``backbone.``, or a full
DINO checkpoint whose ``teacher`` is used); ``fc.*`` and DINO's ``head.*``
are dropped by name. The output initialises the image stage::

    python tools/model_converters/dino_resnet50_to_mmdet.py \\
        dino_resnet50_pretrain.pth checkpoints/dino_resnet50_mmdet.pth

(``model.backbone.init_cfg.checkpoint`` of configs/cutler/).
"""
import os.path as osp

from vcl_mm.models.converters import convert_resnet
from vcl_mm.models.converters_cli import converter_cli

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(
    ROOT, 'configs/cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py')


def main(argv=None):
    converter_cli(
        __doc__.split('\n\n')[0],
        convert_resnet,
        CONFIG,
        part='backbone',
        argv=argv)


if __name__ == '__main__':
    main()
