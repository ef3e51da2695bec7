"""The fidelity tables of the recipe READMEs match the built configs.

Each table follows a ``<!-- fidelity: CONFIG -->`` marker; every row with a
key in backticks states the value ``ours`` that the config must hold at that
key (or, when the config leaves it out, the registered class's default).
"""
import ast
import inspect
import os.path as osp
import re

import pytest
from model_helpers import ROOT

from vcl_mm.utils.launch import load_config

READMES = [
    osp.join(ROOT, 'configs', 'videocutler', 'README.md'),
    osp.join(ROOT, 'configs', 'cutler', 'README.md')
]
MARKER = re.compile(r'<!-- fidelity: (\S+) -->')


def tables():
    """(readme, config, setting, key, ours) of every table row."""
    rows = []
    for readme in READMES:
        config, in_table = None, False
        for line in open(readme):
            found = MARKER.search(line)
            if found:
                config, in_table = found.group(1), False
                continue
            if config is None:
                continue
            if not line.startswith('|'):
                if in_table:  # the table after the marker has ended
                    config = None
                continue
            in_table = True
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if len(cells) < 4 or not cells[2].startswith('`'):
                continue
            rows.append((osp.basename(readme), config, cells[1],
                         cells[2].strip('`'), cells[3].strip('`')))
    return rows


ROWS = tables()


def _registered(type_name):
    from vcl_mm import registry
    for name in ('MODELS', 'TRANSFORMS', 'DATASETS', 'LOOPS',
                 'OPTIM_WRAPPERS', 'TASK_UTILS'):
        cls = getattr(registry, name).get(type_name)
        if cls is not None:
            return cls
    raise KeyError(type_name)


def resolve(cfg, key):
    """Value at ``key`` (``a.b[0].c``, ``[type=X]``), falling back to the
    ``__init__`` default of the enclosing registered type."""
    node = cfg
    for part in re.findall(r'[^.\[\]]+|\[[^\]]+\]', key):
        if part.startswith('['):
            sel = part[1:-1]
            if sel.startswith('type='):
                node = next(t for t in node if t.get('type') == sel[5:])
            else:
                node = node[int(sel)]
        elif part in node:
            node = node[part]
        else:
            cls = _registered(node['type'])
            default = inspect.signature(cls.__init__).parameters[part].default
            assert default is not inspect.Parameter.empty, (key, part)
            node = default
    return node


def normalise(value):
    if isinstance(value, (tuple, list)):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def test_tables_cover_every_part_of_the_recipes():
    settings = {(config, area) for _, config, area, _, _ in ROWS}
    assert len(ROWS) >= 80
    assert {c for c, _ in settings} == {
        'configs/videocutler/videocutler_r50_8xb2-80k_imagenet.py',
        'configs/videocutler/eval_ytvis2019_train.py',
        'configs/cutler/cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py'
    }


@pytest.mark.parametrize(
    'readme, config, setting, key, ours',
    ROWS,
    ids=[f'{r[1].split("/")[-1]}:{r[3]}' for r in ROWS])
def test_table_row_matches_the_config(readme, config, setting, key, ours):
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = _config(config)
    value = resolve(cfg, key)
    assert normalise(value) == normalise(ast.literal_eval(ours)), (
        f'{readme}: "{setting}" says {key} = {ours}, the config has {value!r}')


_CACHE = {}


def _config(path):
    if path not in _CACHE:
        _CACHE[path] = load_config(osp.join(ROOT, path))
    return _CACHE[path]
