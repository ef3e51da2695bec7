"""Re-size the classification layer of a pre-trained (class-agnostic)
checkpoint for fine-tuning with human labels.

VideoCutLER is trained with one class ('fg') + no-object, so its
``cls_embed`` is (2, C); YouTube-VIS needs (41, C). As detectron2 does in the
paper's fine-tuning (it skips weights whose shape differs), the whole layer is
initialised afresh (weight and bias, PyTorch's ``nn.Linear`` default init,
seeded) and every other weight is kept. Writing the new shapes, rather than
dropping the keys, lets the checkpoint load strictly.
"""
import torch

from vcl_mm.utils import InputError

CLASS_HEAD_KEYS = ('track_head.cls_embed', 'panoptic_head.cls_embed')


def resize_class_head(state_dict, num_classes, seed=0):
    """Return a copy of ``state_dict`` with a ``num_classes`` + 1 head.

    Args:
        state_dict (dict[str, Tensor]): model weights (mmdet names).
        num_classes (int): classes of the target dataset (no-object extra).
        seed (int): seed of the fresh initialisation.

    Returns:
        tuple[dict, list[str]]: the new state dict and the re-initialised
        key names.
    """
    prefix = next((p for p in CLASS_HEAD_KEYS
                   if f'{p}.weight' in state_dict), None)
    if prefix is None:
        raise InputError('checkpoint has no classification layer '
                         f'({" or ".join(k + ".weight" for k in CLASS_HEAD_KEYS)})'
                         '; is it a Mask2Former / VideoMask2Former model?')
    weight = state_dict[f'{prefix}.weight']
    generator = torch.Generator().manual_seed(seed)
    layer = torch.nn.Linear(weight.shape[1], num_classes + 1)
    with torch.no_grad():
        # nn.Linear's default init, drawn from a seeded generator.
        bound = 1 / weight.shape[1]**0.5
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    new = dict(state_dict)
    new[f'{prefix}.weight'] = layer.weight.detach().to(weight.dtype)
    new[f'{prefix}.bias'] = layer.bias.detach().to(weight.dtype)
    return new, [f'{prefix}.weight', f'{prefix}.bias']
