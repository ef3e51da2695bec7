"""Converters on synthetic upstream state dicts.

The source dicts are built from tables of upstream names and shapes written
here (detectron2 ResNet, Mask2Former ``MSDeformAttnPixelDecoder`` and
masked-attention decoder of the R50 models: 256 channels, 8 heads, 3
levels, 4 points, 6 encoder layers with FFN 1024, 9 decoder layers with
FFN 2048, 100 queries, 1 class + no-object), not by running upstream code.
"""
import importlib.util
import os.path as osp
import pickle

import pytest
import torch
from model_helpers import ROOT

from vcl_mm.models.converters import (ConversionError, convert_mask2former_d2,
                                      convert_resnet)
from vcl_mm.models.converters_cli import build_reference
from vcl_mm.utils.state_dict import (WeightsMismatchError, check_fits,
                                     read_state_dict)

C, HEADS, LEVELS, POINTS, QUERIES, CLASSES = 256, 8, 3, 4, 100, 1
VIDEO_CFG = osp.join(ROOT, 'configs', 'videocutler',
                     'videocutler_r50_8xb2-80k_imagenet.py')
IMAGE_CFG = osp.join(ROOT, 'configs', 'cutler',
                     'cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py')
# stage: (blocks, bottleneck width, output width)
R50 = {2: (3, 64, 256), 3: (4, 128, 512), 4: (6, 256, 1024), 5: (3, 512, 2048)}


def d2_resnet_table(prefix=''):
    """detectron2 R50 names -> shapes (FrozenBN: 4 buffers, no counter)."""
    table = {f'{prefix}stem.conv1.weight': (64, 3, 7, 7)}
    norm = ('weight', 'bias', 'running_mean', 'running_var')
    table.update({f'{prefix}stem.conv1.norm.{n}': (64, ) for n in norm})
    in_ch = 64
    for stage, (blocks, width, out) in R50.items():
        for b in range(blocks):
            p = f'{prefix}res{stage}.{b}'
            convs = {
                'conv1': (width, in_ch, 1, 1),
                'conv2': (width, width, 3, 3),
                'conv3': (out, width, 1, 1)
            }
            if b == 0:
                convs['shortcut'] = (out, in_ch, 1, 1)
            for name, shape in convs.items():
                table[f'{p}.{name}.weight'] = shape
                table.update(
                    {f'{p}.{name}.norm.{n}': (shape[0], )
                     for n in norm})
            in_ch = out
    return table


def torchvision_resnet_table(prefix=''):
    """torchvision R50 names -> shapes (with BN counters and fc)."""
    table = {}
    for key, shape in d2_resnet_table().items():
        key = key.replace('stem.conv1.norm', 'bn1').replace('stem.', '')
        for stage in R50:
            key = key.replace(f'res{stage}.', f'layer{stage - 1}.')
        key = key.replace('shortcut.norm',
                          'downsample.1').replace('shortcut', 'downsample.0')
        for i in (1, 2, 3):
            key = key.replace(f'conv{i}.norm', f'bn{i}')
        table[prefix + key] = shape
        if key.endswith('running_var'):
            table[prefix +
                  key.replace('running_var', 'num_batches_tracked')] = ()
    table[prefix + 'fc.weight'] = (1000, 2048)
    table[prefix + 'fc.bias'] = (1000, )
    return table


def m2f_d2_table():
    """A detectron2 (Video)Mask2Former R50 checkpoint: names -> shapes."""
    table = d2_resnet_table('backbone.')
    pd = 'sem_seg_head.pixel_decoder.'
    for i, ch in enumerate((2048, 1024, 512)):  # res5 first
        table[f'{pd}input_proj.{i}.0.weight'] = (C, ch, 1, 1)
        for n in ('0.bias', '1.weight', '1.bias'):
            table[f'{pd}input_proj.{i}.{n}'] = (C, )
    table[f'{pd}transformer.level_embed'] = (LEVELS, C)
    off = HEADS * LEVELS * POINTS
    for i in range(6):
        p = f'{pd}transformer.encoder.layers.{i}.'
        for name, out, inp in (('self_attn.sampling_offsets', off * 2,
                                C), ('self_attn.attention_weights', off,
                                     C), ('self_attn.value_proj', C,
                                          C), ('self_attn.output_proj', C, C),
                               ('linear1', 1024, C), ('linear2', C, 1024)):
            table[f'{p}{name}.weight'] = (out, inp)
            table[f'{p}{name}.bias'] = (out, )
        for n in ('norm1', 'norm2'):
            table[f'{p}{n}.weight'] = table[f'{p}{n}.bias'] = (C, )
    table[f'{pd}mask_features.weight'] = (C, C, 1, 1)
    table[f'{pd}mask_features.bias'] = (C, )
    table[f'{pd}adapter_1.weight'] = (C, 256, 1, 1)
    table[f'{pd}layer_1.weight'] = (C, C, 3, 3)
    for n in ('adapter_1.norm', 'layer_1.norm'):
        table[f'{pd}{n}.weight'] = table[f'{pd}{n}.bias'] = (C, )
    pr = 'sem_seg_head.predictor.'
    for i in range(9):
        for layer, attn in (('self_attention', 'self_attn'),
                            ('cross_attention', 'multihead_attn')):
            p = f'{pr}transformer_{layer}_layers.{i}.'
            table[f'{p}{attn}.in_proj_weight'] = (3 * C, C)
            table[f'{p}{attn}.in_proj_bias'] = (3 * C, )
            table[f'{p}{attn}.out_proj.weight'] = (C, C)
            table[f'{p}{attn}.out_proj.bias'] = (C, )
            table[f'{p}norm.weight'] = table[f'{p}norm.bias'] = (C, )
        p = f'{pr}transformer_ffn_layers.{i}.'
        table.update({
            f'{p}linear1.weight': (2048, C),
            f'{p}linear1.bias': (2048, ),
            f'{p}linear2.weight': (C, 2048),
            f'{p}linear2.bias': (C, ),
            f'{p}norm.weight': (C, ),
            f'{p}norm.bias': (C, )
        })
    table.update({
        f'{pr}decoder_norm.weight': (C, ),
        f'{pr}decoder_norm.bias': (C, ),
        f'{pr}query_feat.weight': (QUERIES, C),
        f'{pr}query_embed.weight': (QUERIES, C),
        f'{pr}level_embed.weight': (LEVELS, C),
        f'{pr}class_embed.weight': (CLASSES + 1, C),
        f'{pr}class_embed.bias': (CLASSES + 1, ),
        'criterion.empty_weight': (CLASSES + 1, ),
    })
    for i in range(3):
        table[f'{pr}mask_embed.layers.{i}.weight'] = (C, C)
        table[f'{pr}mask_embed.layers.{i}.bias'] = (C, )
    return table


def synthesize(table, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {
        k: (torch.randn(shape, generator=gen) if shape else torch.tensor(7))
        for k, shape in table.items()
    }


@pytest.fixture(scope='module')
def m2f_source():
    return synthesize(m2f_d2_table())


@pytest.fixture(scope='module')
def video_model():
    return build_reference(VIDEO_CFG)


def test_videocutler_d2_converts_every_key(m2f_source, video_model):
    state, dropped = convert_mask2former_d2(m2f_source, head='track_head')
    assert list(dropped) == ['criterion.empty_weight']
    own = video_model.state_dict()
    assert set(state) == set(own)
    assert all(state[k].shape == own[k].shape for k in own)
    video_model.load_state_dict(state, strict=True)
    # consumed: every source tensor is in the output or dropped
    ids = {id(v) for v in state.values()}
    assert all(id(v) in ids or k in dropped for k, v in m2f_source.items())
    src, dst = 'sem_seg_head.predictor.', 'track_head.'
    pairs = {
        f'{src}transformer_cross_attention_layers.4.norm.weight':
        f'{dst}transformer_decoder.layers.4.norms.0.weight',
        f'{src}transformer_self_attention_layers.4.norm.weight':
        f'{dst}transformer_decoder.layers.4.norms.1.weight',
        f'{src}transformer_ffn_layers.4.norm.weight':
        f'{dst}transformer_decoder.layers.4.norms.2.weight',
        f'{src}transformer_self_attention_layers.2.self_attn.in_proj_weight':
        f'{dst}transformer_decoder.layers.2.self_attn.attn.in_proj_weight',
        f'{src}mask_embed.layers.2.weight': f'{dst}mask_embed.4.weight',
        f'{src}class_embed.bias': f'{dst}cls_embed.bias',
        f'{src}decoder_norm.bias': f'{dst}transformer_decoder.post_norm.bias',
        'sem_seg_head.pixel_decoder.input_proj.0.0.weight':
        f'{dst}pixel_decoder.input_convs.0.conv.weight',
        'sem_seg_head.pixel_decoder.transformer.level_embed':
        f'{dst}pixel_decoder.level_encoding.weight',
        'sem_seg_head.pixel_decoder.adapter_1.norm.bias':
        f'{dst}pixel_decoder.lateral_convs.0.gn.bias',
        'backbone.res3.0.shortcut.norm.running_var':
        'backbone.layer2.0.downsample.1.running_var',
        'backbone.stem.conv1.norm.weight': 'backbone.bn1.weight',
    }
    loaded = video_model.state_dict()
    for s, d in pairs.items():
        assert torch.equal(loaded[d], m2f_source[s]), d
    assert int(state['backbone.bn1.num_batches_tracked']) == 0


def test_cutler_m2f_d2_fits_the_image_stage(m2f_source):
    state, _ = convert_mask2former_d2(m2f_source, head='panoptic_head')
    image = build_reference(IMAGE_CFG)
    image.load_state_dict(state, strict=True)
    assert torch.equal(image.panoptic_head.query_feat.weight,
                       m2f_source['sem_seg_head.predictor.query_feat.weight'])


def test_unmapped_and_missing_source_keys_are_named(m2f_source):
    source = dict(m2f_source)
    source['sem_seg_head.predictor.extra_token'] = torch.zeros(3)
    del source['sem_seg_head.pixel_decoder.layer_1.norm.bias']
    with pytest.raises(ConversionError) as err:
        convert_mask2former_d2(source)
    msg = str(err.value)
    assert 'sem_seg_head.predictor.extra_token' in msg
    assert 'sem_seg_head.pixel_decoder.layer_1.norm.bias' in msg


def test_shape_mismatch_against_the_model_is_named(tmp_path, m2f_source):
    source = dict(m2f_source)
    source['sem_seg_head.predictor.class_embed.weight'] = torch.zeros(81, C)
    state, _ = convert_mask2former_d2(source)
    with pytest.raises(
            WeightsMismatchError,
            match=r'track_head.cls_embed.weight '
            r'\(81, 256\) != \(2, 256\)'):
        check_fits(state, build_reference(VIDEO_CFG))


@pytest.mark.parametrize('form', ['d2_pkl', 'torch_module', 'dino_full'])
def test_dino_resnet50_forms(tmp_path, form):
    if form == 'd2_pkl':
        table = d2_resnet_table()
        source = synthesize(table, seed=1)
        path = tmp_path / 'dino.pkl'
        with open(path, 'wb') as f:
            pickle.dump(
                dict(
                    model={
                        k: v.numpy()
                        for k, v in source.items()
                    },
                    __author__='test',
                    matching_heuristics=True), f)
        probe = ('res4.5.conv2.norm.running_mean', 'layer3.5.bn2.running_mean')
    else:
        prefix = 'module.' if form == 'torch_module' else 'module.backbone.'
        source = synthesize(torchvision_resnet_table(prefix), seed=2)
        if form == 'dino_full':
            source['module.head.mlp.0.weight'] = torch.zeros(2048, 2048)
            source = dict(teacher=source, student={}, epoch=3)
        path = tmp_path / 'dino.pth'
        torch.save(source, path)
        flat = source.get('teacher', source)
        probe = (f'{prefix}layer3.5.bn2.running_mean',
                 'layer3.5.bn2.running_mean')
    state, dropped = convert_resnet(read_state_dict(str(path)))
    backbone = build_reference(IMAGE_CFG, 'backbone')
    backbone.load_state_dict(state, strict=True)
    expected = source if form == 'd2_pkl' else flat
    assert torch.equal(state[probe[1]], expected[probe[0]])
    if form != 'd2_pkl':
        assert {'fc.weight', 'fc.bias'} <= set(dropped)
    if form == 'dino_full':
        assert 'head.mlp.0.weight' in dropped


def test_not_a_resnet_is_refused():
    with pytest.raises(ConversionError, match='not a ResNet'):
        convert_resnet({'blocks.0.attn.qkv.weight': torch.zeros(3)})


def _tool(name):
    path = osp.join(ROOT, 'tools', 'model_converters', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_videocutler_tool_writes_a_loadable_checkpoint(tmp_path, m2f_source,
                                                       capsys):
    from mmengine.runner import load_checkpoint
    src = tmp_path / 'model_final.pth'
    torch.save(dict(model=m2f_source, iteration=79999), src)
    dst = tmp_path / 'out' / 'videocutler.pth'
    _tool('videocutler_d2_to_mmdet').main([str(src), str(dst)])
    out = capsys.readouterr().out
    assert 'dropped criterion.empty_weight' in out
    model = build_reference(VIDEO_CFG)
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    assert torch.equal(model.track_head.query_embed.weight,
                       m2f_source['sem_seg_head.predictor.query_embed.weight'])


def test_tool_reports_a_bad_source_in_one_line(tmp_path, capsys):
    bad = tmp_path / 'vit.pth'
    torch.save({'blocks.0.attn.qkv.weight': torch.zeros(3)}, bad)
    with pytest.raises(SystemExit) as err:
        _tool('dino_resnet50_to_mmdet').main([str(bad), str(tmp_path / 'o')])
    assert err.value.code == 2
    assert 'not a ResNet checkpoint' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'o')


@pytest.mark.parametrize('name', ['dino_resnet50_to_mmdet',
                                  'dino_vit_to_maskcut'])
def test_output_below_a_regular_file_refused_first(tmp_path, capsys, name):
    src = tmp_path / 'src.pth'
    torch.save({'x': torch.zeros(1)}, src)
    (tmp_path / 'f').write_text('x')
    with pytest.raises(SystemExit) as err:
        _tool(name).main([str(src), str(tmp_path / 'f' / 'o.pth')])
    assert err.value.code == 2
    assert 'is a file' in capsys.readouterr().err
