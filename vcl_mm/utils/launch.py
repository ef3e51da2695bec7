"""Helpers shared by the entry points in ``tools/``.

They turn the user-input failures that would otherwise surface as tracebacks
deep inside mmengine (missing config, checkpoint or data root) into one
:class:`~vcl_mm.utils.InputError` line, and adapt a config to the machine
(gloo on CPU-only hosts, AMP on whichever device is in use).
"""
import functools
import os
import os.path as osp
import sys
import warnings

from .config_variables import resolve_variables
from .errors import InputError

DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def load_config(path, cfg_options=None):
    """Load an mmengine config with one clear line for a missing file, a
    syntax error or a ``--cfg-options`` key the config does not have, and
    resolve its recipe variables (:mod:`vcl_mm.utils.config_variables`).

    Args:
        path (str): config file, or a packaged config such as
            ``'vcl_mm::videocutler/eval_davis2017_val.py'``.
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        mmengine.Config
    """
    from mmengine.config import Config

    from .config_validation import (import_registering, read_config_file,
                                    validate_cfg_options)
    with warnings.catch_warnings():
        # mmengine resolves 'package::' names with pkg_resources, whose
        # import warns of its own deprecation on every such run
        warnings.filterwarnings('ignore',
                                message='pkg_resources is deprecated',
                                category=UserWarning)
        if '::' in path and not osp.isfile(path):
            try:
                # mmengine's own resolution of 'package::' names (as for
                # _base_)
                path, _ = Config._get_cfg_path(path, path)
            except (FileNotFoundError, ModuleNotFoundError,
                    ValueError) as err:
                raise InputError(
                    f'config {path} not found ({err}); the part after '
                    "'::' is a path under the package's configs/ "
                    'folder') from None
        cfg = read_config_file(path)
    if cfg_options:
        import_registering(cfg)
        validate_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return resolve_variables(cfg)


def _iter_datasets(dataset_cfg, key):
    """Yield ``(config key, leaf dataset config)`` for every leaf dataset
    (through wrappers such as ``ConcatDataset``, ``RepeatDataset`` and
    ``MultiImageMixDataset``)."""
    if dataset_cfg is None:
        return
    if 'datasets' in dataset_cfg:
        for i, sub in enumerate(dataset_cfg['datasets']):
            yield from _iter_datasets(sub, f'{key}.datasets[{i}]')
    elif 'dataset' in dataset_cfg:
        yield from _iter_datasets(dataset_cfg['dataset'], f'{key}.dataset')
    else:
        yield key, dataset_cfg


def check_data_paths(cfg, loaders=DATALOADER_KEYS):
    """Raise :class:`InputError` if a dataset's data root or annotation file
    is missing, naming the path and the config key to change.

    Args:
        cfg (mmengine.Config): the full config.
        loaders (tuple[str]): which dataloaders to check.
    """
    for key in loaders:
        loader = cfg.get(key)
        if not loader:
            continue
        for ds_key, ds in _iter_datasets(loader.get('dataset'),
                                         f'{key}.dataset'):
            root = ds.get('data_root') or ''
            if root and not osp.isdir(root):
                raise InputError(
                    f'data root of {key} not found: {root} (create it or '
                    f'set {ds_key}.data_root, e.g. with --cfg-options)')
            ann = ds.get('ann_file')
            if ann:
                ann_path = ann if osp.isabs(ann) else osp.join(root, ann)
                if not osp.isfile(ann_path):
                    raise InputError(
                        f'annotation file of {key} not found: {ann_path} '
                        f'(set {ds_key}.ann_file)')


def check_resumable(checkpoint, filename):
    """Raise ``InputError`` unless ``checkpoint`` (as read from
    ``filename``) can resume a training: optimizer state, epoch and iteration
    besides the weights. A weights-only file can only start a new one."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    lacking = [
        what for what, ok in (
            ('optimizer state',
             isinstance(checkpoint, dict) and 'optimizer' in checkpoint),
            ('epoch/iteration',
             isinstance(meta, dict) and 'epoch' in meta and 'iter' in meta))
        if not ok
    ]
    if lacking:
        raise InputError(
            f'{filename} cannot resume a training (it has no '
            f'{", ".join(lacking)}; resuming needs a checkpoint saved by a '
            'training run); to start a new training from its weights, drop '
            f'--resume and pass --cfg-options load_from={filename}')


def init_process_group(launcher, backend='gloo', timeout=None):
    """Join the process group of a torchrun job (binds no CUDA device).

    Used by :class:`~vcl_mm.engine.DeviceAwareRunner` on CPU-only machines
    (mmengine's ``init_dist`` always calls ``torch.cuda.set_device``) and by
    ``tools/maskcut.py``, which picks each rank's device itself.

    Args:
        launcher (str): ``'pytorch'`` (torchrun); others need mmengine's
            CUDA path.
        backend (str): ``'gloo'`` (CPU) or ``'nccl'`` (CUDA).
        timeout (float, optional): seconds a collective may wait (default:
            torch's).

    Raises:
        InputError: another launcher, or not started by torchrun.
    """
    import datetime

    import torch.distributed as dist
    if dist.is_initialized():
        return
    if launcher != 'pytorch':
        raise InputError(
            f'--launcher {launcher} needs GPUs (mmengine binds each process '
            'to a CUDA device); on CPU-only machines start the processes with '
            'torchrun and --launcher pytorch')
    if 'RANK' not in os.environ or 'WORLD_SIZE' not in os.environ:
        tool = sys.argv[0] or 'the tool'
        raise InputError('--launcher pytorch needs the environment torchrun '
                         f'sets (run: torchrun --nproc_per_node N {tool} '
                         '...), or drop --launcher')
    kwargs = {}
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    dist.init_process_group(backend=backend, **kwargs)


def build_runner(cfg):
    """The runner of ``cfg``: ``runner_type`` if the config names one, else
    mmengine's ``Runner``."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def set_local_rank(local_rank):
    """Export ``LOCAL_RANK`` (torch.distributed.launch passes it as a flag;
    torchrun sets the variable itself)."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)


def cli_main(func):
    """Decorate a tool's ``main``: an :class:`InputError` prints one line to
    stderr and exits with status 2 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InputError as err:
            print(f'error: {err}', file=sys.stderr)
            sys.exit(2)

    return wrapper
