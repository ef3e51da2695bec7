"""The pipelined engine: the serial engine's JSON bit for bit, worker
errors naming their image, worker counts from the machine."""
import os

import numpy as np
import pytest
from mc_helpers import COLOUR_MODEL_CFG, MASKCUT, write_scenes
from PIL import Image

from vcl_mm.maskcut import postpool, reader
from vcl_mm.maskcut.job import default_workers, engine_workers, run_maskcut

SIZES = [(120, 160), (160, 120), (100, 100), (90, 150), (96, 128)]


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp('pscenes')
    write_scenes(str(folder), SIZES, seed=3)
    rgb = np.asarray(Image.open(folder / '000.jpg'))
    (folder / 'junk.png').write_bytes(b'\x89PNG garbage')
    Image.fromarray(rgb[:10, :12]).save(folder / 'tiny.png')
    data = (folder / '001.jpg').read_bytes()
    (folder / 'trunc.jpg').write_bytes(data[:len(data) // 3])
    return folder


def run(folder, out, **engine_cfg):
    engine_cfg.setdefault('flush_every', 2)
    return run_maskcut(
        COLOUR_MODEL_CFG,
        MASKCUT,
        str(folder),
        str(out),
        engine_cfg=engine_cfg,
        progress=False)


@pytest.mark.parametrize('batch_size, workers', [(3, (2, 2)), (1, (0, 0)),
                                                 (2, (1, 0))])
def test_pipelined_equals_serial(scenes, tmp_path, batch_size, workers):
    serial = tmp_path / 'serial.json'
    run(scenes, serial, batch_size=batch_size, pipelined=False)
    piped = tmp_path / 'piped.json'
    summary = run(
        scenes,
        piped,
        batch_size=batch_size,
        num_workers=workers[0],
        post_workers=workers[1])
    assert summary['images'] == 8 and summary['skipped'] == 3
    assert summary['masks'] > 0
    assert piped.read_bytes() == serial.read_bytes()
    assert (tmp_path / 'piped.skipped.txt').read_bytes() == (
        tmp_path / 'serial.skipped.txt').read_bytes()
    assert summary['workers'] == dict(
        main=1, loader=workers[0], post=workers[1])
    stages = summary['stage_seconds_per_image']
    assert {'load', 'resize', 'features', 'ncut', 'crf', 'resize_back',
            'rle'} <= set(stages)


def _fail_for_height(monkeypatch, height, error):
    real = postpool.masks_at_size

    def flaky(small, masks, crf, h, w, *args):
        if h == height:
            error()
        return real(small, masks, crf, h, w, *args)

    monkeypatch.setattr(postpool, 'masks_at_size', flaky)


def test_pool_error_names_the_image_and_keeps_finished_batches(
        scenes, tmp_path, monkeypatch):

    def boom():
        raise ValueError('bad CRF input')

    _fail_for_height(monkeypatch, 100, boom)  # 002.jpg, the third image
    out = tmp_path / 'e.json'
    with pytest.raises(
            RuntimeError,
            match=r'of 002\.jpg failed: '
            'ValueError: bad CRF input'):
        run(scenes, out, batch_size=1, num_workers=1, post_workers=1)
    from vcl_mm.maskcut.parts import PartStore
    done = PartStore(str(out) + '.parts', {}).load()
    assert {'000.jpg', '001.jpg'} <= set(done) and '002.jpg' not in done
    monkeypatch.undo()
    full = tmp_path / 'full.json'
    run(scenes, full, batch_size=1, pipelined=False)
    run(scenes, out, batch_size=1, num_workers=1, post_workers=1)
    assert out.read_bytes() == full.read_bytes()


def test_dead_pool_worker_is_reported(scenes, tmp_path, monkeypatch):
    _fail_for_height(monkeypatch, 100, lambda: os._exit(3))
    with pytest.raises(RuntimeError, match='worker died'):
        run(scenes,
            tmp_path / 'd.json',
            batch_size=1,
            num_workers=0,
            post_workers=1)


def test_reader_error_names_the_image(scenes, tmp_path, monkeypatch):
    real = reader.load_image

    def flaky(path, *args):
        if path.endswith('003.jpg'):
            raise MemoryError('no memory for the decoder')
        return real(path, *args)

    monkeypatch.setattr(reader, 'load_image', flaky)
    with pytest.raises(
            RuntimeError, match=r'could not read .*003\.jpg: '
            'MemoryError'):
        run(scenes, tmp_path / 'r.json', num_workers=1, post_workers=0)


def test_default_workers_from_the_machine(monkeypatch):
    monkeypatch.setattr(
        os, 'sched_getaffinity', lambda pid: set(range(16)), raising=False)
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    assert default_workers('pydensecrf') == (3, 12)
    assert default_workers('torch') == (7, 8)
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '4')  # torchrun: 4 ranks here
    assert default_workers('pydensecrf') == (1, 2)
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: {0, 1})
    monkeypatch.delenv('LOCAL_WORLD_SIZE')
    assert default_workers('pydensecrf') == (1, 1)
    cfg = dict(num_workers=0, post_workers=5)
    assert engine_workers(cfg, 'pydensecrf') == (0, 5)


def test_torch_crf_runs_in_the_main_loop(scenes, tmp_path):
    """crf.backend='torch': the CRF runs batched on the device in the main
    process (the pool only resizes back); same JSON as the serial engine."""
    from vcl_mm.maskcut.refine import CRF_DEFAULTS
    maskcut = dict(MASKCUT, crf=dict(CRF_DEFAULTS, backend='torch'))
    outs = {}
    for mode, cfg in (('serial', dict(pipelined=False)),
                      ('piped', dict(num_workers=1, post_workers=1))):
        outs[mode] = tmp_path / f'{mode}.json'
        summary = run_maskcut(
            COLOUR_MODEL_CFG,
            maskcut,
            str(scenes),
            str(outs[mode]),
            engine_cfg=dict(cfg, batch_size=3),
            progress=False)
        assert summary['masks'] > 0
    assert outs['piped'].read_bytes() == outs['serial'].read_bytes()
    # the pool did no CRF: all CRF seconds are the main process's
    assert summary['workers'] == dict(main=1, loader=1, post=1)
    assert 'crf' in summary['stage_seconds_per_image']
