"""MaskCut's command line on bad settings and inputs: one line (exit 2)
before any image is read, or a recorded skip; never a traceback, and no
image without pixel data labelled."""
import importlib.util
import io
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from vcl_mm.maskcut.images import SkipImage, jpeg_pixel_data_problem, \
    load_image
from vcl_mm.testing.runners import REPO_ROOT, run_tool
from vcl_mm.utils import InputError

BASE = osp.join(REPO_ROOT, 'configs', 'maskcut', 'maskcut_dino-vitb8_480.py')
TINY = f"""_base_ = '{BASE}'
model = dict(arch=dict(_delete_=True, embed_dims=32, num_layers=2,
                       num_heads=2),
             weights=None, random_init=True)
maskcut = dict(fixed_size=32, crf=None)
engine = dict(pipelined=False)
"""


@pytest.fixture(scope='module')
def job(tmp_path_factory):
    root = tmp_path_factory.mktemp('mcin')
    (root / 'imgs').mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), np.uint8)).save(
        root / 'imgs' / 'ok.jpg')
    (root / 'tiny.py').write_text(TINY)
    return root


def _tool():
    spec = importlib.util.spec_from_file_location(
        'maskcut_tool_inputs', osp.join(REPO_ROOT, 'tools', 'maskcut.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(job, config='tiny.py', out='o.json'):
    return [
        '--input',
        str(job / 'imgs'), '--out',
        str(job / 'out' / out), '--config',
        str(job / config), '--device', 'cpu', '--no-progress'
    ]


def _in_process(capsys, job, *extra, **kw):
    """tools/maskcut.py's main in this process: (exit status, stderr)."""
    try:
        _tool().main(_args(job, **kw) + list(extra))
        code = 0
    except SystemExit as err:
        code = err.code
    return code, capsys.readouterr().err


def _one_line(code, err, *needles):
    assert code == 2, err[-2000:]
    err = err.strip()
    assert err.startswith('error: ') and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_subprocess_one_line_no_traceback(job):
    res = run_tool(['tools/maskcut.py'] + _args(job) +
                   ['--cfg-options', 'maskcut.tua=0.2'], timeout=300)
    _one_line(res.returncode, res.stderr, 'maskcut.tau')
    assert 'Traceback' not in res.stderr


@pytest.mark.parametrize('option,needles', [
    ('maskcut.tua=0.2', ('maskcut.tua', 'maskcut.tau')),
    ('engine.batch_sise=2', ('engine.batch_size', )),
    ('maskcutt.tau=0.2', ('maskcutt', 'maskcut')),
    ('maskcut.crf.backnd=torch', ('maskcut.crf.backend', )),
    ('maskcut.tau=abc', ('maskcut.tau', 'float')),
    ('engine.batch_size=2.5', ('engine.batch_size', 'int')),
    ('engine.pipelined=3', ('engine.pipelined', 'bool')),
    ('maskcut.solver=7', ('maskcut.solver', 'dict')),
    ('model.feature=1', ('model.feature', 'str')),
    ('maskcut.crf.backend=densecrf', ('densecrf', 'pydensecrf')),
])
def test_bad_cfg_options_named_before_work(job, capsys, option, needles):
    _one_line(*_in_process(capsys, job, '--cfg-options', option), *needles)


def test_good_options_and_config_still_run(job, capsys):
    code, err = _in_process(capsys, job, '--cfg-options', 'maskcut.tau=0.2',
                            'engine.batch_size=1',
                            'model.autocast_dtype=None')
    assert code == 0, err[-2000:]


def test_config_with_a_syntax_error(job, capsys):
    (job / 'broken.py').write_text(TINY + 'engine = dict(batch_size=\n')
    _one_line(*_in_process(capsys, job, config='broken.py'), 'syntax error',
              'line')
    (job / 'name.py').write_text(TINY + 'x = undefined_name\n')
    _one_line(*_in_process(capsys, job, config='name.py'), 'NameError')
    (job / 'typo.py').write_text(TINY + 'engine = dict(flush_evry=2)\n')
    _one_line(*_in_process(capsys, job, config='typo.py'),
              'engine.flush_every')


@pytest.mark.parametrize('env,needle', [
    (dict(SLURM_ARRAY_TASK_ID='x', SLURM_ARRAY_TASK_COUNT='4'),
     'SLURM_ARRAY_TASK_ID'),
    (dict(SLURM_ARRAY_TASK_ID='1', SLURM_ARRAY_TASK_COUNT='four'),
     'SLURM_ARRAY_TASK_COUNT'),
    (dict(SLURM_ARRAY_TASK_ID='1', SLURM_ARRAY_TASK_COUNT='4',
          SLURM_ARRAY_TASK_MIN='1.5'), 'SLURM_ARRAY_TASK_MIN'),
    (dict(SLURM_ARRAY_TASK_ID='0', SLURM_ARRAY_TASK_COUNT='0'),
     'SLURM_ARRAY_TASK_COUNT'),
    (dict(SLURM_ARRAY_TASK_ID='5', SLURM_ARRAY_TASK_COUNT='4'), 'outside'),
])
def test_invalid_slurm_variables(job, capsys, monkeypatch, env, needle):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _one_line(*_in_process(capsys, job, '--launcher', 'slurm-array'),
              needle)


def test_invalid_local_world_size(job, capsys, monkeypatch):
    monkeypatch.setenv('LOCAL_WORLD_SIZE', 'two')
    _one_line(*_in_process(capsys, job, '--cfg-options',
                           'engine.pipelined=True', out='lws.json'),
              'LOCAL_WORLD_SIZE')


def test_output_below_a_regular_file(job, capsys):
    (job / 'out').mkdir(exist_ok=True)
    (job / 'out' / 'afile').write_text('x')
    _one_line(*_in_process(capsys, job, out='afile/o.json'), 'is a file')


def _jpeg(shape=(40, 48, 3), **kw):
    buf = io.BytesIO()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, shape, np.uint8)).save(
        buf, 'JPEG', **kw)
    return buf.getvalue()


def _headers_only(data, keep=14, eoi=True):
    """A JPEG cut after its scan header (``keep`` bytes of it), with the
    end-of-image marker appended: PIL decodes it to flat grey."""
    sos = data.index(b'\xff\xda')
    return data[:sos + keep] + (b'\xff\xd9' if eoi else b'')


@pytest.mark.parametrize('kw', [{}, dict(progressive=True),
                                dict(optimize=True)])
def test_jpeg_without_pixel_data_is_a_skip(tmp_path, kw):
    data = _jpeg(**kw)
    assert jpeg_pixel_data_problem(data) is None
    for bad in (_headers_only(data), _headers_only(data, eoi=False),
                data[:data.index(b'\xff\xda')] + b'\xff\xd9'):
        path = tmp_path / 'x.jpg'
        path.write_bytes(bad)
        with pytest.raises(SkipImage) as err:
            load_image(str(path), min_size=1)
        assert err.value.kind in ('no pixel data', 'truncated')


def test_small_and_flat_jpegs_still_load(tmp_path):
    for shape in ((17, 9, 3), (480, 640, 3), (64, 64)):
        buf = io.BytesIO()
        Image.fromarray(np.full(shape, 77, np.uint8)).save(buf, 'JPEG')
        path = tmp_path / 'f.jpg'
        path.write_bytes(buf.getvalue())
        assert load_image(str(path), min_size=1).shape[:2] == shape[:2]


def test_empty_jpeg_recorded_as_skip_by_the_tool(job, tmp_path, capsys):
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    (imgs / 'ok.jpg').write_bytes(_jpeg())
    (imgs / 'empty.jpg').write_bytes(_headers_only(_jpeg()))
    out = tmp_path / 'o.json'
    _tool().main([
        '--input',
        str(imgs), '--out',
        str(out), '--config',
        str(job / 'tiny.py'), '--device', 'cpu', '--no-progress'
    ])
    data = json.loads(out.read_text())
    assert [im['file_name'] for im in data['images']] == ['ok.jpg']
    skipped = (tmp_path / 'o.skipped.txt').read_text()
    assert 'empty.jpg' in skipped and 'pixel data' in skipped


@pytest.mark.parametrize('name', [
    'maskcut/maskcut_dino-vitb8_480.py', 'maskcut/maskcut_dino-vitb16_480.py',
    'maskcut/maskcut_dino-vits8_480.py', 'toy/maskcut_patch-stats.py'
])
def test_shipped_configs_pass_validation(name, tmp_path):
    args = _tool().parse_args([
        '--input', str(tmp_path), '--out', str(tmp_path / 'o.json'),
        '--config', osp.join(REPO_ROOT, 'configs', name), '--cfg-options',
        'engine.batch_size=2'
    ])
    model, maskcut, engine = _tool().build_cfg(args)
    assert engine['batch_size'] == 2


def test_other_extractor_keys_checked_against_its_class(tmp_path):
    args = _tool().parse_args([
        '--input', str(tmp_path), '--out', str(tmp_path / 'o.json'),
        '--config', osp.join(REPO_ROOT, 'configs', 'toy',
                             'maskcut_patch-stats.py'), '--cfg-options',
        'model.patch_sise=4'
    ])
    with pytest.raises(InputError, match='model.patch_size'):
        _tool().build_cfg(args)
