"""Workers of the pipelined MaskCut engine die with the main process, even
when it is killed with SIGKILL (no clean-up runs then): a parent-death
signal plus a watchdog on the parent pid."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from vcl_mm.testing.runners import REPO_ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='reads /proc')

BASE = os.path.join(REPO_ROOT, 'configs', 'maskcut',
                    'maskcut_dino-vitb8_480.py')


def _children(pid):
    """Pids of the live (not zombie) processes whose parent is ``pid``."""
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(')') + 2:].split()
        if int(fields[1]) == pid and fields[0] != 'Z':
            out.append(int(entry))
    return out


def _alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(')') + 2:].split()[0] != 'Z'


def _wait(predicate, limit_s):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _start(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    return subprocess.Popen([sys.executable] + args, cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / 'stderr.txt', 'w'))


def _kill_and_check(proc, expected_workers):
    try:
        assert _wait(lambda: len(_children(proc.pid)) >= expected_workers,
                     120), (f'workers did not start: '
                            f'{_children(proc.pid)}')
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # a bound, not a timing: the watchdog looks every second
        assert _wait(lambda: not any(_alive(p) for p in workers), 15), (
            f'workers {[p for p in workers if _alive(p)]} outlived their '
            'parent')
    finally:
        if proc.poll() is None:
            proc.kill()


SCRIPT = """
import sys, time
from torch.utils.data import DataLoader, Dataset
from vcl_mm.maskcut.lifetime import parent_tie
from vcl_mm.maskcut.postpool import make_post_pool

class Slow(Dataset):
    def __len__(self):
        return 10 ** 6
    def __getitem__(self, i):
        time.sleep(0.05)
        return i

if __name__ == '__main__':
    method, n = sys.argv[1], int(sys.argv[2])
    pool = make_post_pool(n, method)
    loader = iter(DataLoader(Slow(), batch_size=None, num_workers=n,
                             worker_init_fn=parent_tie(),
                             multiprocessing_context=method))
    next(loader)
    pool.submit(time.sleep, 1000)
    time.sleep(1000)
"""


@pytest.mark.parametrize('method,n', [('fork', 2), ('spawn', 1)])
def test_pool_and_loader_workers_die_with_parent(tmp_path, method, n):
    script = tmp_path / 'hold.py'
    script.write_text(SCRIPT)
    _kill_and_check(_start([str(script), method, str(n)], tmp_path), 2 * n)


def test_tie_without_parent_kills_at_once():
    """A worker whose parent is already gone dies in the initializer."""
    code = ('from vcl_mm.maskcut.lifetime import tie_to_parent;'
            'tie_to_parent(1 if __import__("os").getppid() != 1 else 2);'
            'import time; time.sleep(30); print("alive")')
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    res = subprocess.run([sys.executable, '-c', code], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == -signal.SIGKILL and 'alive' not in res.stdout


def test_sigkill_of_a_pipelined_maskcut_run(tmp_path):
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(400):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8)).save(
            imgs / f'{i:04d}.png')
    (tmp_path / 'cfg.py').write_text(
        f"_base_ = '{BASE}'\n"
        "model = dict(arch=dict(_delete_=True, embed_dims=32, num_layers=2,"
        " num_heads=2), weights=None, random_init=True)\n"
        "maskcut = dict(fixed_size=160)\n"
        "engine = dict(num_workers=1, post_workers=1)\n")
    proc = _start([
        'tools/maskcut.py', '--input',
        str(imgs), '--out',
        str(tmp_path / 'o.json'), '--config',
        str(tmp_path / 'cfg.py'), '--device', 'cpu', '--no-progress'
    ], tmp_path)
    _kill_and_check(proc, 2)
