"""One validation layer for configs: unknown keys (with the nearest valid
one) and wrong types named before any work, for plain-dict configs
(MaskCut) and for training/test configs against the components'
signatures; plus --cfg-options keys that do not exist."""
import copy
import glob
import os.path as osp

import pytest

from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils import InputError
from vcl_mm.utils.config_validation import (accepted_keys,
                                            check_against_reference,
                                            load_checked_config, nearest,
                                            validate_cfg_options,
                                            validate_training_config)

REF = dict(
    model=dict(type='A', arch='base', weights=None),
    maskcut=dict(tau=0.15, num_masks=3, crf=dict(backend='x', iterations=10),
                 solver=dict(tol=1e-6)),
    engine=dict(batch_size=1, pipelined=True, extra=[1, 2]))


def test_nearest():
    assert nearest('tua', ['tau', 'num_masks']) == 'tau'
    assert nearest('zzzzzz', ['tau']) is None


@pytest.mark.parametrize('cfg,needles', [
    (dict(maskcut=dict(tua=0.2)), ['maskcut.tua', 'maskcut.tau']),
    (dict(maskcut=dict(crf=dict(iteratons=3))),
     ['maskcut.crf.iteratons', 'maskcut.crf.iterations']),
    (dict(maskcut=dict(tau='x')), ['maskcut.tau', 'str', 'float']),
    (dict(engine=dict(batch_size=1.5)), ['engine.batch_size', 'int']),
    (dict(engine=dict(batch_size=True)), ['engine.batch_size', 'bool']),
    (dict(engine=dict(pipelined=1)), ['engine.pipelined', 'bool']),
    (dict(engine=dict(extra='a')), ['engine.extra', 'list']),
    (dict(maskcut=dict(crf=None, solver=None)), ['maskcut.solver']),
    (dict(enigne=dict()), ['enigne', 'engine']),
])
def test_reference_check_names_key_and_type(cfg, needles):
    with pytest.raises(InputError) as err:
        check_against_reference(cfg, REF, types={'maskcut.crf': (dict, type(
            None))})
    for needle in needles:
        assert needle in str(err.value)
    assert '\n' not in str(err.value)


def test_reference_check_accepts_valid():
    check_against_reference(
        dict(maskcut=dict(tau=1, crf=None), engine=dict(extra=(3, ))), REF,
        types={'maskcut.crf': (dict, type(None))})
    check_against_reference(dict(model=dict(weights=3)), REF)  # None: any
    check_against_reference(dict(free=dict(anything=1)),
                            dict(free=dict()), open_keys=('free', ))


def test_several_problems_counted():
    cfg = dict(engine={f'k{i}': 1 for i in range(5)})
    with pytest.raises(InputError, match=r'\(\+2 more\)'):
        check_against_reference(cfg, REF)


def test_accepted_keys_follows_kwargs_to_the_base():

    class Base:

        def __init__(self, a, b=1):
            pass

    class Child(Base):

        def __init__(self, c=2, **kwargs):
            super().__init__(**kwargs)

    class Open:

        def __init__(self, **kwargs):
            pass

    assert accepted_keys(Child) == {'a', 'b', 'c'}
    assert accepted_keys(Open) is None
    assert accepted_keys(lambda x, y=1: None) == {'x', 'y'}


# -------------------------------------------------------- training configs
TRAIN_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    if '/maskcut/' not in p and '_base_' not in p
    and not p.endswith('maskcut_patch-stats.py'))


@pytest.fixture(scope='module')
def smoke_cfg():
    return load_checked_config(
        osp.join(REPO_ROOT, 'configs', 'toy', 'video_smoke_generated.py'))


@pytest.mark.parametrize('path', TRAIN_CONFIGS,
                         ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_every_shipped_config_passes(path):
    load_checked_config(path)


@pytest.mark.parametrize('key,value,needles', [
    ('backbone', 'depht', ['model.backbone.depht', 'depth']),
    ('data_preprocessor', 'pad_sise_divisor',
     ['pad_size_divisor']),
])
def test_misspelt_model_key(smoke_cfg, key, value, needles):
    cfg = copy.deepcopy(smoke_cfg)
    cfg.model[key][value] = 3
    with pytest.raises(InputError) as err:
        validate_training_config(cfg)
    for needle in needles:
        assert needle in str(err.value)


def test_misspelt_optimizer_and_transform_keys(smoke_cfg):
    cfg = copy.deepcopy(smoke_cfg)
    cfg.optim_wrapper.optimizer['weight_decy'] = 0.1
    with pytest.raises(InputError, match='weight_decay'):
        validate_training_config(cfg)
    cfg = copy.deepcopy(smoke_cfg)
    pipeline = cfg.train_dataloader.dataset.pipeline
    first = pipeline[0] if 'dataset' not in cfg.train_dataloader.dataset \
        else cfg.train_dataloader.dataset.dataset.pipeline[0]
    first['no_such_arg'] = 1
    with pytest.raises(InputError, match='no_such_arg'):
        validate_training_config(cfg)


@pytest.mark.parametrize('options,needles', [
    ({'train_cfg.max_iter': 5}, ['train_cfg.max_iter', 'max_iters']),
    ({'model.backbone.depht': 18}, ['model.backbone.depht', 'depth']),
    ({'optim_wrapper.optimizer.lrr': 1.}, ['lrr', 'lr']),
    ({'train_dataloader.batch_sise': 2}, ['batch_sise', 'batch_size']),
    ({'modle.backbone.depth': 18}, ['modle', 'model']),
])
def test_cfg_options_that_do_not_exist(smoke_cfg, options, needles):
    with pytest.raises(InputError) as err:
        validate_cfg_options(smoke_cfg, options)
    for needle in needles:
        assert needle in str(err.value)


def test_cfg_options_that_exist_or_are_accepted(smoke_cfg):
    validate_cfg_options(
        smoke_cfg, {
            'train_cfg.max_iters': 5,
            'model.backbone.depth': 18,
            'work_dir': 'x',
            'randomness.seed': 3,
            'train_dataloader.persistent_workers': False,
            'model.backbone.frozen_stages': 1,  # new, ResNet takes it
        })


def test_cfg_options_list_index(smoke_cfg):
    n = len(smoke_cfg.train_dataloader.dataset.pipeline)
    key = 'train_dataloader.dataset.pipeline'
    validate_cfg_options(smoke_cfg, {f'{key}.0.type': 'X'})
    with pytest.raises(InputError, match=f'is a list of {n}'):
        validate_cfg_options(smoke_cfg, {f'{key}.{n}.x': 1})
    with pytest.raises(InputError, match='is a list of'):
        validate_cfg_options(smoke_cfg, {f'{key}.first.x': 1})


def test_load_checked_config_one_line_errors(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text('model = dict(\n')
    with pytest.raises(InputError, match='syntax error at line'):
        load_checked_config(str(bad))
    with pytest.raises(InputError, match='config not found'):
        load_checked_config(str(tmp_path / 'missing.py'))
    smoke = osp.join(REPO_ROOT, 'configs', 'toy', 'video_smoke_generated.py')
    with pytest.raises(InputError, match='max_iters'):
        load_checked_config(smoke, {'train_cfg.max_itrs': 2})
