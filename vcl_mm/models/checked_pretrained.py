"""Pretrained-weight initialisation that fails loudly."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmengine.runner.checkpoint import _load_checkpoint

from vcl_mm.registry import WEIGHT_INITIALIZERS
from vcl_mm.utils import InputError
from vcl_mm.utils.state_dict import check_fits


@WEIGHT_INITIALIZERS.register_module(name='CheckedPretrained')
class CheckedPretrainedInit:
    """Like mmengine's ``Pretrained`` init, but a missing file or any key or
    shape mismatch is an :class:`~vcl_mm.utils.InputError` naming the keys.

    mmengine's ``Pretrained`` loads with ``strict=False`` and only logs what
    did not match, so a wrong checkpoint (another architecture, an
    unconverted detectron2 file) silently leaves the backbone random; here
    the shared strict check (:func:`vcl_mm.utils.state_dict.check_fits`)
    names the keys. Used for the self-supervised ResNet-50 of the image
    stage.

    Args:
        checkpoint (str): checkpoint path (a local file or a URL).
        prefix (str, optional): load only the keys under this prefix (with
            it removed), e.g. ``'backbone.'`` of a detector checkpoint.
        map_location (str): as in ``torch.load``. Default ``'cpu'``.
        ignore_suffixes (Sequence[str]): module keys that may be absent
            from the checkpoint. Default ``('num_batches_tracked', )``.
        config_key (str): the config key users should fix, for messages.
        hint (str, optional): how to make the checkpoint, for messages.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu',
                 ignore_suffixes: Sequence[str] = ('num_batches_tracked', ),
                 config_key: str = 'init_cfg.checkpoint',
                 hint: Optional[str] = None) -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location
        self.ignore_suffixes = tuple(ignore_suffixes)
        self.config_key = config_key
        self.hint = hint

    def _fail(self, problem: str) -> InputError:
        msg = f'{problem} (set {self.config_key}'
        if self.hint:
            msg += f'; {self.hint}'
        return InputError(msg + ')')

    def __call__(self, module) -> None:
        path = self.checkpoint
        if not path or ('://' not in str(path) and not osp.isfile(path)):
            raise self._fail(f'pretrained checkpoint not found: {path}')
        ckpt = _load_checkpoint(path, map_location=self.map_location)
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt,
                                                           dict) else None
        if not isinstance(state, dict):
            raise self._fail(f'{path} holds no state dict')
        state = {
            k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()
        }
        if self.prefix:
            state = {
                k[len(self.prefix):]: v
                for k, v in state.items() if k.startswith(self.prefix)
            }
        check_fits(
            state,
            module,
            what=type(module).__name__,
            source=path,
            hint=f'set {self.config_key}' +
            (f'; {self.hint}' if self.hint else ''),
            may_lack=self.ignore_suffixes)
        print_log(
            f'loaded {len(state)} tensors from {path} into '
            f'{type(module).__name__}',
            logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(
                module, init_info=f'CheckedPretrained: load from {path}')
