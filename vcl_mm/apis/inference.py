"""Build a VideoCutLER model from a config and track a whole video with it.

:func:`track_video` streams a :class:`~vcl_mm.apis.video_io.VideoSource`
through the model's windowed inference: frames are decoded and normalised
one window at a time, and track masks wait as compressed RLE, so memory
stays flat however long the video is.
"""
import numpy as np
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample, TrackDataSample
from tqdm import tqdm

from vcl_mm.utils import InputError, require_file


def init_video_model(config, checkpoint, device='cpu', cfg_options=None):
    """A ``VideoCutLER`` model in eval mode with weights loaded.

    Args:
        config (str): config file (its ``model`` must be ``VideoCutLER``).
        checkpoint (str): checkpoint file.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:1'`` ...
        cfg_options (dict, optional): config overrides.

    Returns:
        tuple: the model and the loaded config.
    """
    from mmdet.registry import MODELS

    from vcl_mm.utils import register_all_modules, register_checkpoint_loader
    from vcl_mm.utils.launch import load_config
    register_all_modules(init_default_scope=True)
    register_checkpoint_loader()
    cfg = load_config(config, cfg_options)
    require_file(checkpoint, 'checkpoint',
                 'train one with tools/train.py or convert released weights '
                 'with tools/model_converters/')
    if cfg.model.get('type') != 'VideoCutLER':
        raise InputError(f'{config}: model.type is {cfg.model.get("type")}, '
                         "the video demo needs 'VideoCutLER'")
    model = MODELS.build(cfg.model)
    load_weights_strictly(model, checkpoint, f'model of {config}')
    return model.to(device).eval(), cfg


def load_weights_strictly(model, checkpoint, what='model', before_load=None):
    """Load a checkpoint's weights into ``model``, refusing any mismatch.

    mmengine's ``load_checkpoint(strict=False)`` only logs missing and
    unexpected keys, so another model's checkpoint would run with random
    weights; here every missing, unexpected or mis-shaped key is named.

    Args:
        model (torch.nn.Module): the model.
        checkpoint (str): local checkpoint file (an mmengine checkpoint
            with ``state_dict``, or a bare state dict; ``module.`` prefixes
            of wrapped models are removed).
        what (str): names the model in messages.
        before_load (callable, optional): called with the checkpoint dict
            once read, before its weights go into the model (tools/test.py
            runs the runner's ``after_load_checkpoint`` hooks there, where
            mmengine's own loading runs them).

    Returns:
        dict: the checkpoint as read (mmengine's dict or the bare state
        dict).

    Raises:
        InputError: the file is not a checkpoint, holds no weights, or its
            weights do not fit ``model``.
    """
    from vcl_mm.utils.checkpoint import load_local_checkpoint
    from vcl_mm.utils.state_dict import check_fits
    ckpt = load_local_checkpoint(checkpoint, map_location='cpu')
    if before_load is not None and isinstance(ckpt, dict):
        before_load(ckpt)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not any(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f'checkpoint {checkpoint} holds no model weights '
                         '(no state_dict of tensors); pass a checkpoint '
                         'saved by tools/train.py or a converter')
    state = {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state.items() if isinstance(v, torch.Tensor)
    }
    check_fits(
        state,
        model,
        what=what,
        source=f'checkpoint {checkpoint}',
        hint='pass a checkpoint trained with this config, or convert '
        'released weights with tools/model_converters/')
    return ckpt


class WindowFrames:
    """The frames of a video as the model's input, decoded on demand.

    Indexing with a slice ``[start:end]`` reads, resizes (short side
    ``short_side``, long side at most ``max_long``), normalises and pads
    (to the data preprocessor's size divisor) those frames only.

    Args:
        source (VideoSource): the video.
        model (VideoCutLER): its ``data_preprocessor`` gives mean, std and
            padding.
        short_side (int): test resolution (360 in the paper).
        max_long (int): cap of the long side.
        progress (callable, optional): called with the number of frames
            each read adds (e.g. a tqdm bar's ``update``).
    """

    def __init__(self, source, model, short_side=360, max_long=1333,
                 progress=None):
        self.source = source
        self.progress = progress
        pre = model.data_preprocessor
        self.mean = pre.mean.view(1, 3, 1, 1)
        self.std = pre.std.view(1, 3, 1, 1)
        self.device = self.mean.device
        divisor = pre.pad_size_divisor
        h, w = source.height, source.width
        scale = min(short_side / min(h, w), max_long / max(h, w))
        self.img_shape = (int(round(h * scale)), int(round(w * scale)))
        self.pad_shape = tuple(
            int(np.ceil(s / divisor) * divisor) for s in self.img_shape)
        self.scale_factor = (self.img_shape[1] / w, self.img_shape[0] / h)

    def __len__(self):
        return len(self.source)

    def __getitem__(self, span):
        if not isinstance(span, slice) or span.step not in (None, 1):
            raise TypeError('WindowFrames supports [start:end] only')
        start, end, _ = span.indices(len(self))
        frames = np.stack(self.source.read(start, end))  # RGB
        if self.progress is not None:
            self.progress(len(frames))
        x = torch.from_numpy(frames).to(self.device).permute(0, 3, 1, 2)
        x = F.interpolate(x.float(), size=self.img_shape, mode='bilinear',
                          align_corners=False)
        x = (x - self.mean) / self.std
        pad_h = self.pad_shape[0] - self.img_shape[0]
        pad_w = self.pad_shape[1] - self.img_shape[1]
        return F.pad(x, (0, pad_w, 0, pad_h))

    def metainfo(self):
        """The per-frame meta the model's upsampling needs."""
        return dict(
            img_shape=self.img_shape,
            ori_shape=(self.source.height, self.source.width),
            pad_shape=self.pad_shape,
            batch_input_shape=self.pad_shape,
            scale_factor=self.scale_factor)


@torch.no_grad()
def track_video(model, source, window_size=30, window_overlap=4,
                short_side=360, linker=None):
    """Track every object of a video in bounded memory.

    Args:
        model (VideoCutLER): built by :func:`init_video_model`.
        source (VideoSource): the video (at least 2 frames).
        window_size (int): frames per forward pass.
        window_overlap (int): frames shared by consecutive windows.
        short_side (int): test resolution.
        linker (str, optional): how windows are linked into tracks:
            ``'mask_iou'`` (soft mask IoU on the shared frames) or
            ``'query_embed'`` (cosine similarity of the decoder's query
            embeddings, MinVIS); None = the model's ``test_cfg.linker``.

    Returns:
        tuple: a ``FrameMaskStore`` (compressed masks at the original size),
        the chosen track rows (K,), their labels (K,) and scores (K,).
        ``store.frame(t, rows)`` decodes frame ``t``: (K, H, W) bool.
    """
    if len(source) < 2:
        raise InputError(
            f'{source.path} has {len(source)} frame: VideoCutLER tracks '
            'objects over time and needs a video of at least 2 frames '
            '(for a single image use MaskCut, tools/maskcut.py)')
    window = max(2, min(window_size, len(source)))
    with tqdm(total=len(source), desc='tracking', unit='frame') as bar:
        frames = WindowFrames(source, model, short_side, progress=bar.update)
        video = TrackDataSample()
        video.video_data_samples = [
            DetDataSample(metainfo=frames.metainfo())
        ]
        return model.track_windowed(frames, video, rescale=True,
                                    window_size=window,
                                    window_overlap=window_overlap,
                                    linker=linker)
