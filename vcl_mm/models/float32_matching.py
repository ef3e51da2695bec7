"""Hungarian matching of Mask2Former heads in float32 with autocast off.

The official matchers (VideoCutLER ``mask2former_video/modeling/matcher.py``
and ``mask2former/modeling/matcher.py``) compute their mask costs under
``autocast(enabled=False)`` on ``.float()`` inputs. mmdet's heads run the
``HungarianAssigner`` inside the autocast that the AMP optim wrapper opens
around the whole forward, where the point costs (``einsum`` over 12544
points per frame, 37,632 for a 3-frame clip) are summed in float16: a
target covering ~15k points gives ``+inf`` for every background query, the
dice numerator overflows once a target covers most points (``nan``), and
scipy then refuses the cost matrix.
"""
import torch
from torch import Tensor


class Float32MatchingMixin:
    """Runs a Mask2Former head's ``_get_targets_single`` (point sampling,
    matching costs, Hungarian assignment and, when on, DropLoss's IoU) on
    float32 copies of the predictions with autocast disabled, as upstream.

    Put it first in the bases of a head derived from mmdet's
    ``Mask2FormerHead`` / ``Mask2FormerTrackHead``. Only the targets are
    computed here; the losses still use the original (autocast) predictions,
    so the inputs are detached (no gradient flows through matching, as in
    upstream's ``@torch.no_grad`` matcher). At float32 without autocast the
    targets are exactly the parent's.
    """

    def _get_targets_single(self, cls_score: Tensor, mask_pred: Tensor,
                            gt_instances, img_meta: dict):
        with torch.autocast(device_type=cls_score.device.type, enabled=False):
            return super()._get_targets_single(cls_score.detach().float(),
                                               mask_pred.detach().float(),
                                               gt_instances, img_meta)
