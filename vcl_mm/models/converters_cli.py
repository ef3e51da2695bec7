"""Plumbing of the weight converters: load the source checkpoint, convert
it with a key map of :mod:`vcl_mm.models.converters`, check it strictly
against a config's model and save it as an mmengine checkpoint; plus the
command line shared by ``tools/model_converters/*.py``."""
import os
import os.path as osp
from typing import Callable, Dict, Optional

import torch

from vcl_mm.utils.errors import require_writable
from vcl_mm.utils.state_dict import check_fits, read_state_dict


def save_converted(state: Dict[str, torch.Tensor], path: str, source: str,
                   dropped: Dict[str, str], converter: str) -> None:
    """Save as an mmengine checkpoint (``state_dict`` + ``meta``)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    meta = dict(
        converted_from=osp.basename(source),
        converter=converter,
        dropped=dict(dropped))
    torch.save(dict(state_dict=state, meta=meta), path)


def build_reference(config: str, part: Optional[str] = None):
    """The model (or its ``part``, e.g. ``'backbone'``) of a config, to
    check converted weights against."""
    from vcl_mm.registry import MODELS

    from vcl_mm.utils import register_all_modules
    from vcl_mm.utils.launch import load_config
    register_all_modules(init_default_scope=True)
    model = MODELS.build(load_config(config).model)
    return getattr(model, part) if part else model


def run_conversion(convert: Callable,
                   source: str,
                   target: str,
                   config: str,
                   part: Optional[str] = None,
                   converter: str = '') -> dict:
    """Load ``source``, convert it, check it against ``config``'s model (or
    its ``part``) and save it to ``target``.

    Args:
        convert (callable): ``state -> (converted, dropped)``.
        source (str): upstream checkpoint path.
        target (str): output ``.pth`` path.
        config (str): config whose model the weights must fit.
        part (str, optional): attribute of that model to check against.
        converter (str): name recorded in the checkpoint meta.

    Returns:
        dict: ``num_tensors``, ``dropped`` ({key: reason}).
    """
    require_writable(target, 'output checkpoint')  # before the work
    state, dropped = convert(read_state_dict(source))
    check_fits(state, build_reference(config, part), what=part or 'model')
    save_converted(state, target, source, dropped, converter)
    return dict(num_tensors=len(state), dropped=dropped)


def converter_cli(description: str,
                  convert: Callable,
                  default_config: str,
                  part: Optional[str] = None,
                  argv=None) -> None:
    """Command line shared by ``tools/model_converters/*.py``."""
    import argparse

    from vcl_mm.utils.launch import cli_main
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help='upstream checkpoint (.pkl or .pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--config',
        default=default_config,
        help='config whose model the converted weights must fit strictly '
        f'(default: {default_config})')
    args = parser.parse_args(argv)

    @cli_main
    def run():
        report = run_conversion(
            convert,
            args.src,
            args.dst,
            args.config,
            part,
            converter=parser.prog)
        print(f'wrote {args.dst}: {report["num_tensors"]} tensors, loaded '
              f'strictly into the {part or "model"} of {args.config}')
        for key, reason in report['dropped'].items():
            print(f'  dropped {key}: {reason}')

    run()
