"""MSDeformAttn pixel decoder that always runs in float32."""
from typing import List, Tuple

import torch
from torch import Tensor

from mmdet.models.layers import MSDeformAttnPixelDecoder
from vcl_mm.registry import MODELS


@MODELS.register_module()
class FP32MSDeformAttnPixelDecoder(MSDeformAttnPixelDecoder):
    """``MSDeformAttnPixelDecoder`` with autocast switched off.

    Subclassed because upstream Mask2Former runs its deformable pixel
    decoder in float32 under AMP ("deformable detr does not support half
    precision"), while mmdet's would follow autocast into float16 /
    bfloat16. Same parameters and keys as the parent; outputs are float32.
    """

    def forward(self, feats: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:
        """See :meth:`MSDeformAttnPixelDecoder.forward`; ``feats`` are cast
        to float32 and autocast is disabled inside."""
        device = feats[0].device.type
        with torch.autocast(device_type=device, enabled=False):
            return super().forward([f.float() for f in feats])
