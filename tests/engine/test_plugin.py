"""Plugin wiring, AMP on CPU and checkpoint loading, in-process."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmdet.registry import MODELS, OPTIM_WRAPPERS
from mmdet.structures import DetDataSample, TrackDataSample
from vcl_mm.utils import register_all_modules
from mmengine.structures import InstanceData
from vcl_mm.utils import InputError, register_checkpoint_loader
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils.launch import load_config

ROOT = REPO_ROOT
SMOKE = osp.join(ROOT, 'configs', 'toy', 'video_smoke_generated.py')

register_all_modules(init_default_scope=True)
register_checkpoint_loader()  # what tools/train.py and tools/test.py do


def tiny_model():
    cfg = load_config(SMOKE)
    return MODELS.build(cfg.model), cfg


def make_clip(num_frames=3, h=64, w=96, seed=0):
    """One packed clip: inputs (T, 3, h, w) uint8 and a TrackDataSample with
    two tracks, one of them absent in the last frame."""
    rng = np.random.default_rng(seed)
    inputs = torch.from_numpy(rng.integers(0, 255, (num_frames, 3, h, w),
                                           dtype=np.uint8))
    from mmdet.structures.mask import BitmapMasks
    frames = []
    for t in range(num_frames):
        masks = np.zeros((2, h, w), np.uint8)
        masks[0, 10 + t:30 + t, 10:40] = 1
        if t < num_frames - 1:
            masks[1, 35:60, 50:90] = 1
        keep = masks.reshape(2, -1).any(1)
        gt = InstanceData()
        gt.masks = BitmapMasks(masks[keep], h, w)
        gt.labels = torch.zeros(int(keep.sum()), dtype=torch.long)
        gt.instances_ids = torch.tensor([1, 2])[torch.from_numpy(keep)]
        gt.bboxes = torch.zeros(int(keep.sum()), 4)
        ds = DetDataSample(
            metainfo=dict(img_shape=(h, w), ori_shape=(h, w), frame_id=t,
                          batch_input_shape=(h, w), pad_shape=(h, w),
                          scale_factor=(1., 1.)))
        ds.gt_instances = gt
        frames.append(ds)
    sample = TrackDataSample()
    sample.video_data_samples = frames
    return dict(inputs=[inputs], data_samples=[sample])


def test_smoke_config_builds_class_agnostic_mask2former_video():
    model, cfg = tiny_model()
    assert type(model).__name__ == 'Mask2FormerVideo'
    assert model.track_head.num_classes == 1
    assert model.track_head.num_frames == cfg.num_frames
    # Same architecture family as the real recipe, smaller numbers.
    real = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'models',
                 'video_mask2former_r50.py'))
    assert real.model.track_head.num_queries == 100
    assert real.model.track_head.pixel_decoder.encoder.layer_cfg.\
        self_attn_cfg.dropout == 0.3
    assert real.model.track_head.transformer_decoder.layer_cfg.\
        self_attn_cfg.dropout == 0.0


def test_amp_step_on_cpu_runs_in_bfloat16_with_finite_losses():
    model, cfg = tiny_model()
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='DeviceAmpOptimWrapper',
             optimizer=torch.optim.AdamW(model.parameters(), lr=1e-4),
             clip_grad=dict(max_norm=0.01, norm_type=2)))
    assert wrapper.loss_scaler is None
    assert wrapper.cast_dtype == torch.bfloat16
    seen = []
    hook = model.backbone.conv1.register_forward_hook(
        lambda m, i, o: seen.append(o.dtype))
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    losses = model.train_step(make_clip(cfg.num_frames), wrapper)
    hook.remove()
    assert seen == [torch.bfloat16]
    assert losses and all(torch.isfinite(v).all() for v in losses.values())
    changed = any(not torch.equal(b, p) for b, p in
                  zip(before, model.parameters()))
    assert changed


def test_amp_refuses_float16_on_cpu():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(InputError, match='bfloat16'):
        OPTIM_WRAPPERS.build(
            dict(type='DeviceAmpOptimWrapper', dtype='float16',
                 device='cpu',
                 optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))


def test_amp_wrapper_state_round_trip_drops_gpu_scaler_state():
    model = torch.nn.Linear(2, 2)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='DeviceAmpOptimWrapper', device='cpu',
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    state = wrapper.state_dict()
    state['loss_scaler'] = {'scale': 1024.}
    wrapper.load_state_dict(state)
    assert 'loss_scaler' not in wrapper.state_dict()


def test_checkpoint_with_mmengine_objects_loads_weights_only(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    buf = HistoryBuffer()
    buf.update(np.float64(1.5))
    torch.save(
        dict(state_dict={'w': torch.ones(2)},
             message_hub=dict(log_scalars={'loss': buf},
                              runtime_info={'iter': np.int64(3)}),
             meta=dict(iter=3)), path)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert ckpt['message_hub']['log_scalars']['loss'].current() == 1.5


class Arbitrary:
    pass


def test_checkpoint_with_foreign_objects_is_refused(tmp_path, monkeypatch):
    path = str(tmp_path / 'odd.pth')
    torch.save(dict(obj=Arbitrary()), path)
    monkeypatch.delenv('VCL_MM_TRUST_CHECKPOINTS', raising=False)
    with pytest.raises(InputError, match='VCL_MM_TRUST_CHECKPOINTS=1'):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    monkeypatch.setenv('VCL_MM_TRUST_CHECKPOINTS', '1')
    assert isinstance(
        CheckpointLoader.load_checkpoint(path, map_location='cpu')['obj'],
        Arbitrary)


def test_vcl_mm_config_can_inherit_an_mmdet_config(tmp_path):
    cfg_file = tmp_path / 'inherit.py'
    cfg_file.write_text(
        "_base_ = 'mmdet::mask2former_vis/"
        "mask2former_r50_8xb2-8e_youtubevis2019.py'\n"
        "model = dict(track_head=dict(num_classes=1))\n"
        # a config in mmdet's scope names vcl_mm's parts with the prefix
        "optim_wrapper = dict(type='vcl_mm.DeviceAmpOptimWrapper')\n")
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.type == 'Mask2FormerVideo'
    assert cfg.model.track_head.num_classes == 1
    assert OPTIM_WRAPPERS.get(cfg.optim_wrapper.type) is not None


def test_video_model_is_mmdets_mask2former_vis_with_our_overrides(tmp_path):
    """The recipes inherit mmdet's config (one lineage), not a copy: the
    video model equals mmdet's but for the VideoCutLER overrides."""
    cfg_file = tmp_path / 'mmdet_vis.py'
    cfg_file.write_text("_base_ = 'mmdet::mask2former_vis/"
                        "mask2former_r50_8xb2-8e_youtubevis2019.py'\n")
    theirs = Config.fromfile(str(cfg_file)).model.to_dict()
    ours = load_config(
        osp.join(ROOT, 'configs', '_base_', 'models',
                 'video_mask2former_r50.py')).model.to_dict()
    # built in our scope, which finds mmdet's parts through its parent
    assert (ours.pop('_scope_'), theirs.pop('_scope_')) == ('vcl_mm', 'mmdet')
    head, their_head = ours.pop('track_head'), theirs.pop('track_head')
    assert ours['backbone'].pop('init_cfg') is None
    their_backbone_init = theirs['backbone'].pop('init_cfg')
    assert their_backbone_init['type'] == 'Pretrained'
    assert ours.pop('init_cfg') is None and theirs.pop('init_cfg')
    assert ours == theirs
    layer = head['pixel_decoder']['encoder']['layer_cfg']
    assert (layer['self_attn_cfg']['dropout'],
            layer['ffn_cfg']['ffn_drop']) == (0.3, 0.3)
    their_layer = their_head['pixel_decoder']['encoder']['layer_cfg']
    their_layer['self_attn_cfg']['dropout'] = 0.3
    their_layer['ffn_cfg']['ffn_drop'] = 0.3
    assert head['loss_cls']['class_weight'] == [1.0, 0.1]
    their_head['loss_cls']['class_weight'] = [1.0, 0.1]
    their_head.update(type='VideoCutLERTrackHead', num_classes=1,
                      num_frames=3)
    assert head == their_head


def _fresh_python(code):
    import subprocess
    import sys
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          cwd=ROOT)


def test_import_vcl_mm_is_light_and_patches_nothing():
    code = (
        'import sys, vcl_mm\n'
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'mmdet', 'mmcv', 'mmengine')]\n"
        'assert not heavy, heavy\n'
        # the numpy-only parts stay light too
        'import vcl_mm.evaluation.functional, vcl_mm.utils\n'
        "assert 'torch' not in sys.modules and 'mmdet' not in sys.modules\n"
        # and registration is explicit: mmengine's loader is untouched
        'from mmengine.runner.checkpoint import CheckpointLoader\n'
        'before = dict(CheckpointLoader._schemes)\n'
        'import vcl_mm.models, vcl_mm.datasets.transforms\n'
        'assert dict(CheckpointLoader._schemes) == before\n')
    done = _fresh_python(code)
    assert done.returncode == 0, done.stderr


def test_default_scope_alone_finds_every_component():
    """No module list: the vcl_mm scope imports its registry and the
    registry's locations import the components when first searched."""
    cfg = Config.fromfile(SMOKE)
    assert cfg.default_scope == 'vcl_mm' and 'custom_imports' not in cfg
    done = _fresh_python(
        'from mmengine.registry import DATASETS, MODELS, TRANSFORMS, '
        'METRICS, OPTIM_WRAPPERS, RUNNERS, init_default_scope\n'
        "init_default_scope('vcl_mm')\n"
        'import sys\n'
        "assert 'vcl_mm.models' not in sys.modules\n"
        "for reg, name in ((MODELS, 'VideoCutLERTrackHead'),\n"
        "                  (MODELS, 'Mask2FormerVideo'),\n"
        "                  (DATASETS, 'TargetAwareMixDataset'),\n"
        "                  (TRANSFORMS, 'ImageCut2Video'),\n"
        "                  (METRICS, 'ClassAgnosticYTVISMetric'),\n"
        "                  (RUNNERS, 'DeviceAwareRunner')):\n"
        '    with reg.switch_scope_and_registry(None) as r:\n'
        '        assert r.get(name), name\n'
        # --amp's name is the device-aware wrapper in this scope
        'with OPTIM_WRAPPERS.switch_scope_and_registry(None) as r:\n'
        "    assert r.get('AmpOptimWrapper').__name__ == "
        "'DeviceAmpOptimWrapper'\n")
    assert done.returncode == 0, done.stderr


def test_mmdet_scope_reaches_components_by_prefix_and_keeps_its_own():
    done = _fresh_python(
        'from mmdet.utils import register_all_modules\n'
        'register_all_modules()\n'
        'from mmdet.registry import MODELS, OPTIM_WRAPPERS, TRANSFORMS\n'
        "assert TRANSFORMS.get('vcl_mm.ImageCut2Video')\n"
        "assert MODELS.get('vcl_mm.VideoCutLER')\n"
        # mmdet's own names are not shadowed outside the vcl_mm scope
        "assert MODELS.get('VideoCutLER') is None\n"
        "assert OPTIM_WRAPPERS.get('AmpOptimWrapper').__name__ == "
        "'AmpOptimWrapper'\n")
    assert done.returncode == 0, done.stderr
