"""Test loop with the official test precision per device."""
from typing import Union

from vcl_mm.registry import LOOPS
from mmengine.runner import TestLoop


def wants_fp16(model) -> bool:
    """True when the model's parameters live on a CUDA device."""
    param = next(model.parameters(), None)
    return param is not None and param.device.type == 'cuda'


@LOOPS.register_module()
class DeviceAutocastTestLoop(TestLoop):
    """``TestLoop`` whose ``fp16='auto'`` means float16 autocast on CUDA and
    float32 elsewhere.

    Subclassed because mmengine's ``fp16=True`` autocasts on CPU too (in
    bfloat16), while upstream (``train_net_video.py``) tests under CUDA
    float16 autocast only; the pixel decoder stays float32 through
    :class:`~vcl_mm.models.FP32MSDeformAttnPixelDecoder`.

    Args:
        runner, dataloader, evaluator: as ``TestLoop``.
        fp16 (bool | str): ``'auto'`` (default), True or False.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator,
                 fp16: Union[bool, str] = 'auto') -> None:
        if fp16 not in ('auto', True, False):
            raise ValueError(f"fp16 must be 'auto', True or False, got "
                             f'{fp16!r}')
        super().__init__(runner, dataloader, evaluator, fp16=False)
        self.fp16_mode = fp16

    def run(self):
        """Pick the precision from the model's device, then test."""
        self.fp16 = wants_fp16(self.runner.model) \
            if self.fp16_mode == 'auto' else bool(self.fp16_mode)
        return super().run()
