"""MaskCut configs: mmengine reads them, our checks refuse bad keys."""
import pytest
from mc_helpers import TINY_VIT

from vcl_mm.maskcut.config_checks import load_maskcut_config
from vcl_mm.maskcut.registry import EXTRACTORS, build_extractor
from vcl_mm.utils import InputError


def test_bases_delete_and_options(tmp_path):
    base = tmp_path / 'base.py'
    base.write_text("model = dict(type='A', arch=dict(d=1, e=2))\n"
                    "engine = dict(batch_size=2)\n")
    child = tmp_path / 'child.py'
    child.write_text("_base_ = 'base.py'\nimport os\n"
                     "model = dict(arch=dict(_delete_=True, f=3))\n"
                     "batch = {{_base_.engine.batch_size}}\n")
    cfg = load_maskcut_config(str(child), {'engine.batch_size': 4})
    assert cfg['model'] == dict(type='A', arch=dict(f=3))
    assert cfg['engine'] == dict(batch_size=4) and cfg['batch'] == 2


def test_errors_are_one_line(tmp_path):
    with pytest.raises(InputError, match='not found'):
        load_maskcut_config(str(tmp_path / 'nope.py'))
    bad = tmp_path / 'bad.py'
    bad.write_text("custom_imports = dict(imports=['no_such_module_x'])\n")
    with pytest.raises(InputError, match='no_such_module_x'):
        load_maskcut_config(str(bad))
    broken = tmp_path / 'broken.py'
    broken.write_text("model = dict(type='A'\n")
    with pytest.raises(InputError, match='syntax error'):
        load_maskcut_config(str(broken))


def test_extractor_registry(tmp_path):
    assert EXTRACTORS.scope == 'vcl_mm_maskcut'
    assert 'DinoViTKeyExtractor' in EXTRACTORS.module_dict
    with pytest.raises(InputError, match='DinoViTKeyExtractr'):
        build_extractor(dict(TINY_VIT, type='DinoViTKeyExtractr'))
    with pytest.raises(InputError, match='os.path.join'):
        build_extractor(dict(type='os.path.join'))  # not a class


def test_built_whatever_the_default_scope():
    """A training process's default scope (mmdet's tree) does not hide the
    extractors: they are built from their own registry."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        assert type(build_extractor(TINY_VIT)).__name__ == (
            'DinoViTKeyExtractor')
