"""The runner every vcl_mm config names (``runner_type``)."""
import copy

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)

from vcl_mm.registry import RUNNERS
from vcl_mm.utils import InputError, register_checkpoint_loader, require_file
from vcl_mm.utils.config_variables import resolve_variables
from vcl_mm.utils.config_validation import validate_training_config
from vcl_mm.utils.launch import (check_data_paths, check_resumable,
                                 init_process_group)
from vcl_mm.utils.state_dict import format_keys


def mismatch_summary(message):
    """mmengine's strict-load error (one line of keys per kind, through
    the model's own key renames) as counts and the first keys of each."""
    kinds = []
    for line in message.splitlines():
        head, sep, keys = line.partition(': ')
        if sep and head in ('unexpected key in source state_dict',
                            'missing keys in source state_dict'):
            names = [k for k in keys.strip().split(', ') if k]
            what = 'unexpected' if head.startswith('unexpected') else \
                'missing'
            kinds.append(f'{len(names)} {what}: {format_keys(names)}')
        elif line.startswith('size mismatch for '):
            kinds.append(line.strip())
    return '; '.join(kinds[:6]) or message.strip()[:500]


def _clip_makers(value, path):
    """Yield ``(config key, frames per clip)`` of every transform below
    ``value`` that makes a training clip."""
    if isinstance(value, dict):
        kind = value.get('type')
        if kind in ('ImageToClip', 'UniformClipSample'):
            yield path, value.get('num_frames', 3)
        elif kind == 'UniformRefFrameSample':
            yield path, value.get('num_ref_imgs', 2) + 1
        for key, sub in value.items():
            yield from _clip_makers(sub, f'{path}.{key}')
    elif isinstance(value, (list, tuple)):
        for i, sub in enumerate(value):
            yield from _clip_makers(sub, f'{path}[{i}]')


def check_clip_length(cfg):
    """Raise :class:`InputError` if a training pipeline makes clips of
    another length than the track head's ``num_frames`` (the model would
    fail at its first step in an unexplained ``einsum``), naming both keys.
    """
    head = (cfg.get('model') or {}).get('track_head') or {}
    frames = head.get('num_frames')
    if frames is None:
        return
    for path, length in _clip_makers(cfg.get('train_dataloader'),
                                     'train_dataloader'):
        if length != frames:
            raise InputError(
                f'{path} makes clips of {length} frames but '
                f'model.track_head.num_frames is {frames}: they must agree; '
                'set num_frames = N at the top of the config (both follow '
                'it) instead of either key alone')


@RUNNERS.register_module()
class DeviceAwareRunner(Runner):
    """mmengine's ``Runner`` with what vcl_mm needs from any entry point.

    Subclassed so that mmdet's ``tools/train.py`` / ``test.py``, ``mim``,
    ``torchrun`` and ``RUNNERS.build(cfg)`` in a notebook behave as our
    tools: everything below comes from the config (``runner_type =
    'vcl_mm.DeviceAwareRunner'`` in ``configs/_base_/default_runtime.py``),
    nothing is patched on import.

    * **Recipe variables**: a string ``'${name}'`` anywhere in the config is
      replaced by the top-level value ``name`` once every base and
      ``--cfg-options`` are merged, so a child config that sets
      ``num_frames = 2`` changes every place of the recipe that uses it.
    * **CPU-only machines, distributed**: gloo instead of nccl, the process
      group joined without binding a CUDA device (mmengine's ``init_dist``
      calls ``torch.cuda.set_device``) and DDP without ``device_ids``.
    * **Checkpoints**: torch >= 2.6 loads weights-only and mmengine 0.10.7
      does not allow-list its own objects: local files load through
      :func:`vcl_mm.utils.load_local_checkpoint`. Weights that do not fit the
      model are refused with the key names (mmengine only logs them) unless
      the config sets ``allow_partial_load = True``; ``resume`` refuses a
      file without optimizer state and iteration.
    * **Data paths**: a missing data root or annotation file of the loop
      about to run is named with its config key before anything is built.

    AMP needs nothing here: ``--amp`` asks for ``AmpOptimWrapper``, which in
    the ``vcl_mm`` scope is the device-aware
    :class:`~vcl_mm.engine.DeviceAmpOptimWrapper`.
    """

    @classmethod
    def from_cfg(cls, cfg):
        """Build the runner from ``cfg`` (recipe variables resolved first;
        ``cfg`` itself is left as given)."""
        cfg = copy.deepcopy(cfg)
        resolve_variables(cfg)
        check_clip_length(cfg)
        validate_training_config(cfg)
        return super().from_cfg(cfg)

    def setup_env(self, env_cfg):
        if self.distributed and not torch.cuda.is_available():
            dist_cfg = env_cfg.setdefault('dist_cfg', {})
            dist_cfg['backend'] = 'gloo'
            init_process_group(
                self.launcher,
                backend='gloo',
                timeout=dist_cfg.get('timeout'))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        if (self.distributed and model_wrapper_cfg is None
                and not torch.cuda.is_available()):
            # CPU modules refuse the device_ids mmengine passes by default
            model_wrapper_cfg = dict(
                type='MMDistributedDataParallel',
                device_ids=None,
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get(
                    'find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)

    def train(self):
        check_data_paths(self.cfg, ('train_dataloader', 'val_dataloader'))
        return super().train()

    def val(self):
        check_data_paths(self.cfg, ('val_dataloader', ))
        return super().val()

    def test(self):
        if self._test_loop is None:
            raise InputError(
                'this config defines no test_dataloader, test_evaluator and '
                'test_cfg; use an evaluation config (configs/videocutler/'
                'eval_*.py)')
        check_data_paths(self.cfg, ('test_dataloader', ))
        return super().test()

    def resume(self, filename, *args, **kwargs):
        self._resuming = True
        try:
            return super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False

    def load_checkpoint(self,
                        filename,
                        map_location='cpu',
                        strict=False,
                        revise_keys=[(r'^module.', '')]):
        """mmengine's ``load_checkpoint``, but strict unless the config sets
        ``allow_partial_load = True``, one clear error for a mismatch, and
        (from :meth:`resume`) a check that the file can resume at all."""
        if '://' not in filename:
            require_file(filename, 'checkpoint',
                         'fix load_from or the --resume path')
        register_checkpoint_loader()
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        if getattr(self, '_resuming', False):
            check_resumable(checkpoint, filename)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        strict = strict or not self.cfg.get('allow_partial_load', False)
        try:
            checkpoint = _load_checkpoint_to_model(
                model, checkpoint, strict, revise_keys=revise_keys)
        except RuntimeError as err:
            if 'state_dict' not in str(err):
                raise
            raise InputError(
                f'checkpoint {filename} does not fit the model of this '
                f'config ({mismatch_summary(str(err))}); pass a checkpoint '
                'of this model, or set allow_partial_load=True (e.g. '
                '--cfg-options allow_partial_load=True) to load the matching '
                'weights only') from None
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
