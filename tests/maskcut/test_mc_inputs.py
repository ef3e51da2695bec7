"""MaskCut's command line on bad settings and inputs: one line (exit 2)
before any image is read, or a recorded skip; never a traceback, and no
image without pixel data labelled."""
import io
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from vcl_mm.maskcut.images import SkipImage, jpeg_pixel_data_problem, \
    load_image
from vcl_mm.testing.runners import REPO_ROOT, run_tool

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


def _maskcut(job, *extra, env=None, config='tiny.py'):
    return run_tool([
        'tools/maskcut.py', '--input',
        str(job / 'imgs'), '--out',
        str(job / 'out' / 'o.json'), '--config',
        str(job / config), '--device', 'cpu', '--no-progress', *extra
    ], timeout=300, env_extra=env)


def _one_line(res, *needles):
    assert res.returncode == 2, res.stderr[-2000:]
    err = res.stderr.strip()
    assert err.startswith('error: ') and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


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
def test_bad_cfg_options_named_before_work(job, option, needles):
    _one_line(_maskcut(job, '--cfg-options', option), *needles)


def test_good_options_and_config_still_run(job):
    res = _maskcut(job, '--cfg-options', 'maskcut.tau=0.2',
                   'engine.batch_size=1', 'model.autocast_dtype=None')
    assert res.returncode == 0, res.stderr[-2000:]


def test_config_with_a_syntax_error(job):
    (job / 'broken.py').write_text(TINY + 'engine = dict(batch_size=\n')
    _one_line(_maskcut(job, config='broken.py'), 'syntax error', 'line')
    (job / 'name.py').write_text(TINY + 'x = undefined_name\n')
    _one_line(_maskcut(job, config='name.py'), 'NameError')
    (job / 'typo.py').write_text(TINY + 'engine = dict(flush_evry=2)\n')
    _one_line(_maskcut(job, config='typo.py'), 'engine.flush_every')


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
def test_invalid_slurm_variables(job, env, needle):
    _one_line(_maskcut(job, '--launcher', 'slurm-array', env=env), needle)


def test_invalid_local_world_size(job):
    res = _maskcut(job, '--cfg-options', 'engine.pipelined=True',
                   env=dict(LOCAL_WORLD_SIZE='two'))
    _one_line(res, 'LOCAL_WORLD_SIZE')


def test_output_below_a_regular_file(job):
    (job / 'afile').write_text('x')
    res = run_tool([
        'tools/maskcut.py', '--input',
        str(job / 'imgs'), '--out',
        str(job / 'afile' / 'o.json'), '--config',
        str(job / 'tiny.py'), '--device', 'cpu', '--no-progress'
    ], timeout=300)
    _one_line(res, 'is a file')


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


def test_empty_jpeg_recorded_as_skip_by_the_tool(job, tmp_path):
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    (imgs / 'ok.jpg').write_bytes(_jpeg())
    (imgs / 'empty.jpg').write_bytes(_headers_only(_jpeg()))
    out = tmp_path / 'o.json'
    res = run_tool([
        'tools/maskcut.py', '--input',
        str(imgs), '--out',
        str(out), '--config',
        str(job / 'tiny.py'), '--device', 'cpu', '--no-progress'
    ], timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert [im['file_name'] for im in data['images']] == ['ok.jpg']
    skipped = (tmp_path / 'o.skipped.txt').read_text()
    assert 'empty.jpg' in skipped and 'pixel data' in skipped
