"""Mixed precision on the device the run actually uses."""
import logging
from contextlib import contextmanager
from typing import Dict, Optional

import torch
from mmengine.device import get_device
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner.amp import autocast

from vcl_mm.registry import OPTIM_WRAPPERS
from vcl_mm.utils import InputError

NONFINITE_LOSS_MODES = ('skip', 'raise', 'backward')


# Also registered as 'AmpOptimWrapper': that is what mmdet's
# `tools/train.py --amp` asks for, and in the vcl_mm scope it must be this.
@OPTIM_WRAPPERS.register_module(
    name=['DeviceAmpOptimWrapper', 'AmpOptimWrapper'])
class DeviceAmpOptimWrapper(AmpOptimWrapper):
    """AMP that also runs on CPU (mmengine's ``AmpOptimWrapper`` asserts a GPU).

    * CUDA / NPU / MLU: exactly mmengine's ``AmpOptimWrapper`` (float16 autocast
      by default, dynamic loss scaling).
    * CPU: bfloat16 autocast and no loss scaler (bfloat16 has float32's
      exponent range, so gradients do not underflow).
    * A non-finite loss (``nan`` / ``inf``, on any process) skips the
      backward pass and the optimizer step of that iteration
      (``nonfinite_loss``; mmengine would back-propagate it, and without a
      loss scaler the clipped ``nan`` gradients would overwrite every
      weight).

    Args:
        loss_scale (str | float | dict): loss scaling on accelerators, as in
            ``AmpOptimWrapper``. Ignored on CPU.
        dtype (str | torch.dtype, optional): autocast dtype. Defaults to
            float16 on accelerators and bfloat16 on CPU (the only dtype CPU
            autocast supports).
        device (str, optional): device type; defaults to mmengine's
            ``get_device()``, i.e. where the runner puts the model.
        nonfinite_loss (str): what an iteration whose loss is not finite on
            some process does (all processes decide alike, so distributed
            training stays in step):

            * ``'skip'`` (default): no backward and no optimizer step;
              counted in ``nonfinite_losses``, logged as a warning, training
              goes on.
            * ``'raise'``: stop with a ``FloatingPointError`` naming the
              iteration's loss, which is what upstream's trainer ends up
              doing: it skips ``backward`` on ``nan``, but detectron2's
              ``write_metrics`` then raises on the non-finite loss before
              the step.
            * ``'backward'``: mmengine's behaviour (back-propagate anyway).
        **kwargs: passed to ``OptimWrapper`` (optimizer, clip_grad, ...).
    """

    def __init__(self,
                 loss_scale='dynamic',
                 dtype=None,
                 device=None,
                 nonfinite_loss: str = 'skip',
                 **kwargs):
        if nonfinite_loss not in NONFINITE_LOSS_MODES:
            raise InputError(
                f'optim_wrapper.nonfinite_loss={nonfinite_loss!r} is not one '
                f'of {NONFINITE_LOSS_MODES}')
        self.nonfinite_loss = nonfinite_loss
        self.nonfinite_losses = 0
        self.device_type = device or get_device()
        if self.device_type != 'cpu':
            super().__init__(loss_scale=loss_scale, dtype=dtype, **kwargs)
            return
        OptimWrapper.__init__(self, **kwargs)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype not in (None, torch.bfloat16):
            raise InputError(
                f'optim_wrapper.dtype={dtype} is not supported on CPU: CPU '
                'autocast runs in bfloat16 only; drop the dtype or set '
                "optim_wrapper.dtype='bfloat16'")
        self.cast_dtype = torch.bfloat16
        self.loss_scaler = None
        self._scale_update_param = None

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """mmengine's update, except on a non-finite loss (see
        ``nonfinite_loss``). Skipping: no backward; the accumulation
        counter advances and an accumulation boundary steps only on the
        gradients of earlier finite iterations, if any."""
        if (self.nonfinite_loss == 'backward'
                or self._loss_is_finite(loss)):
            return super().update_params(loss, step_kwargs, zero_kwargs)
        if self.nonfinite_loss == 'raise':
            raise FloatingPointError(
                f'non-finite loss {float(loss.detach()):g} (here or on '
                "another process); optim_wrapper.nonfinite_loss='skip' "
                'skips such iterations')
        self.nonfinite_losses += 1
        print_log(
            f'non-finite loss {float(loss.detach()):g} (here or on another '
            'process): backward and optimizer step skipped '
            f'({self.nonfinite_losses} so far)',
            logger='current',
            level=logging.WARNING)
        self._inner_count += 1
        if self.should_update():
            if any(p.grad is not None for group in self.param_groups
                   for p in group['params']):
                self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))

    @staticmethod
    def _loss_is_finite(loss: torch.Tensor) -> bool:
        """True when the loss is finite on every process."""
        bad = (~torch.isfinite(loss.detach())).any().float().reshape(1)
        all_reduce(bad, op='max')
        return not bool(bad.item())

    def backward(self, loss, **kwargs):
        if self.loss_scaler is None:
            return OptimWrapper.backward(self, loss, **kwargs)
        return super().backward(loss, **kwargs)

    def step(self, **kwargs):
        if self.loss_scaler is None:
            return OptimWrapper.step(self, **kwargs)
        return super().step(**kwargs)

    def state_dict(self):
        if self.loss_scaler is None:
            return OptimWrapper.state_dict(self)
        return super().state_dict()

    def load_state_dict(self, state_dict):
        if self.loss_scaler is None:
            # A checkpoint written on a GPU carries the scaler state: not
            # needed without loss scaling.
            state_dict.pop('loss_scaler', None)
            if 'base_param_settings' in state_dict:
                self.base_param_settings = state_dict.pop(
                    'base_param_settings')
            self.optimizer.load_state_dict(state_dict)
            return
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model):
        with OptimWrapper.optim_context(self, model), autocast(
                device_type=self.device_type, dtype=self.cast_dtype):
            yield
