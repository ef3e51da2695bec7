"""tools/maskcut.py (in-process and under torchrun) and the mask viewer."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
from mc_helpers import write_scenes
from PIL import Image

from vcl_mm.maskcut.job import run_maskcut
from vcl_mm.testing.runners import REPO_ROOT

ROOT = REPO_ROOT
BASE = osp.join(ROOT, 'configs', 'maskcut', 'maskcut_dino-vitb8_480.py')
TINY_CONFIG = f"""_base_ = '{BASE}'
model = dict(arch=dict(_delete_=True, embed_dims=32, num_layers=2,
                       num_heads=2),
             weights=None, random_init=True)
maskcut = dict(fixed_size=160)
engine = dict(flush_every=1)
"""


def _tool(path, name):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def job(tmp_path_factory):
    root = tmp_path_factory.mktemp('cli')
    (root / 'imgs').mkdir()
    write_scenes(
        str(root / 'imgs'), [(96, 128), (128, 96), (80, 80), (64, 112)],
        seed=2)
    (root / 'tiny.py').write_text(TINY_CONFIG)
    # bytes that are neither an image nor UTF-8 text
    (root / 'weights.bin').write_bytes(bytes(range(256)) * 4)
    return root


def test_cli_in_process(job, capsys):
    tool = _tool('tools/maskcut.py', 'maskcut_tool')
    out = job / 'cli.json'
    tool.main([
        '--input',
        str(job / 'imgs'), '--out',
        str(out), '--config',
        str(job / 'tiny.py'), '--device', 'cpu', '--no-progress',
        '--cfg-options', 'maskcut.num_masks=2'
    ])
    printed = capsys.readouterr().out
    assert 'MaskCut: 4 images' in printed and 'images/s' in printed
    assert 'features' in printed and 'ncut' in printed and 'crf' in printed
    data = json.loads(out.read_text())
    assert {im['file_name']
            for im in data['images']
            } <= {'000.jpg', '001.jpg', '002.jpg', '003.jpg'}
    per_image = {}
    for ann in data['annotations']:
        per_image[ann['image_id']] = per_image.get(ann['image_id'], 0) + 1
    assert all(n <= 2 for n in per_image.values())
    assert (job / 'cli.skipped.txt').exists()


@pytest.mark.parametrize('args, message', [
    (['--input', '/nonexistent/dir'], 'input not found'),
    (['--config', '/nonexistent.py'], 'config not found'),
    (['--cfg-options', 'maskcut.tau=2'], 'maskcut.tau'),
    (['--cfg-options', 'engine.batch_size=0'], 'engine.batch_size'),
    (['--cfg-options', 'engine.post_workers=-1'], 'engine.post_workers'),
    (['--cfg-options', 'engine.start_method=thread'], 'engine.start_method'),
    (['--weights', '/nonexistent/dino.pth'], 'DINO weights not found'),
    (['--launcher', 'pytorch'], 'torchrun'),
    (['--input', '{job}/weights.bin'], 'neither an image'),
])
def test_cli_input_errors_exit_2(job, capsys, args, message):
    tool = _tool('tools/maskcut.py', 'maskcut_tool')
    args = [a.replace('{job}', str(job)) for a in args]
    base = ['--input', str(job / 'imgs'), '--out', str(job / 'e.json')]
    if '--config' not in args and '--weights' not in args:
        base += ['--config', str(job / 'tiny.py')]
    with pytest.raises(SystemExit) as exit_:
        tool.main(base + args + ['--device', 'cpu', '--no-progress'])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def _run_tool(job, *args):
    tool = _tool('tools/maskcut.py', 'maskcut_tool')
    tool.main(
        ['--config',
         str(job / 'tiny.py'), '--device', 'cpu', '--no-progress'] +
        [str(a) for a in args])


def test_cli_cfg_options_reach_the_run(job, tmp_path, capsys):
    """--cfg-options replaces the per-key flags: no CRF, batches of 2."""
    out = tmp_path / 'plain.json'
    _run_tool(job, '--input', job / 'imgs', '--out', out, '--cfg-options',
              'maskcut.crf=None', 'engine.batch_size=2')
    printed = capsys.readouterr().out
    assert 'MaskCut: 4 images' in printed
    assert 'upsample 0.' in printed and 'crf 0.' not in printed
    meta = json.loads(
        (tmp_path / 'plain.json.parts' / 'meta.json').read_text())
    assert meta['maskcut']['crf'] is None
    for flag in ('--no-crf', '--tau', '--batch-size', '--random-init'):
        with pytest.raises(SystemExit) as exit_:
            _run_tool(job, '--input', job / 'imgs', '--out', out, flag)
        assert exit_.value.code == 2


def test_cli_single_image_input(job, tmp_path, capsys):
    """``--input photo.jpg`` labels that one image."""
    out = tmp_path / 'one.json'
    _run_tool(job, '--input', job / 'imgs' / '001.jpg', '--out', out)
    assert 'MaskCut: 1 images' in capsys.readouterr().out
    names = [im['file_name'] for im in json.loads(out.read_text())['images']]
    skipped = (tmp_path / 'one.skipped.txt').read_text().splitlines()[1:]
    assert names + [line.split('\t')[0] for line in skipped] == ['001.jpg']


@pytest.mark.parametrize('kind, message', [
    ('parent is a file', 'is a file, not a folder'),
    ('read-only folder', 'is not writable'),
    ('existing directory', 'is a directory'),
    ('parts folder is a file', 'where partial results go'),
])
def test_cli_unwritable_out_is_refused_before_any_work(job, tmp_path, capsys,
                                                       monkeypatch, kind,
                                                       message):
    """An --out that cannot be written: one line, exit 2, nothing
    labelled."""
    if kind == 'parent is a file':
        (tmp_path / 'file').write_text('x')
        out = tmp_path / 'file' / 'out.json'
    elif kind == 'read-only folder':
        folder = tmp_path / 'ro'
        folder.mkdir()
        folder.chmod(0o555)
        out = folder / 'out.json'
        if os.access(folder, os.W_OK):  # root writes anyway: simulate
            import tempfile
            real = tempfile.TemporaryFile

            def refuse(*args, dir=None, **kwargs):
                if dir is not None and osp.samefile(dir, folder):
                    raise PermissionError(13, 'Permission denied')
                return real(*args, dir=dir, **kwargs)

            monkeypatch.setattr(tempfile, 'TemporaryFile', refuse)
    elif kind == 'existing directory':
        out = tmp_path / 'out.json'
        out.mkdir()
    else:
        out = tmp_path / 'out.json'
        (tmp_path / 'out.json.parts').write_text('x')
    with pytest.raises(SystemExit) as exit_:
        _run_tool(job, '--input', job / 'imgs', '--out', out)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and str(out) in err[0]
    if kind != 'parts folder is a file':
        assert not osp.exists(str(out) + '.parts')  # refused at the start
    assert not osp.isfile(out)


@pytest.mark.parametrize('umask', [0o022, 0o007])
def test_cli_outputs_honour_the_umask(job, tmp_path, umask):
    """The JSON is readable as the umask allows, like the
    skipped-images file (not mkstemp's 0o600)."""
    out = tmp_path / 'perm.json'
    (tmp_path / 'one').mkdir()
    shutil.copy(job / 'imgs' / '002.jpg', tmp_path / 'one')
    old = os.umask(umask)
    try:
        _run_tool(job, '--input', tmp_path / 'one', '--out', out)
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    for path in (out, tmp_path / 'perm.skipped.txt',
                 tmp_path / 'perm.json.parts' / 'meta.json'):
        assert os.stat(path).st_mode & 0o777 == want, path


@pytest.mark.dist
def test_torchrun_two_ranks_equal_single_process(job):
    out = job / 'dist.json'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--standalone',
        '--nproc_per_node', '2',
        osp.join(ROOT, 'tools', 'maskcut.py'), '--input',
        str(job / 'imgs'), '--out',
        str(out), '--config',
        str(job / 'tiny.py'), '--launcher', 'pytorch', '--device', 'cpu',
        '--no-progress'
    ]
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count('MaskCut: 4 images') == 1  # rank 0 reports
    parts = os.listdir(str(out) + '.parts')
    assert any(p.startswith('r0000') for p in parts)
    assert any(p.startswith('r0001') for p in parts)
    from mmengine.config import Config
    cfg = Config.fromfile(str(job / 'tiny.py'))
    single = job / 'single.json'
    run_maskcut(
        cfg.model.to_dict(),
        cfg.maskcut.to_dict(),
        str(job / 'imgs'),
        str(single),
        progress=False)
    result = json.loads(out.read_text())
    assert result['annotations']  # random keys still give some masks
    assert result == json.loads(single.read_text())


def test_show_pseudo_masks(job, tmp_path):
    from mc_helpers import COLOUR_MODEL_CFG
    out = tmp_path / 'colour.json'
    run_maskcut(
        COLOUR_MODEL_CFG,
        dict(fixed_size=160),
        str(job / 'imgs'),
        str(out),
        progress=False)
    tool = _tool('tools/analysis_tools/show_pseudo_masks.py', 'show_tool')
    tool.main([
        str(out), '--img-root',
        str(job / 'imgs'), '--output-dir',
        str(tmp_path / 'png'), '--num', '3'
    ])
    pngs = sorted(os.listdir(tmp_path / 'png'))
    assert len(pngs) == 3
    drawn = np.asarray(Image.open(tmp_path / 'png' / pngs[0]))
    original = np.asarray(
        Image.open(job / 'imgs' / pngs[0].replace('.png', '.jpg')))
    assert drawn.shape == original.shape
    changed = np.abs(drawn.astype(int) - original).sum(-1) > 30
    assert 0.02 < changed.mean() < 0.9


#: run before the tool: any import of mmcv or mmdet fails, and each config
#: mmengine reads is printed
BLOCK_OPENMMLAB = '''
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('mmcv', 'mmdet'):
            raise ImportError(f'{name} is blocked (torch-only test)')
sys.meta_path.insert(0, Block())
from mmengine.config import Config
fromfile = Config.fromfile
def spy(path, *args, **kwargs):
    print('mmengine reads', path)
    return fromfile(path, *args, **kwargs)
Config.fromfile = spy
sys.argv = ['tools/maskcut.py'] + sys.argv[1:]
runpy.run_path('tools/maskcut.py', run_name='__main__')
'''


def test_cli_runs_without_mmcv_mmdet(job, tmp_path):
    """The cut stage needs torch, mmengine and friends only."""
    out = tmp_path / 'torch_only.json'
    proc = subprocess.run([
        sys.executable, '-c', BLOCK_OPENMMLAB, '--input',
        str(job / 'imgs'), '--out',
        str(out), '--config',
        str(job / 'tiny.py'), '--device', 'cpu', '--no-progress',
        '--cfg-options', 'engine.num_workers=1', 'engine.post_workers=1'
    ],
                          cwd=ROOT,
                          env=dict(
                              os.environ, PYTHONPATH=ROOT,
                              OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'MaskCut: 4 images' in proc.stdout
    assert f'mmengine reads {job / "tiny.py"}' in proc.stdout
    reference = tmp_path / 'reference.json'
    _run_tool(job, '--input', job / 'imgs', '--out', reference,
              '--cfg-options', 'engine.pipelined=False')
    assert out.read_bytes() == reference.read_bytes()


def test_cli_slurm_array_shards_merge_when_the_last_finishes(
        job, tmp_path, capsys, monkeypatch):
    out = tmp_path / 'array.json'
    monkeypatch.setenv('SLURM_ARRAY_TASK_COUNT', '2')
    monkeypatch.setenv('SLURM_ARRAY_TASK_MIN', '3')
    for task in (4, 3):
        monkeypatch.setenv('SLURM_ARRAY_TASK_ID', str(task))
        _run_tool(job, '--input', job / 'imgs', '--out', out, '--launcher',
                  'slurm-array')
    printed = capsys.readouterr().out
    assert 'shard 1 of 2 done' in printed and 'MaskCut: 4 images' in printed
    single = tmp_path / 'single.json'
    _run_tool(job, '--input', job / 'imgs', '--out', single)
    assert out.read_bytes() == single.read_bytes()
    monkeypatch.delenv('SLURM_ARRAY_TASK_ID')
    with pytest.raises(SystemExit) as exit_:
        _run_tool(job, '--input', job / 'imgs', '--out', out, '--launcher',
                  'slurm-array')
    assert exit_.value.code == 2


def test_gpu_benchmark_script_runs_on_cpu(tmp_path):
    """benchmarks/gpu/maskcut_gpu.sh in its quick CPU mode (so the GPU
    script is known to work before it reaches a GPU)."""
    proc = subprocess.run([
        'bash', 'benchmarks/gpu/maskcut_gpu.sh', '--device', 'cpu', '--tiny',
        '--dtypes', 'float32', '--out',
        str(tmp_path)
    ],
                          cwd=ROOT,
                          env=dict(
                              os.environ,
                              PYTHON=sys.executable,
                              OMP_NUM_THREADS='1'),
                          capture_output=True,
                          text=True,
                          timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / 'maskcut_gpu.json').read_text())
    stages = result['stages']['float32 b1']
    assert stages['keys_s_per_image'] > 0 and stages['ncut_s_per_image'] > 0
    assert result['job']['float32 b1']['images_per_s'] > 0
    assert 'job img/s' in proc.stdout


def test_ctrl_c_keeps_finished_images_and_resumes_to_the_same_json(tmp_path):
    """Ctrl-C during a pipelined run: exit 130 with one line, the finished
    batches (and those in the CRF pool) are written; the same command
    again gives the uninterrupted JSON."""
    import glob
    import signal
    import time
    (tmp_path / 'imgs').mkdir()
    write_scenes(str(tmp_path / 'imgs'), [(96, 128)] * 10, seed=1)
    (tmp_path / 'tiny.py').write_text(TINY_CONFIG)
    out = tmp_path / 'out.json'
    cmd = [
        sys.executable, 'tools/maskcut.py', '--input',
        str(tmp_path / 'imgs'), '--out',
        str(out), '--config',
        str(tmp_path / 'tiny.py'), '--device', 'cpu', '--no-progress',
        '--cfg-options', 'engine.num_workers=1', 'engine.post_workers=1'
    ]
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True)
    parts = str(out) + '.parts/r*.json'
    deadline = time.time() + 200
    while len(glob.glob(parts)) < 2 and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip('the run finished before Ctrl-C arrived')
    assert proc.returncode == 130, err[-2000:]
    assert 'interrupted; the finished images are kept' in err
    kept = sum(
        len(json.loads(open(p).read())['records']) for p in glob.glob(parts))
    assert kept >= 2 and not out.exists()
    resumed = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f'this run: {10 - kept} images in' in resumed.stdout
    assert f'{kept} finished before' in resumed.stdout
    reference = tmp_path / 'reference.json'
    _run_tool(tmp_path, '--input', tmp_path / 'imgs', '--out', reference,
              '--cfg-options', 'engine.pipelined=False')
    assert out.read_bytes() == reference.read_bytes()
