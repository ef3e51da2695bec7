"""DINO key extractor, its weights, and the weight converter."""
import os.path as osp

import pytest
import torch
from mc_helpers import TINY_VIT

from mmdet.registry import MODELS
from vcl_mm.maskcut.features import DinoViTKeyExtractor, convert_dino_vit
from vcl_mm.maskcut.registry import build_extractor
from vcl_mm.utils import InputError
from vcl_mm.testing.runners import REPO_ROOT

ROOT = REPO_ROOT
CONVERTER = osp.join(ROOT, 'tools', 'model_converters',
                     'dino_vit_to_maskcut.py')


def tiny(**kw):
    cfg = dict(TINY_VIT)
    cfg.pop('type')
    cfg.update(kw)
    return DinoViTKeyExtractor(**cfg)


def test_registered_and_output_shape():
    model = build_extractor(TINY_VIT)
    # a child of mmengine's root MODELS: mmdet's finds it by its scope
    assert MODELS.get('vcl_mm_maskcut.DinoViTKeyExtractor') is (
        DinoViTKeyExtractor)
    assert isinstance(model, DinoViTKeyExtractor)
    out = model(torch.randn(2, 3, 64, 48))
    assert out.shape == (2, 32, 8, 6) and out.dtype == torch.float32


def test_keys_equal_hooked_qkv_of_a_full_forward():
    model = tiny(patch_size=16)
    images = torch.randn(2, 3, 224, 224)
    grabbed = {}
    hook = model.vit.blocks[-1].attn.qkv.register_forward_hook(
        lambda mod, inp, out: grabbed.setdefault('qkv', out))
    with torch.no_grad():
        model.vit.forward_features(images)
    hook.remove()
    b, n, _ = grabbed['qkv'].shape
    # upstream: reshape (B, N, 3, heads, d), permute, keys of all heads
    # concatenated per token, CLS dropped
    qkv = grabbed['qkv'].reshape(b, n, 3, 2, 16).permute(2, 0, 3, 1, 4)
    keys = qkv[1].transpose(1, 2).reshape(b, n, 32)[:, 1:]
    expected = keys.transpose(1, 2).reshape(b, 32, 14, 14)
    assert torch.allclose(model(images), expected, atol=1e-6)


def test_position_embedding_resize_like_dino():
    model = tiny(patch_size=16)
    assert model.position_embedding(14, 14) is model.vit.pos_embed
    with torch.no_grad():
        model.vit.pos_embed[:, 1:] = 0.25  # bicubic keeps constants
    pos = model.position_embedding(30, 20)
    assert pos.shape == (1, 601, 32)
    assert torch.equal(pos[:, 0], model.vit.pos_embed[:, 0])
    assert torch.allclose(pos[:, 1:], torch.full_like(pos[:, 1:], 0.25))


def test_random_weights_are_seeded():
    a, b, c = tiny(), tiny(), tiny(seed=1)
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(a(x), b(x))
    assert not torch.equal(a(x), c(x))


def test_weights_required_and_missing_file_named(tmp_path):
    with pytest.raises(InputError, match='--weights'):
        tiny(random_init=False)
    missing = str(tmp_path / 'dino_vitbase8_pretrain.pth')
    with pytest.raises(InputError, match='not found: .*dino_vitbase8'):
        tiny(random_init=False, weights=missing)


def test_loads_official_and_full_checkpoint_layouts(tmp_path):
    source = tiny(seed=3)
    x = torch.randn(1, 3, 32, 32)
    plain = tmp_path / 'plain.pth'
    torch.save(source.vit.state_dict(), plain)
    assert torch.equal(
        tiny(random_init=False, weights=str(plain))(x), source(x))
    full = tmp_path / 'full.pth'
    teacher = {f'backbone.{k}': v for k, v in source.vit.state_dict().items()}
    teacher['head.last_layer.weight'] = torch.zeros(4, 4)
    torch.save(dict(teacher=teacher, epoch=3), full)
    assert torch.equal(
        tiny(random_init=False, weights=str(full))(x), source(x))
    state, dropped = convert_dino_vit(teacher)
    assert set(state) == set(source.vit.state_dict())
    assert dropped == {'head.last_layer.weight': 'DINO projection head'}


def test_wrong_architecture_names_the_keys(tmp_path):
    sd = tiny().vit.state_dict()
    sd.pop('blocks.1.mlp.fc2.bias')
    sd['blocks.0.attn.qkv.weight'] = torch.zeros(3, 3)
    sd['extra.weight'] = torch.zeros(1)
    path = tmp_path / 'bad.pth'
    torch.save(sd, path)
    with pytest.raises(InputError) as err:
        tiny(random_init=False, weights=str(path))
    msg = str(err.value)
    for key in ('blocks.1.mlp.fc2.bias', 'blocks.0.attn.qkv.weight',
                'extra.weight', 'model.arch'):
        assert key in msg


def _official_vit_b8_state():
    """Names and shapes of dino_vitbase8_pretrain.pth (zeros)."""
    c = 768
    sd = {
        'cls_token': (1, 1, c),
        'pos_embed': (1, 785, c),
        'patch_embed.proj.weight': (c, 3, 8, 8),
        'patch_embed.proj.bias': (c, ),
        'norm.weight': (c, ),
        'norm.bias': (c, )
    }
    for i in range(12):
        p = f'blocks.{i}.'
        sd.update({
            p + 'norm1.weight': (c, ),
            p + 'norm1.bias': (c, ),
            p + 'attn.qkv.weight': (3 * c, c),
            p + 'attn.qkv.bias': (3 * c, ),
            p + 'attn.proj.weight': (c, c),
            p + 'attn.proj.bias': (c, ),
            p + 'norm2.weight': (c, ),
            p + 'norm2.bias': (c, ),
            p + 'mlp.fc1.weight': (4 * c, c),
            p + 'mlp.fc1.bias': (4 * c, ),
            p + 'mlp.fc2.weight': (c, 4 * c),
            p + 'mlp.fc2.bias': (c, )
        })
    return {k: torch.zeros(v) for k, v in sd.items()}


def _load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('dino_conv', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_on_the_official_layout(tmp_path, capsys):
    tool = _load_tool()
    src, dst = tmp_path / 'dino_vitbase8_pretrain.pth', tmp_path / 'out.pth'
    sd = _official_vit_b8_state()
    torch.save(sd, src)
    tool.main([str(src), str(dst)])
    assert 'loaded strictly' in capsys.readouterr().out
    model = DinoViTKeyExtractor(weights=str(dst))  # default: ViT-B/8
    assert model(torch.zeros(1, 3, 16, 16)).shape == (1, 768, 2, 2)
    sd.pop('blocks.11.mlp.fc2.bias')
    sd['head.weight'] = torch.zeros(1)
    sd['blocks.3.attn.qkv.weight'] = torch.zeros(10, 768)
    torch.save(sd, src)
    with pytest.raises(SystemExit) as exit_:
        tool.main([str(src), str(dst)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert 'blocks.11.mlp.fc2.bias' in err and 'blocks.3.attn.qkv' in err


def _hooked_qkv_parts(model, images):
    """q, k, v of the last block from timm's own full forward pass, as
    upstream's ViTFeat reads them: (B, C, h, w) each, heads concatenated,
    CLS dropped."""
    grabbed = {}
    hook = model.vit.blocks[-1].attn.qkv.register_forward_hook(
        lambda mod, inp, out: grabbed.setdefault('qkv', out))
    with torch.no_grad():
        model.vit.forward_features(images)
    hook.remove()
    b, n, _ = grabbed['qkv'].shape
    h, w = images.shape[2] // 16, images.shape[3] // 16
    qkv = grabbed['qkv'].reshape(b, n, 3, 2, 16).permute(2, 0, 3, 1, 4)
    parts = []
    for part in qkv:  # (B, heads, N, head_dim)
        tokens = part.transpose(1, 2).reshape(b, n, 32)[:, 1:]
        parts.append(tokens.transpose(1, 2).reshape(b, 32, h, w))
    return parts


@pytest.mark.parametrize('feature', ['k', 'q', 'v', 'kqv'])
def test_feature_choice_matches_the_hooked_qkv(feature):
    images = torch.randn(2, 3, 224, 224)
    model = tiny(patch_size=16, feature=feature)
    out = model(images)
    q, k, v = _hooked_qkv_parts(model, images)
    want = dict(k=k, q=q, v=v, kqv=torch.cat([k, q, v], 1))[feature]
    assert out.shape == ((2, 96, 14, 14) if feature == 'kqv' else
                         (2, 32, 14, 14))
    assert out.dtype == torch.float32
    assert torch.allclose(out, want, atol=1e-6)
    if feature == 'k':  # the default is the keys, bit for bit
        assert torch.equal(tiny(patch_size=16)(images), out)


def test_autocast_keeps_float32_output_close_to_float32():
    images = torch.randn(1, 3, 64, 64)
    ref = tiny()(images)
    half = tiny(autocast_dtype='bfloat16')(images)
    assert half.dtype == torch.float32 and half.shape == ref.shape
    assert not torch.equal(half, ref)  # it did run in bfloat16
    cos = torch.nn.functional.cosine_similarity(half, ref, dim=1)
    assert cos.min() > 0.99


def test_unknown_feature_or_autocast_dtype_is_named():
    with pytest.raises(InputError, match="model.feature='kq'"):
        tiny(feature='kq')
    with pytest.raises(InputError, match="model.autocast_dtype='half'"):
        tiny(autocast_dtype='half')
