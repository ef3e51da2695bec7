"""The quickstart's self-training table: mean and spread over seeds,
gains paired by seed, "real" only beyond the spread (tools/quickstart.py)."""
import argparse
import importlib.util
import os.path as osp

from vcl_mm.testing.runners import REPO_ROOT


def load_quickstart():
    spec = importlib.util.spec_from_file_location(
        'quickstart_tool', osp.join(REPO_ROOT, 'tools', 'quickstart.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metrics(ap, jf):
    return {'youtube_vis/AP': ap, 'youtube_vis/AP50': ap,
            'youtube_vis/AR10': ap, 'davis/J&F-Mean': jf}


def test_gain_is_real_only_beyond_the_spread():
    qs = load_quickstart()
    args = argparse.Namespace(iters=1500, st_iters=300, num_videos=8,
                              num_train_videos=16)
    per_seed = {}
    for s, base in enumerate((0.20, 0.25, 0.30)):
        per_seed[s] = dict(
            round0=metrics(base, 0.5),
            control=metrics(base + 0.01, 0.5),  # +1 point: within spread
            round1=metrics(base + 0.10, 0.5),  # +10 points: real
            round1_droploss=metrics(base - 0.10, 0.5),  # -10: real loss
            round1_pseudo=dict(kept=5 + s, tracks=100))
    table = qs.self_train_table(args, per_seed)
    lines = table.splitlines()
    round0 = next(ln for ln in lines if ln.startswith('round 0'))
    assert '25.0 +- 5.0' in round0 and '[20.0 25.0 30.0]' in round0
    gains = {ln.split(':')[0].strip(): ln for ln in lines
             if ln.startswith('  ')}
    assert 'AP +1.0 +-0.0 (within spread)' in gains[
        '+300 it ImageCut2Video only']
    assert 'AP +10.0 +-0.0 (real)' in gains['round 1']
    assert 'AP -10.0 +-0.0 (real)' in gains['round 1 + DropLoss (IoU 0.01)']
    assert 'J&F +0.0 +-0.0 (within spread)' in gains['round 1']
    assert '5/100, 6/100, 7/100' in table
