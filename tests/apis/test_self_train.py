"""The self-training loop end to end on tiny generated videos (tiny model,
2 iterations a round): outputs per round, resume after an interruption,
clear errors (vcl_mm.apis.self_training, tools/self_train.py)."""
import json
import os
import os.path as osp
import shutil

import pytest
import torch

from vcl_mm.testing.checkpoints import save_random_checkpoint
from vcl_mm.testing.runners import REPO_ROOT, run_tool
from vcl_mm.testing.toy_data import write_image_set, write_video_set
from vcl_mm.utils import InputError

CONFIG = osp.join(REPO_ROOT, 'configs', 'toy', 'self_train_quickstart.py')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """Images (ImageCut2Video source), unlabeled videos (+ a one-frame
    one), test videos and a random-weights starting checkpoint."""

    from vcl_mm.utils import register_all_modules
    register_all_modules()
    root = tmp_path_factory.mktemp('selftrain')
    write_image_set(str(root / 'images'), num_images=4, seed=0,
                    size=(96, 96))
    write_video_set(str(root / 'train'), num_videos=2, seed=5,
                    size=(64, 96), frames=(5, 6))
    videos = root / 'train' / 'JPEGImages'
    os.makedirs(videos / 'single')
    shutil.copy(videos / 'video0000' / '00000.jpg', videos / 'single')
    write_video_set(str(root / 'test'), num_videos=1, seed=6,
                    size=(64, 96), frames=(5, 5))
    ckpt = save_random_checkpoint(CONFIG, str(root / 'init.pth'))
    return dict(root=root, videos=str(videos), ckpt=ckpt,
                test=str(root / 'test') + '/')


def options(data, **extra):
    opts = {
        'train_dataloader.dataset.datasets.0.dataset.data_root':
        str(data['root'] / 'images') + '/',
        'train_dataloader.dataset.datasets.0.dataset.ann_file':
        'gt_masks.json',
        # random weights: keep their tracks whatever they look like
        'self_training.filter.score_thr': 0.,
        'self_training.filter.min_temporal_iou': 0.,
        'train_cfg.max_iters': 2,
        'param_scheduler.end': 2,
        'param_scheduler.milestones': [1],
        'default_hooks.checkpoint.interval': 2,
    }
    opts.update(extra)
    return opts


def trainer(data, work, rounds=1, test=False, **extra):
    from vcl_mm.apis.self_training import SelfTraining
    return SelfTraining(
        CONFIG, data['videos'], str(work), rounds, checkpoint=data['ckpt'],
        cfg_options=options(data, **extra),
        test_config=CONFIG if test else None,
        test_cfg_options={'test_dataloader.dataset.data_root': data['test']}
        if test else None, device='cpu')


def weights(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def test_rounds_resume_after_an_interruption(data, tmp_path, monkeypatch):
    from vcl_mm.apis import self_training
    straight = tmp_path / 'straight'
    trainer(data, straight).run()

    work = tmp_path / 'interrupted'
    real_train = self_training.SelfTraining._train

    def interrupt(self, k, labels):
        raise KeyboardInterrupt

    monkeypatch.setattr(self_training.SelfTraining, '_train', interrupt)
    with pytest.raises(KeyboardInterrupt):
        trainer(data, work, rounds=2, test=True).run()
    labels = work / 'round_1' / 'pseudo_labels.json'
    assert labels.is_file() and not (work / 'round_1' / 'model.pth').exists()
    stamp = labels.stat().st_mtime_ns
    # a half-written file of an interrupted write never counts
    (work / 'round_1' / '.pseudo_labels.json.x.tmp').write_text('{"vid')
    monkeypatch.setattr(self_training.SelfTraining, '_train', real_train)
    summary = trainer(data, work, rounds=2, test=True).run()

    assert labels.stat().st_mtime_ns == stamp  # reused, not redone
    assert labels.read_text() == (straight / 'round_1' /
                                  'pseudo_labels.json').read_text()
    a = weights(straight / 'round_1' / 'model.pth')
    b = weights(work / 'round_1' / 'model.pth')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    for k in (1, 2):
        rd = work / f'round_{k}'
        for name in ('pseudo_labels.json', 'pseudo_stats.json', 'model.pth',
                     'metrics.json'):
            assert (rd / name).is_file(), (k, name)
    assert [r['round'] for r in summary['rounds']] == [1, 2]
    assert 'youtube_vis/AP' in summary['round_0_metrics']
    assert 'davis/J&F-Mean' in summary['rounds'][1]['metrics']
    pseudo = json.loads(labels.read_text())
    assert [v['name'] for v in pseudo['videos']] == ['video0000',
                                                     'video0001']
    assert pseudo['info']['round'] == 1
    index = json.loads((work / 'videos.json').read_text())['videos']
    skipped = {v['name']: v['skipped'] for v in index}
    assert 'at least 2' in skipped['single'] and not skipped['video0000']

    # everything done: a rerun trains nothing
    model = work / 'round_2' / 'model.pth'
    stamp = model.stat().st_mtime_ns
    monkeypatch.setattr(self_training.SelfTraining, '_train', interrupt)
    trainer(data, work, rounds=2, test=True).run()
    assert model.stat().st_mtime_ns == stamp


def test_clear_errors(data, tmp_path):
    from vcl_mm.apis.self_training import SelfTraining
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(InputError, match='holds no videos'):
        SelfTraining(CONFIG, str(empty), str(tmp_path / 'w0'), 1,
                     checkpoint=data['ckpt'],
                     cfg_options=options(data)).run()
    single = tmp_path / 'one'
    shutil.copytree(osp.join(data['videos'], 'single'), single / 'single')
    with pytest.raises(InputError, match='all 1 skipped'):
        SelfTraining(CONFIG, str(single), str(tmp_path / 'w1'), 1,
                     checkpoint=data['ckpt'],
                     cfg_options=options(data)).run()
    with pytest.raises(InputError, match='starting checkpoint not found'):
        SelfTraining(CONFIG, data['videos'], str(tmp_path / 'w2'), 1,
                     checkpoint=str(tmp_path / 'nope.pth'))
    strict = trainer(data, tmp_path / 'w3',
                     **{'self_training.filter.score_thr': 1.01})
    with pytest.raises(InputError, match='loosen self_training.filter'):
        strict.run()
    stats = json.loads(
        (tmp_path / 'w3' / 'round_1' / 'pseudo_stats.json').read_text())
    assert stats['totals']['kept'] == 0 and stats['totals']['dropped'][
        'score'] == stats['totals']['tracks'] > 0
    assert not (tmp_path / 'w3' / 'round_1' / 'pseudo_labels.json').exists()


def test_tool_reports_a_missing_videos_folder(tmp_path):
    proc = run_tool([
        'tools/self_train.py', CONFIG, '--videos',
        str(tmp_path / 'missing'), '--work-dir',
        str(tmp_path / 'w'), '--checkpoint', str(tmp_path / 'x.pth')
    ], env_extra=dict(OMP_NUM_THREADS='1'))
    assert proc.returncode == 2
    assert 'error: starting checkpoint not found' in proc.stderr
