"""vcl_mm as a plugin: a downstream project outside the repository, driven
only through MMDetection's own installed tools, torchrun and a notebook.

The project's configs inherit ``vcl_mm::`` configs and change recipe
variables (``num_frames``, ``data_root``) by inheritance; nothing of the
repository's ``tools/`` is used.
"""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config

from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.testing.toy_data import write_image_set, write_video_set

pytestmark = pytest.mark.slow


def mmdet_tool(name):
    """mmdet's installed ``tools/<name>`` (its wheel ships them in
    ``mmdet/.mim/tools``, where ``mim`` runs them)."""
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', name)
    assert osp.isfile(path), f'mmdet installed without its tools: {path}'
    return path


def run(cmd, cwd, timeout=600):
    # the project runs outside the checkout: vcl_mm comes from the install,
    # never from the current directory or PYTHONPATH
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """A user's project: generated data and two configs of their own."""
    root = tmp_path_factory.mktemp('my_project')
    images = root / 'data' / 'images'
    videos = root / 'data' / 'videos'
    write_image_set(str(images), num_images=6, seed=0, size=(96, 128))
    write_video_set(str(videos), num_videos=2, seed=0, size=(64, 96),
                    frames=(4, 5))
    configs = root / 'configs'
    configs.mkdir()
    (configs / 'my_videocutler.py').write_text(textwrap.dedent(f"""\
        # the toy VideoCutLER recipe, 2-frame clips, on my images
        _base_ = 'vcl_mm::toy/videocutler_smoke_cpu.py'
        num_frames = 2
        data_root = '{images}/'
        train_cfg = dict(max_iters=2)
        param_scheduler = dict(end=2, milestones=[1])
        default_hooks = dict(
            logger=dict(interval=1), checkpoint=dict(interval=2))
        """))
    (configs / 'my_eval.py').write_text(textwrap.dedent(f"""\
        _base_ = 'vcl_mm::toy/video_smoke_generated.py'
        data_root = '{videos}/'
        """))
    return root


def trained_config(work_dir):
    return Config.fromfile(osp.join(work_dir, 'my_videocutler.py'))


@pytest.mark.parametrize('amp', [False, True])
def test_mmdet_train_and_test_tools_run_a_downstream_config(project, amp):
    work_dir = str(project / f'work_amp{int(amp)}')
    proc = run([
        sys.executable,
        mmdet_tool('train.py'), 'configs/my_videocutler.py', '--work-dir',
        work_dir
    ] + (['--amp'] if amp else []), cwd=project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'iter_2.pth' in os.listdir(work_dir)
    # the child's num_frames reached the clips and the track head
    cfg = trained_config(work_dir)
    assert cfg.model.track_head.num_frames == 2
    to_clip = [
        t for t in cfg.train_dataloader.dataset.dataset.pipeline
        if t['type'] == 'ImageToClip'
    ]
    assert to_clip[0]['num_frames'] == 2
    if amp:
        # --amp asked for AmpOptimWrapper: the device-aware one (bfloat16
        # on CPU) in the vcl_mm scope, not mmengine's GPU-only one
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert 'bfloat16' in proc.stdout + proc.stderr or 'Amp' in \
            proc.stdout + proc.stderr
    # mmdet's test.py loads the checkpoint mmdet's train.py just wrote
    # (torch >= 2.6 weights-only loading) and evaluates it
    test_dir = str(project / f'test_amp{int(amp)}')
    proc = run([
        sys.executable,
        mmdet_tool('test.py'), 'configs/my_eval.py',
        osp.join(work_dir, 'iter_2.pth'), '--work-dir', test_dir
    ], cwd=project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Load checkpoint from' in proc.stdout + proc.stderr
    assert 'AP50' in proc.stdout + proc.stderr


@pytest.mark.dist
def test_torchrun_of_mmdet_train_on_cpu(project):
    work_dir = str(project / 'work_dist')
    proc = run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
        '2', '--master_port', '29541',
        mmdet_tool('train.py'), 'configs/my_videocutler.py', '--launcher',
        'pytorch', '--work-dir', work_dir, '--cfg-options',
        'train_dataloader.batch_size=1'
    ], cwd=project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'iter_2.pth' in os.listdir(work_dir)
    log = proc.stdout + proc.stderr
    assert 'Distributed launcher: pytorch' in log
    assert 'Distributed training: True' in log


def test_notebook_style_build_through_the_registries(project):
    """Config.fromfile + mmdet's RUNNERS, as a notebook would, in a fresh
    interpreter; also the components one by one in the vcl_mm scope."""
    code = textwrap.dedent(f"""\
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmdet.registry import DATASETS, MODELS, RUNNERS
        cfg = Config.fromfile('configs/my_videocutler.py')
        cfg.work_dir = '{project}/work_notebook'
        runner = RUNNERS.build(cfg)
        assert type(runner).__name__ == 'DeviceAwareRunner'
        runner.train()
        init_default_scope('vcl_mm')
        from vcl_mm.utils import resolve_variables
        resolve_variables(cfg)
        model = MODELS.build(cfg.model)
        assert model.track_head.num_frames == 2
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        sample = dataset[0]
        assert sample['inputs'].shape[0] == 2, sample['inputs'].shape
        print('NOTEBOOK OK')
        """)
    proc = run([sys.executable, '-c', code], cwd=project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'NOTEBOOK OK' in proc.stdout


def test_a_wheel_installed_outside_the_checkout_resolves_vcl_mm_configs(
        tmp_path):
    """A non-editable install carries the configs (vcl_mm/.mim/configs)."""
    wheels = tmp_path / 'wheels'
    proc = run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w',
        str(wheels), REPO_ROOT
    ], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel = [f for f in os.listdir(wheels) if f.endswith('.whl')]
    assert len(wheel) == 1, wheel
    site = tmp_path / 'site'
    proc = run([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '-q',
        '--target',
        str(site),
        str(wheels / wheel[0])
    ], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    packaged = site / 'vcl_mm' / '.mim' / 'configs'
    assert not packaged.is_symlink() and (
        packaged / 'toy' / 'videocutler_smoke_cpu.py').is_file()
    assert (site / 'vcl_mm' / '.mim' / 'tools' / 'train.py').is_file()
    (tmp_path / 'child.py').write_text(
        "_base_ = 'vcl_mm::videocutler/videocutler_r50_8xb2-80k_imagenet.py'"
        '\nnum_frames = 4\n')
    assert (site / 'vcl_mm-config-scope.pth').is_file()
    # no site processing (-S): the dependencies' folder is put on the path
    # without its .pth files (the checkout's editable install and its hook),
    # the wheel's folder is added as a site folder, so only the wheel's own
    # .pth can make mmengine resolve vcl_mm:: names
    import sysconfig
    code = textwrap.dedent("""\
        import site, sys
        sys.path.append({deps!r})
        site.addsitedir({site!r})
        import vcl_mm
        from mmengine.config import Config
        from vcl_mm.utils import resolve_variables
        assert vcl_mm.__file__.startswith({site!r}), vcl_mm.__file__
        cfg = resolve_variables(Config.fromfile('child.py'))
        assert cfg.model.track_head.num_frames == 4
        print('WHEEL OK')
        """).format(site=str(site), deps=sysconfig.get_path('purelib'))
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run([sys.executable, '-S', '-c', code], cwd=tmp_path,
                          env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'WHEEL OK' in proc.stdout
