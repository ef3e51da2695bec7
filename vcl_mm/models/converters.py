"""Key maps from detectron2 / torchvision checkpoints to vcl_mm weights.

Used by the scripts in ``tools/model_converters/`` (their command line,
loading, strict check and saving: :mod:`vcl_mm.models.converters_cli`;
reading and checking state dicts: :mod:`vcl_mm.utils.state_dict`). Every
source key is either mapped, or dropped *by name with a reason*; anything
else, and any expected source key that is absent, raises
:class:`ConversionError` listing the names (a converted dict that does not
fit the model is refused by the strict check, naming the keys).

Source names follow the upstream model definitions (facebookresearch
Mask2Former ``MSDeformAttnPixelDecoder``,
``MultiScaleMaskedTransformerDecoder`` /
``VideoMultiScaleMaskedTransformerDecoder``, ``MSDeformAttn``; detectron2
``ResNet``); target names those of mmdet 3.x (``ResNet``,
``MSDeformAttnPixelDecoder``, ``Mask2FormerTransformerDecoder``,
``Mask2FormerHead`` / ``Mask2FormerTrackHead``).

Layers whose semantics differ, and why the mapping is still exact:

* ResNet norms: detectron2 ``FrozenBatchNorm2d`` (weight, bias,
  running_mean, running_var; eps 1e-5) become mmdet ``BN`` in eval mode
  with frozen parameters (``norm_eval=True``, eps 1e-5), the same affine
  map; ``num_batches_tracked`` (absent upstream) is set to 0. The recipes
  use ``style='pytorch'`` (stride in the 3x3 conv), as Mask2Former's R50
  (``STRIDE_IN_1X1: False``), torchvision and DINO.
* Pixel decoder ``input_proj.i`` (Conv2d + GroupNorm, res5 first) ->
  ``input_convs.i`` (ConvModule conv + gn, res5 first: same order);
  ``transformer.level_embed`` (an ``nn.Parameter`` (L, C)) ->
  ``level_encoding.weight`` (an ``nn.Embedding``): both are added to the
  sine position encoding of level i, low resolution first.
* ``MSDeformAttn`` -> mmcv ``MultiScaleDeformableAttention``: identical
  linear layouts (``sampling_offsets`` rows ordered heads x levels x points x
  (x, y), ``attention_weights`` heads x (levels x points) with one softmax
  per head, ``value_proj`` / ``output_proj`` C x C); mmcv adds the residual
  and dropout inside the module where detectron2 does it in the layer, and
  both normalise offsets by (W_l, H_l) from reference points at pixel
  centres. Encoder ``linear1/linear2/norm1/norm2`` -> ``ffn.layers.0.0`` /
  ``ffn.layers.1`` / ``norms.0`` / ``norms.1``.
* FPN ``adapter_1`` / ``layer_1`` (detectron2 Conv2d with a GN ``norm``) ->
  ``lateral_convs.0`` / ``output_convs.0`` (conv + gn); ``mask_features`` ->
  ``mask_feature``.
* Decoder layer i runs cross-attention, self-attention and FFN, each
  followed by its own LayerNorm: ``transformer_cross_attention_layers.i``
  -> ``cross_attn.attn`` + ``norms.0``, ``transformer_self_attention_layers
  .i`` -> ``self_attn.attn`` + ``norms.1``, ``transformer_ffn_layers.i`` ->
  ``ffn`` + ``norms.2``; ``nn.MultiheadAttention`` packing (q; k; v rows of
  ``in_proj_weight``) is unchanged. ``decoder_norm`` -> ``post_norm``.
* ``query_feat`` (learnable query content) and ``query_embed`` (learnable
  query position) keep their names and roles; ``level_embed`` too.
* ``class_embed`` (C + 1 rows, no-object *last*) -> ``cls_embed``: mmdet
  also treats the last row as no-object, so rows are not reordered.
* ``mask_embed.layers.{0,1,2}`` (MLP) -> ``mask_embed.{0,2,4}`` (Sequential
  with ReLUs at 1 and 3).
* Decoder ``input_proj.i`` is parameter-free (``nn.Sequential()``) when the
  pixel decoder width equals the decoder width, as in the R50 models
  (mmdet: ``nn.Identity``); a Conv2d one maps to ``decoder_input_projs.i``.
* Position encodings carry no weights; detectron2's ``PositionEmbeddingSine``
  / ``PositionEmbeddingSine3D`` (normalize, scale 2 pi, eps 1e-6,
  temperature 10000) compute what mmdet's ``SinePositionalEncoding`` /
  ``SinePositionalEncoding3D`` (offset 0) compute.
* Dropped: ``criterion.empty_weight`` (the no-object class weight of the
  loss, [1] * C + [0.1]: ``loss_cls.class_weight`` in our configs) and
  ``pixel_mean`` / ``pixel_std`` (the data preprocessor's ``mean`` /
  ``std``); DINO's projection ``head.*`` and the classifier ``fc.*``.
"""
import re
from collections import OrderedDict
from typing import Callable, Dict, Optional, Tuple

import torch

from vcl_mm.utils import InputError
from vcl_mm.utils.state_dict import format_keys, strip_prefixes

RESNET_STAGES = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
BN_STATS = ('weight', 'bias', 'running_mean', 'running_var')


class ConversionError(InputError):
    """A checkpoint does not convert cleanly (keys named in the message)."""


# ------------------------------------------------------------- key mapper
class KeyMapper:
    """Moves source tensors to target names and remembers what was used.

    Args:
        source (dict): ``{name: tensor}``.
    """

    def __init__(self, source: Dict[str, torch.Tensor]) -> None:
        self.source = source
        self.target: Dict[str, torch.Tensor] = OrderedDict()
        self.used = set()
        self.dropped: Dict[str, str] = OrderedDict()
        self.absent = []

    def has(self, key: str) -> bool:
        return key in self.source

    def move(
            self,
            src: str,
            dst: str,
            fn: Optional[Callable[[torch.Tensor],
                                  torch.Tensor]] = None) -> None:
        """Map ``src`` to ``dst`` (optionally transformed); a missing
        source key is recorded, not raised, so all are reported at once."""
        if src not in self.source:
            self.absent.append(src)
            return
        value = self.source[src]
        self.target[dst] = fn(value) if fn else value
        self.used.add(src)

    def put(self, dst: str, value: torch.Tensor) -> None:
        """Add a target tensor that has no source (e.g. BN counters)."""
        self.target[dst] = value

    def drop(self, src: str, reason: str) -> None:
        """Consume ``src`` without mapping it (kept in the report)."""
        if src in self.source:
            self.used.add(src)
            self.dropped[src] = reason

    def drop_matching(self, pattern: str, reason: str) -> None:
        """Drop every source key matching the regular expression."""
        for key in self.source:
            if re.match(pattern, key):
                self.drop(key, reason)

    def finish(self) -> Dict[str, torch.Tensor]:
        """The converted dict; raises if a source key was neither mapped
        nor dropped, or an expected source key was absent."""
        unused = [k for k in self.source if k not in self.used]
        problems = []
        if self.absent:
            problems.append(f'{len(self.absent)} expected source keys are '
                            f'missing: {format_keys(self.absent)}')
        if unused:
            problems.append(f'{len(unused)} source keys have no mapping: '
                            f'{format_keys(unused)}')
        if problems:
            raise ConversionError('; '.join(problems))
        return self.target


# ---------------------------------------------------------------- blocks
def _key_re(prefix: str, rest: str) -> str:
    """Regular expression: ``prefix`` literally, then ``rest``, then a
    dot."""
    return re.escape(prefix) + rest + r'\.'


def _count(source, pattern: str) -> int:
    """1 + the largest integer captured by ``pattern`` among the keys."""
    found = [
        int(m.group(1)) for k in source for m in [re.match(pattern, k)] if m
    ]
    return max(found) + 1 if found else 0


def _bn(mapper: KeyMapper, src: str, dst: str) -> None:
    for stat in BN_STATS:
        mapper.move(f'{src}.{stat}', f'{dst}.{stat}')
    if mapper.has(f'{src}.num_batches_tracked'):
        mapper.move(f'{src}.num_batches_tracked', f'{dst}.num_batches_tracked')
    else:
        mapper.put(f'{dst}.num_batches_tracked',
                   torch.tensor(0, dtype=torch.long))


def d2_resnet(mapper: KeyMapper, src: str, dst: str, depth: int = 50):
    """detectron2 ResNet (``stem.conv1``, ``res2.0.conv1.norm``,
    ``res2.0.shortcut``) -> mmdet ResNet (``conv1``, ``bn1``,
    ``layer1.0.bn1``, ``layer1.0.downsample.{0,1}``)."""
    mapper.move(f'{src}stem.conv1.weight', f'{dst}conv1.weight')
    _bn(mapper, f'{src}stem.conv1.norm', f'{dst}bn1')
    for stage, blocks in enumerate(RESNET_STAGES[depth]):
        for b in range(blocks):
            s = f'{src}res{stage + 2}.{b}'
            d = f'{dst}layer{stage + 1}.{b}'
            for i in (1, 2, 3):
                mapper.move(f'{s}.conv{i}.weight', f'{d}.conv{i}.weight')
                _bn(mapper, f'{s}.conv{i}.norm', f'{d}.bn{i}')
            if b == 0:
                mapper.move(f'{s}.shortcut.weight', f'{d}.downsample.0.weight')
                _bn(mapper, f'{s}.shortcut.norm', f'{d}.downsample.1')


def torchvision_resnet(mapper: KeyMapper, src: str, dst: str, depth: int = 50):
    """torchvision ResNet names -> mmdet ResNet (the same names; BN
    counters added when absent)."""
    mapper.move(f'{src}conv1.weight', f'{dst}conv1.weight')
    _bn(mapper, f'{src}bn1', f'{dst}bn1')
    for stage, blocks in enumerate(RESNET_STAGES[depth]):
        for b in range(blocks):
            s, d = f'{src}layer{stage + 1}.{b}', f'{dst}layer{stage + 1}.{b}'
            for i in (1, 2, 3):
                mapper.move(f'{s}.conv{i}.weight', f'{d}.conv{i}.weight')
                _bn(mapper, f'{s}.bn{i}', f'{d}.bn{i}')
            if b == 0:
                mapper.move(f'{s}.downsample.0.weight',
                            f'{d}.downsample.0.weight')
                _bn(mapper, f'{s}.downsample.1', f'{d}.downsample.1')


def _linear(mapper, src, dst):
    mapper.move(f'{src}.weight', f'{dst}.weight')
    mapper.move(f'{src}.bias', f'{dst}.bias')


def _attention(mapper, src, dst):
    """``nn.MultiheadAttention`` (same packing on both sides)."""
    for name in ('in_proj_weight', 'in_proj_bias', 'out_proj.weight',
                 'out_proj.bias'):
        mapper.move(f'{src}.{name}', f'{dst}.{name}')


def d2_pixel_decoder(mapper: KeyMapper, src: str, dst: str) -> None:
    """Mask2Former ``MSDeformAttnPixelDecoder`` -> mmdet's (see the module
    docstring for the semantics)."""
    for i in range(_count(mapper.source, _key_re(src, r'input_proj\.(\d+)'))):
        _linear(mapper, f'{src}input_proj.{i}.0', f'{dst}input_convs.{i}.conv')
        _linear(mapper, f'{src}input_proj.{i}.1', f'{dst}input_convs.{i}.gn')
    mapper.move(f'{src}transformer.level_embed', f'{dst}level_encoding.weight')
    enc = f'{src}transformer.encoder.layers'
    for i in range(_count(mapper.source, _key_re(enc, r'\.(\d+)'))):
        s, d = f'{enc}.{i}', f'{dst}encoder.layers.{i}'
        for name in ('sampling_offsets', 'attention_weights', 'value_proj',
                     'output_proj'):
            _linear(mapper, f'{s}.self_attn.{name}', f'{d}.self_attn.{name}')
        _linear(mapper, f'{s}.norm1', f'{d}.norms.0')
        _linear(mapper, f'{s}.linear1', f'{d}.ffn.layers.0.0')
        _linear(mapper, f'{s}.linear2', f'{d}.ffn.layers.1')
        _linear(mapper, f'{s}.norm2', f'{d}.norms.1')
    _linear(mapper, f'{src}mask_features', f'{dst}mask_feature')
    # detectron2 numbers the extra FPN levels from 1
    for i in range(1, _count(mapper.source, _key_re(src, r'adapter_(\d+)'))):
        mapper.move(f'{src}adapter_{i}.weight',
                    f'{dst}lateral_convs.{i - 1}.conv.weight')
        _linear(mapper, f'{src}adapter_{i}.norm',
                f'{dst}lateral_convs.{i - 1}.gn')
        mapper.move(f'{src}layer_{i}.weight',
                    f'{dst}output_convs.{i - 1}.conv.weight')
        _linear(mapper, f'{src}layer_{i}.norm',
                f'{dst}output_convs.{i - 1}.gn')


def d2_transformer_decoder(mapper: KeyMapper, src: str, dst: str) -> None:
    """Mask2Former (video) masked-attention decoder -> the mmdet head's
    ``transformer_decoder`` and query / class / mask embeddings."""
    layers = _count(mapper.source,
                    _key_re(src, r'transformer_ffn_layers\.(\d+)'))
    for i in range(layers):
        d = f'{dst}transformer_decoder.layers.{i}'
        cross = f'{src}transformer_cross_attention_layers.{i}'
        _attention(mapper, f'{cross}.multihead_attn', f'{d}.cross_attn.attn')
        _linear(mapper, f'{cross}.norm', f'{d}.norms.0')
        self_ = f'{src}transformer_self_attention_layers.{i}'
        _attention(mapper, f'{self_}.self_attn', f'{d}.self_attn.attn')
        _linear(mapper, f'{self_}.norm', f'{d}.norms.1')
        ffn = f'{src}transformer_ffn_layers.{i}'
        _linear(mapper, f'{ffn}.linear1', f'{d}.ffn.layers.0.0')
        _linear(mapper, f'{ffn}.linear2', f'{d}.ffn.layers.1')
        _linear(mapper, f'{ffn}.norm', f'{d}.norms.2')
    _linear(mapper, f'{src}decoder_norm',
            f'{dst}transformer_decoder.post_norm')
    for name in ('query_feat', 'query_embed', 'level_embed'):
        mapper.move(f'{src}{name}.weight', f'{dst}{name}.weight')
    for i in range(_count(mapper.source, _key_re(src, r'input_proj\.(\d+)'))):
        _linear(mapper, f'{src}input_proj.{i}',
                f'{dst}decoder_input_projs.{i}')
    _linear(mapper, f'{src}class_embed', f'{dst}cls_embed')
    for i in range(3):
        _linear(mapper, f'{src}mask_embed.layers.{i}',
                f'{dst}mask_embed.{2 * i}')


# ------------------------------------------------------------ converters
def convert_mask2former_d2(
        source: Dict[str, torch.Tensor],
        head: str = 'track_head',
        depth: int = 50) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """A detectron2 (Video)Mask2Former R50 state dict -> mmdet names.

    Args:
        source (dict): ``backbone.*``, ``sem_seg_head.pixel_decoder.*``,
            ``sem_seg_head.predictor.*`` (+ ``criterion.empty_weight``, ...).
        head (str): target head attribute: ``'track_head'`` (VideoCutLER /
            ``Mask2FormerVideo``) or ``'panoptic_head'`` (image
            ``Mask2Former``).
        depth (int): ResNet depth.

    Returns:
        tuple: the converted state dict and ``{dropped key: reason}``.
    """
    mapper = KeyMapper(source)
    d2_resnet(mapper, 'backbone.', 'backbone.', depth)
    d2_pixel_decoder(mapper, 'sem_seg_head.pixel_decoder.',
                     f'{head}.pixel_decoder.')
    d2_transformer_decoder(mapper, 'sem_seg_head.predictor.', f'{head}.')
    mapper.drop('criterion.empty_weight',
                'loss constant (no-object weight): loss_cls.class_weight')
    for name in ('pixel_mean', 'pixel_std'):
        mapper.drop(name, 'input normalisation: data_preprocessor mean/std')
    return mapper.finish(), mapper.dropped


def convert_resnet(
        source: Dict[str, torch.Tensor],
        depth: int = 50) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """A ResNet checkpoint in detectron2 or torchvision names -> mmdet
    ``ResNet`` keys (no prefix, for ``init_cfg`` of a backbone).

    ``module.`` / ``backbone.`` prefixes are removed first (DINO saves its
    networks as ``module.backbone.*`` beside ``module.head.*``); the
    classifier ``fc.*`` and DINO's projection ``head.*`` are dropped.

    Returns:
        tuple: the converted state dict and ``{dropped key: reason}``.
    """
    state = strip_prefixes(source, ('module.', 'backbone.'))
    mapper = KeyMapper(state)
    if mapper.has('stem.conv1.weight'):
        d2_resnet(mapper, '', '', depth)
    elif mapper.has('conv1.weight'):
        torchvision_resnet(mapper, '', '', depth)
    else:
        raise ConversionError(
            'not a ResNet checkpoint: neither detectron2 (stem.conv1.weight)'
            ' nor torchvision (conv1.weight) names; first keys: ' +
            format_keys(list(state)[:8]))
    mapper.drop_matching(r'fc\.', 'ImageNet classifier, not in the backbone')
    mapper.drop_matching(r'head\.', 'DINO projection head, not in the '
                         'backbone')
    return mapper.finish(), mapper.dropped
