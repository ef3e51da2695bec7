"""MaskCut configs read without mmengine: mmengine's results."""
import glob
import os.path as osp

import pytest

from vcl_mm.maskcut.config import load_maskcut_config, parse_value
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils import InputError

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'maskcut', '*.py')) +
    [osp.join(REPO_ROOT, 'configs', 'toy', 'maskcut_patch-stats.py')])
OPTIONS = {
    'maskcut.crf': 'None',
    'maskcut.tau': '0.2',
    'engine.batch_size': '8',
    'engine.pipelined': 'false',
    'model.arch': '[32,(2,2)]',
    'maskcut.solver.dtype': 'float64',
    'engine.extra': '1,2,x',
}


@pytest.mark.parametrize(
    'text',
    list(OPTIONS.values()) +
    ['True', '"quoted"', '1e-3', '[a, [b, (1, 2)]]', '(1,)', 'a=b'])
def test_values_parse_as_mmengine_does(text):
    from mmengine.config import DictAction
    assert parse_value(text) == DictAction._parse_iterable(text)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
@pytest.mark.parametrize('with_options', [False, True])
def test_configs_read_as_mmengine_reads_them(path, with_options):
    from mmengine.config import Config
    options = {k: parse_value(v) for k, v in OPTIONS.items()}
    cfg = Config.fromfile(path)
    if with_options:
        cfg.merge_from_dict(options)
    ours = load_maskcut_config(path, options if with_options else None)
    for key in ('model', 'maskcut', 'engine', 'custom_imports'):
        assert ours.get(key) == (cfg[key].to_dict() if key in cfg else None)


def test_delete_and_errors(tmp_path):
    base = tmp_path / 'base.py'
    base.write_text("model = dict(type='A', arch=dict(d=1, e=2))\n"
                    "engine = dict(batch_size=2)\n")
    child = tmp_path / 'child.py'
    child.write_text("_base_ = 'base.py'\nimport os\n"
                     "model = dict(arch=dict(_delete_=True, f=3))\n")
    cfg = load_maskcut_config(str(child))
    assert cfg == dict(
        model=dict(type='A', arch=dict(f=3)), engine=dict(batch_size=2))
    with pytest.raises(InputError, match='config not found'):
        load_maskcut_config(str(tmp_path / 'nope.py'))
    bad = tmp_path / 'bad.py'
    bad.write_text("custom_imports = dict(imports=['no_such_module_x'])\n")
    with pytest.raises(InputError, match='no_such_module_x'):
        load_maskcut_config(str(bad))
    ref = tmp_path / 'ref.py'
    ref.write_text("_base_ = 'base.py'\nx = '{{_base_.engine}}'\n")
    with pytest.raises(InputError, match='mmengine features'):
        load_maskcut_config(str(ref))
