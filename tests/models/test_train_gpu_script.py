"""benchmarks/gpu/train_gpu.sh in its quick CPU mode, so that the GPU
training check is known to work before it reaches a GPU."""
import json
import os
import subprocess
import sys

import pytest
from model_helpers import ROOT


def test_train_gpu_script_tiny_on_cpu(tmp_path):
    proc = subprocess.run([
        'bash', 'benchmarks/gpu/train_gpu.sh', '--device', 'cpu', '--tiny',
        '--runs', 'video2:float32', 'image:amp', '--out',
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
    result = json.loads((tmp_path / 'train_gpu.json').read_text())
    assert set(result['runs']) == {'video2 float32', 'image amp'}
    for key, run in result['runs'].items():
        assert run['iterations'] == 2, key
        assert run['s_per_iter'] > 0
        assert run['nonfinite_loss_fraction'] == 0.
        assert run['nonfinite_cost_fraction'] == 0.
    assert result['runs']['image amp']['skipped_by_wrapper'] == 0
    assert result['runs']['video2 float32']['first_input_shape'][0] == 2
    assert 'pytorch' in result['environment']['deform_attn']
    assert 'non-finite cost' in proc.stdout


@pytest.mark.skipif(
    not os.environ.get('VCL_MM_TEST_WHEELS'),
    reason='needs VCL_MM_TEST_WHEELS: a folder of the wheels that '
    'benchmarks/gpu/fetch_wheels.sh downloads, for this Python')
def test_train_gpu_script_offline_wheels_mmcv_lite(tmp_path):
    """The GPU box's set-up: OpenMMLab packages from wheels installed
    offline, mmcv-lite with the stub mmcv._ext (pure-PyTorch ops)."""
    proc = subprocess.run([
        'bash', 'benchmarks/gpu/train_gpu.sh', '--device', 'cpu', '--tiny',
        '--runs', 'video3:float32', '--out',
        str(tmp_path)
    ],
                          cwd=ROOT,
                          env=dict(
                              os.environ,
                              PYTHON=sys.executable,
                              OMP_NUM_THREADS='1',
                              VCL_MM_FORCE_WHEELS='1',
                              VCL_MM_WHEELS=os.environ['VCL_MM_TEST_WHEELS']),
                          capture_output=True,
                          text=True,
                          timeout=280)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / 'train_gpu.json').read_text())
    assert result['environment']['mmcv_ops'] == 'stub (mmcv-lite)'
    assert result['runs']['video3 float32']['iterations'] == 2
