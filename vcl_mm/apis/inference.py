"""Build a VideoCutLER model from a config and track a whole video with it.

:func:`track_video` streams a :class:`~vcl_mm.apis.video_io.VideoSource`
through the model's windowed inference: frames are decoded, resized and
normalised one window at a time, and track masks wait as compressed RLE, so
memory stays flat however long the video is.

The streaming input is the test pipeline's, tensor for tensor: each frame
goes through the ``Resize`` step of the config's test pipeline
(:func:`resize_from_test_pipeline`: the same transform built from the same
config) and then the model's own data preprocessor, as a test-pipeline
sample does.
"""
import copy

import numpy as np
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from tqdm import tqdm

from vcl_mm.utils import InputError, require_file

#: the official test input (short side 360, long side <= 1333, detectron2's
#: PIL bilinear test resize), streamed for configs that carry no test
#: pipeline (the training recipes), as the official demo resizes with the
#: training config's ``INPUT.MIN_SIZE_TEST`` / ``MAX_SIZE_TEST``
OFFICIAL_TEST_INPUT = '_base_/datasets/video_test.py'

# test-pipeline steps the streaming path reproduces: frames are read as
# stored (VideoSource, no EXIF rotation) and packed; annotations are not
# needed; anything else would change the pixels and is refused
_READ_STEPS = ('LoadImageFromFile', 'LoadTrackAnnotations',
               'LoadAnnotations', 'PackTrackInputs', 'PackDetInputs')


def load_video_config(config, cfg_options=None):
    """The config of a video model, from a file, a package name or a Config.

    Args:
        config (str | mmengine.Config): a config file, a package config name
            resolved by mmengine (``'vcl_mm::videocutler/...'``), or a
            loaded config (copied, not changed).
        cfg_options (dict, optional): config overrides.

    Returns:
        mmengine.Config: with its recipe variables resolved.
    """
    from mmengine.config import Config

    from vcl_mm.utils import resolve_variables
    from vcl_mm.utils.launch import load_config
    if not isinstance(config, Config):
        return load_config(config, cfg_options)
    cfg = copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return resolve_variables(cfg)


def init_video_model(config, checkpoint, device='cpu', cfg_options=None):
    """A ``VideoCutLER`` model in eval mode with weights loaded.

    Args:
        config (str | mmengine.Config): config file, package config name
            (``'vcl_mm::...'``) or config (:func:`load_video_config`); its
            ``model`` must be ``VideoCutLER``.
        checkpoint (str): checkpoint file.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:1'`` ...
        cfg_options (dict, optional): config overrides.

    Returns:
        tuple: the model and the loaded config. The model keeps the config
        as ``model.cfg`` (as mmdet's ``init_detector``): :func:`track_video`
        takes its test input from it.
    """
    from vcl_mm.registry import MODELS

    from vcl_mm.utils import register_all_modules, register_checkpoint_loader
    register_all_modules(init_default_scope=True)
    register_checkpoint_loader()
    cfg = load_video_config(config, cfg_options)
    require_file(checkpoint, 'checkpoint',
                 'train one with tools/train.py or convert released weights '
                 'with tools/model_converters/')
    if cfg.model.get('type') != 'VideoCutLER':
        raise InputError(f'{config}: model.type is {cfg.model.get("type")}, '
                         "the video demo needs 'VideoCutLER'")
    model = MODELS.build(cfg.model)
    load_weights_strictly(model, checkpoint, f'model of {config}')
    model.cfg = cfg
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


def _step_type(step):
    """A pipeline step's type without a scope prefix (``mmdet.Resize``)."""
    kind = step.get('type')
    return kind.split('.')[-1] if isinstance(kind, str) else \
        getattr(kind, '__name__', str(kind))


def _frame_steps(pipeline):
    """The per-frame steps of a pipeline, through ``TransformBroadcaster``
    (a video test pipeline applies its frame steps to every frame)."""
    for step in pipeline or []:
        if _step_type(step) == 'TransformBroadcaster':
            yield from _frame_steps(step.get('transforms'))
        else:
            yield step


def _config_test_pipeline(cfg):
    """The test pipeline of a config, or None where it has none."""
    loader = cfg.get('test_dataloader') or {}
    dataset = loader.get('dataset') or {}
    while 'pipeline' not in dataset and isinstance(
            dataset.get('dataset'), dict):
        dataset = dataset['dataset']  # through dataset wrappers
    return dataset.get('pipeline') or cfg.get('test_pipeline')


def _official_test_pipeline():
    """The official test input's frame steps (:data:`OFFICIAL_TEST_INPUT`),
    read as a packaged ``vcl_mm::`` config."""
    from vcl_mm.utils.launch import load_config
    return [load_config(f'vcl_mm::{OFFICIAL_TEST_INPUT}').test_frame_steps]


def resize_from_test_pipeline(cfg, short_side=None):
    """The ``Resize`` step of a config's video test pipeline.

    Streaming applies this very transform, so the demo, :func:`track_video`
    and self-training see the pixels ``tools/test.py`` sees. A config
    without a test pipeline (a training recipe) streams the official test
    input (:data:`OFFICIAL_TEST_INPUT`).

    Args:
        cfg (mmengine.Config): the model's config.
        short_side (int, optional): replaces the short side of the step's
            ``scale`` (its long-side cap stays); None keeps the config's.

    Returns:
        tuple: the ``Resize`` config (dict) and where it came from (str).

    Raises:
        InputError: the test pipeline has no ``Resize``, several, or a step
            that changes pixels which streaming does not apply, or
            ``short_side`` does not fit the step.
    """
    pipeline = _config_test_pipeline(cfg)
    where = 'the test pipeline of the config'
    if not pipeline:
        pipeline = _official_test_pipeline()
        where = (f'the official test input ({OFFICIAL_TEST_INPUT}; the '
                 'config has no test pipeline)')
    resizes = []
    for step in _frame_steps(pipeline):
        kind = _step_type(step)
        if kind == 'Resize':
            resizes.append(dict(step))
        elif kind not in _READ_STEPS:
            raise InputError(
                f'{where} has a {kind} step, which streaming inference does '
                f'not apply (it reads frames, then applies {where}\'s '
                'Resize and the model\'s data preprocessor); test such a '
                'config with tools/test.py')
    if len(resizes) != 1:
        raise InputError(
            f'{where} has {len(resizes)} Resize steps; streaming inference '
            'needs exactly one (short side and long-side cap of the frames)')
    resize = resizes[0]
    if short_side is not None:
        if not isinstance(resize.get('scale'), (tuple, list)) or \
                not resize.get('keep_ratio'):
            raise InputError(
                f'short side {short_side} cannot be applied: the Resize of '
                f'{where} is {resize} (needs keep_ratio=True and a '
                '(long, short) scale)')
        long_cap = max(resize['scale'])
        if not 0 < short_side <= long_cap:
            raise InputError(
                f'short side {short_side} must be in [1, {long_cap}] (the '
                f'long-side cap of {where})')
        resize['scale'] = (long_cap, int(short_side))
        where += f', short side {short_side}'
    return resize, where


class WindowFrames:
    """The frames of a video as the model's input, decoded on demand.

    Indexing with a slice ``[start:end]`` reads those frames only and
    turns them into what the test pipeline and the model's data
    preprocessor make of the same frames: the test pipeline's ``Resize``
    (:func:`resize_from_test_pipeline`) on each frame (in BGR, as
    ``LoadImageFromFile`` gives it), then ``model.data_preprocessor``
    (channel order, normalisation, padding).

    Args:
        source (VideoSource): the video (RGB frames).
        model (VideoCutLER): its ``data_preprocessor`` runs on each window.
        resize (dict): the ``Resize`` transform config.
        progress (callable, optional): called with the number of frames
            each read adds (e.g. a tqdm bar's ``update``).
    """

    def __init__(self, source, model, resize, progress=None):
        from mmdet.registry import TRANSFORMS
        self.source = source
        self.progress = progress
        self.preprocessor = model.data_preprocessor
        self.resize = TRANSFORMS.build(copy.deepcopy(resize))
        h, w = source.height, source.width
        probe = self._resize_one(np.zeros((h, w, 3), np.uint8))
        self.img_shape = tuple(probe['img_shape'][:2])
        divisor = self.preprocessor.pad_size_divisor
        self.pad_shape = tuple(
            int(np.ceil(s / divisor) * divisor) if divisor > 1 else s
            for s in self.img_shape)
        sx, sy = probe['scale_factor']
        self.scale_factor = (float(sx), float(sy))

    def _resize_one(self, frame):
        h, w = frame.shape[:2]
        return self.resize(dict(img=frame, img_shape=(h, w),
                                ori_shape=(h, w)))

    def __len__(self):
        return len(self.source)

    def __getitem__(self, span):
        if not isinstance(span, slice) or span.step not in (None, 1):
            raise TypeError('WindowFrames supports [start:end] only')
        start, end, _ = span.indices(len(self))
        frames = self.source.read(start, end)  # RGB
        if self.progress is not None:
            self.progress(len(frames))
        # BGR, as LoadImageFromFile: the preprocessor converts it
        resized = np.stack([
            self._resize_one(np.ascontiguousarray(f[..., ::-1]))['img']
            for f in frames
        ])
        x = torch.from_numpy(resized).permute(0, 3, 1, 2)
        return self.preprocessor(dict(inputs=[x], data_samples=None),
                                 False)['inputs'][0]

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
                short_side=None, linker=None, cfg=None, progress=True):
    """Track every object of a video in bounded memory.

    Args:
        model (VideoCutLER): built by :func:`init_video_model`.
        source (VideoSource): the video (at least 2 frames).
        window_size (int): frames per forward pass.
        window_overlap (int): frames shared by consecutive windows.
        short_side (int, optional): test resolution; None: the config's
            test pipeline (:func:`resize_from_test_pipeline`).
        linker (str, optional): how windows are linked into tracks:
            ``'mask_iou'`` (soft mask IoU on the shared frames) or
            ``'query_embed'`` (cosine similarity of the decoder's query
            embeddings, MinVIS); None = the model's ``test_cfg.linker``.
        cfg (mmengine.Config, optional): the model's config; None:
            ``model.cfg`` (set by :func:`init_video_model`).
        progress (bool): show a progress bar.

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
    cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('track_video needs the model\'s config for its '
                         'test input: build the model with init_video_model '
                         'or pass cfg=')
    resize, _ = resize_from_test_pipeline(cfg, short_side)
    window = max(2, min(window_size, len(source)))
    with tqdm(total=len(source), desc='tracking', unit='frame',
              disable=not progress) as bar:
        frames = WindowFrames(source, model, resize, progress=bar.update)
        video = TrackDataSample()
        video.video_data_samples = [
            DetDataSample(metainfo=frames.metainfo())
        ]
        return model.track_windowed(frames, video, rescale=True,
                                    window_size=window,
                                    window_overlap=window_overlap,
                                    linker=linker)
