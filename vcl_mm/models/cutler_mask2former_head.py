"""Image-stage Mask2Former head with the DropLoss switch."""
from typing import Optional

from mmdet.models.dense_heads import Mask2FormerHead
from vcl_mm.registry import MODELS
from .drop_loss import DropLossMixin, check_iou_thr
from .float32_matching import Float32MatchingMixin


@MODELS.register_module()
class CutLERMask2FormerHead(Float32MatchingMixin, DropLossMixin,
                            Mask2FormerHead):
    """mmdet's ``Mask2FormerHead`` with matching in float32 and DropLoss
    (CutLER's image stage).

    Matching (point costs, Hungarian assignment) runs in float32 with
    autocast off, as upstream's matcher: under float16 AMP mmdet's summed
    point costs overflow (:mod:`vcl_mm.models.float32_matching`).

    Subclassed because mmdet's targets push every unmatched query to "no
    object"; with ``drop_loss_iou_thr`` set, unmatched queries whose
    binarised mask (logit > 0, at the prediction's 1/4 resolution) has IoU
    at most the threshold with every pseudo-mask get class-loss weight 0
    (:mod:`vcl_mm.models.drop_loss`: IoU, normalisation as CutLER). With
    the default None everything else, checkpoint keys included, is mmdet's.

    Args:
        drop_loss_iou_thr (float, optional): None = off (the paper recipe);
            the ``*_droploss`` config uses 0.01 (CutLER's
            ``droploss_iou_thresh``).
        **kwargs: as :class:`mmdet.models.Mask2FormerHead`.
    """

    def __init__(self,
                 *args,
                 drop_loss_iou_thr: Optional[float] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.drop_loss_iou_thr = check_iou_thr(drop_loss_iou_thr,
                                               'drop_loss_iou_thr')
