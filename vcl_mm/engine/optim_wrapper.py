"""Mixed precision on the device the run actually uses."""
from contextlib import contextmanager

import torch
from mmengine.device import get_device
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner.amp import autocast

from vcl_mm.registry import OPTIM_WRAPPERS
from vcl_mm.utils import InputError



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

    Args:
        loss_scale (str | float | dict): loss scaling on accelerators, as in
            ``AmpOptimWrapper``. Ignored on CPU.
        dtype (str | torch.dtype, optional): autocast dtype. Defaults to
            float16 on accelerators and bfloat16 on CPU (the only dtype CPU
            autocast supports).
        device (str, optional): device type; defaults to mmengine's
            ``get_device()``, i.e. where the runner puts the model.
        **kwargs: passed to ``OptimWrapper`` (optimizer, clip_grad, ...).
    """

    def __init__(self, loss_scale='dynamic', dtype=None, device=None,
                 **kwargs):
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
