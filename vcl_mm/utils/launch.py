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

from .errors import InputError

DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def load_config(path, cfg_options=None):
    """Load an mmengine config with a clear error for a missing file.

    Args:
        path (str): config file.
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        mmengine.Config
    """
    from mmengine.config import Config
    if not osp.isfile(path):
        raise InputError(f'config not found: {path} (pass the path of a '
                         'config file, e.g. configs/toy/'
                         'video_smoke_generated.py)')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


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


def adapt_to_device(cfg, amp=False):
    """Adapt a config to the devices present.

    * no CUDA and a distributed launcher: gloo instead of nccl, the process
      group initialised here (mmengine's ``init_dist`` always calls
      ``torch.cuda.set_device``) and DDP without ``device_ids`` (mmengine
      passes the local rank, which CPU modules refuse);
    * ``amp``: the optimizer wrapper becomes ``DeviceAmpOptimWrapper``
      (float16 + loss scaling on GPUs, bfloat16 on CPU).
    """
    import torch
    launcher = cfg.get('launcher', 'none')
    if not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg['backend'] = 'gloo'
        if launcher != 'none':
            init_process_group(
                launcher,
                backend='gloo',
                timeout=cfg.env_cfg.dist_cfg.get('timeout'))
            if cfg.get('model_wrapper_cfg') is None:
                cfg.model_wrapper_cfg = dict(
                    type='MMDistributedDataParallel',
                    device_ids=None,
                    broadcast_buffers=False,
                    find_unused_parameters=cfg.get('find_unused_parameters',
                                                   False))
    if amp:
        wrapper = cfg.optim_wrapper
        if wrapper.get('type') not in ('OptimWrapper', 'AmpOptimWrapper',
                                       'DeviceAmpOptimWrapper'):
            raise InputError(
                f'--amp cannot wrap optim_wrapper.type={wrapper.get("type")}'
                '; use DeviceAmpOptimWrapper in the config instead')
        wrapper['type'] = 'DeviceAmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
    return cfg


def init_process_group(launcher, backend='gloo', timeout=None):
    """Join the process group of a torchrun job (binds no CUDA device).

    Used by ``tools/train.py`` and ``tools/test.py`` on CPU-only machines
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
