"""DINO ViT checkpoint -> weights of MaskCut's key extractor.

The official release files (``dino_vitbase8_pretrain.pth``, keys
``cls_token, pos_embed, patch_embed.proj.*, blocks.N.{norm1, attn.qkv,
attn.proj, norm2, mlp.fc1, mlp.fc2}.*, norm.*``) already use the names of
timm's ViT, which the extractor wraps, and load as they are; this tool
validates such a file against a config's model, naming every missing,
unexpected or mis-shaped key. Full DINO training checkpoints (``teacher``
with ``backbone.`` / ``head.`` keys) and ``module.``-wrapped files are
converted (the projection head is dropped by name)::

    python tools/model_converters/dino_vit_to_maskcut.py \\
        dino_vitbase8_pretrain.pth checkpoints/dino_vitbase8_pretrain.pth

Use ``--config configs/maskcut/maskcut_dino-vits8_480.py`` for ViT-S/8.
"""
import argparse
import os.path as osp

from vcl_mm.utils.launch import cli_main, load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs/maskcut/maskcut_dino-vitb8_480.py')


def convert(src, dst, config=CONFIG):
    """Convert ``src``, check it strictly against ``config``'s extractor
    and save it to ``dst``.

    Returns:
        dict: ``num_tensors`` and ``dropped`` ({key: reason}).
    """
    from vcl_mm.maskcut.features import DinoViTKeyExtractor, convert_dino_vit
    from vcl_mm.models.converters_cli import save_converted
    from vcl_mm.utils.state_dict import check_fits, read_state_dict
    from vcl_mm.utils import require_writable
    require_writable(dst, 'output checkpoint')  # before the work
    model_cfg = dict(load_config(config).model)
    model_cfg.pop('type', None)
    model_cfg.update(weights=None, random_init=True)
    reference = DinoViTKeyExtractor(**model_cfg).vit
    state, dropped = convert_dino_vit(read_state_dict(src))
    check_fits(state, reference, what=f'ViT of {osp.basename(config)}')
    save_converted(state, dst, src, dropped, 'dino_vit_to_maskcut')
    return dict(num_tensors=len(state), dropped=dropped)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='DINO checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--config',
        default=CONFIG,
        help='MaskCut config whose model the weights must fit strictly')
    return parser.parse_args(argv)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    report = convert(args.src, args.dst, args.config)
    print(f'wrote {args.dst}: {report["num_tensors"]} tensors, loaded '
          f'strictly into the ViT of {args.config}')
    for key, reason in report['dropped'].items():
        print(f'  dropped {key}: {reason}')


if __name__ == '__main__':
    main()
