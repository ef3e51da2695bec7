"""tools/train.py and tools/test.py end to end on generated videos (CPU).

One module-scoped training run (4 iterations) feeds the resume, test and
checkpoint tests; the 2-process run is separate.
"""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from vcl_mm.testing.toy_data import write_video_set
from vcl_mm.testing.runners import REPO_ROOT, run_tool

ROOT = REPO_ROOT
CONFIG = osp.join(ROOT, 'configs', 'toy', 'video_smoke_generated.py')


def smoke_options(data_root, iters):
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_cfg.max_iters={iters}', f'param_scheduler.end={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1'
    ]


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('videos'))
    write_video_set(root, num_videos=3, seed=0, size=(64, 96), frames=(4, 5))
    return root


@pytest.fixture(scope='module')
def trained(videos, tmp_path_factory):
    """A 4-iteration training run; returns its work dir."""
    work_dir = str(tmp_path_factory.mktemp('train'))
    proc = run_tool(['tools/train.py', CONFIG, '--work-dir', work_dir] +
                    smoke_options(videos, 4))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work_dir


def test_train_writes_checkpoint_with_losses(trained):
    ckpt = osp.join(trained, 'iter_4.pth')
    assert osp.isfile(ckpt)
    state = torch.load(ckpt, map_location='cpu', weights_only=False)
    assert state['meta']['iter'] == 4
    assert any(k.startswith('track_head.') for k in state['state_dict'])
    logs = open(next(
        osp.join(dp, f) for dp, _, fs in os.walk(trained) for f in fs
        if f.endswith('.log'))).read()
    losses = [float(x) for x in re.findall(r' loss: ([0-9.]+)', logs)]
    assert len(losses) == 4 and all(0 < v < 1e4 for v in losses)


def test_resume_continues_at_saved_iteration(trained, videos):
    proc = run_tool(['tools/train.py', CONFIG, '--work-dir', trained,
                     '--resume'] + smoke_options(videos, 6))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in out
    state = torch.load(osp.join(trained, 'iter_6.pth'), map_location='cpu',
                       weights_only=False)
    assert state['meta']['iter'] == 6
    # Only iterations 5 and 6 ran after resuming.
    assert re.search(r'Iter\(train\) \[5/6\]', out)
    assert not re.search(r'Iter\(train\) \[1/6\]', out)


def test_test_tool_loads_checkpoint_and_evaluates(trained, videos, tmp_path):
    out_pkl = str(tmp_path / 'preds.pkl')
    proc = run_tool([
        'tools/test.py', CONFIG,
        osp.join(trained, 'iter_4.pth'), '--work-dir',
        str(tmp_path), '--out', out_pkl, '--cfg-options',
        f'test_dataloader.dataset.data_root={videos}'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    # read once (strictly, by tools/test.py), not again by mmengine
    assert out.count('Load checkpoint from') == 1
    assert re.search(r'AP50', out)
    assert osp.getsize(out_pkl) > 0


@pytest.mark.dist
def test_two_process_training_with_torchrun(videos, tmp_path):
    work_dir = str(tmp_path / 'dist')
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
         '2', '--master_port', '29533', 'tools/train.py', CONFIG,
         '--launcher', 'pytorch', '--work-dir', work_dir] +
        smoke_options(videos, 2) +
        ['train_dataloader.batch_size=1'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpts = [f for f in os.listdir(work_dir) if f.endswith('.pth')]
    assert ckpts == ['iter_2.pth']
    assert 'Distributed launcher: pytorch' in proc.stdout + proc.stderr or \
        'world_size: 2' in proc.stdout + proc.stderr


@pytest.mark.parametrize('kind, trust, message', [
    ('random bytes', '0', 'is not a PyTorch checkpoint'),
    ('random bytes', '1', 'is not a PyTorch checkpoint'),
    ('weights only', '0', 'cannot resume a training'),
    ('bare state dict', '1', 'cannot resume a training'),
])
def test_resume_from_a_file_that_cannot_resume(videos, tmp_path, kind, trust,
                                               message):
    """One line, no traceback."""
    path = str(tmp_path / 'ckpt.pth')
    if kind == 'random bytes':
        with open(path, 'wb') as f:
            f.write(bytes(range(256)) * 16)
    elif kind == 'weights only':
        torch.save(dict(state_dict={'w': torch.zeros(2)}, meta=dict()), path)
    else:
        torch.save({'w': torch.zeros(2)}, path)
    proc = run_tool(
        [
            'tools/train.py', CONFIG, '--work-dir',
            str(tmp_path / 'w'), '--resume', path
        ] + smoke_options(videos, 2),
        timeout=300,
        env_extra=dict(VCL_MM_TRUST_CHECKPOINTS=trust))
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    line = [x for x in proc.stderr.splitlines() if x.strip()][-1]
    assert line.startswith('error: ') and path in line and message in line
    if kind != 'random bytes':
        assert f'load_from={path}' in line
    assert 'VCL_MM_TRUST_CHECKPOINTS' not in line


@pytest.mark.parametrize('args, message', [
    (['tools/train.py', 'configs/missing.py'], 'config not found'),
    (['tools/train.py', CONFIG, '--resume', '/nonexistent/iter_1.pth'],
     'checkpoint to resume from not found'),
    (['tools/train.py', CONFIG, '--cfg-options',
      'train_dataloader.dataset.data_root=/nonexistent/videos'],
     'data root of train_dataloader not found: /nonexistent/videos'),
    (['tools/test.py', CONFIG, '/nonexistent/model.pth'],
     'checkpoint not found: /nonexistent/model.pth'),
])
def test_bad_input_is_one_clear_line(args, message):
    proc = run_tool(args, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith('error: ') and message in lines[-1]
    assert 'Traceback' not in proc.stderr


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='on GPUs mmengine starts the group')
@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py'])
def test_cpu_launcher_outside_torchrun_is_one_clear_line(tool, tmp_path):
    """The shared dist-init helper (also tools/maskcut.py's) names torchrun
    instead of torch's missing-RANK traceback."""
    ckpt = tmp_path / 'any.pth'
    ckpt.write_bytes(b'')
    args = [tool, CONFIG] + ([str(ckpt)] if tool == 'tools/test.py' else [])
    env = {k: v for k, v in os.environ.items()
           if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK')}
    proc = subprocess.run(
        [sys.executable] + args + ['--launcher', 'pytorch'], cwd=ROOT,
        env=dict(env, PYTHONPATH=ROOT, OMP_NUM_THREADS='2'),
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1]
    assert last.startswith('error: ') and 'torchrun' in last
    assert 'Traceback' not in proc.stderr


def test_test_tool_refuses_a_checkpoint_of_another_model(videos, tmp_path):
    """No silent evaluation with random weights (mmengine only warns)."""
    path = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.ones(1)}),
               path)
    proc = run_tool(['tools/test.py', CONFIG, path, '--work-dir',
                     str(tmp_path / 'w'), '--cfg-options',
                     f'test_dataloader.dataset.data_root={videos}'],
                    timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1]
    assert last.startswith('error: ') and 'does not fit' in last
    assert 'missing' in last and 'Traceback' not in proc.stderr
