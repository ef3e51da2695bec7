"""Self-training on unlabeled videos (``tools/self_train.py``).

Round ``k`` (1..R) of :class:`SelfTraining`, in ``<work_dir>/round_k/``:

1. ``pseudo_labels.json``: the model of round ``k - 1`` (round 0: the
   given checkpoint) tracks every video with the windowed tracker; tracks
   that pass the quality filter (:mod:`vcl_mm.apis.pseudo_labels`) become
   a YouTube-VIS JSON; ``pseudo_stats.json`` says per video what was kept
   and why the rest was dropped;
2. ``model.pth``: mmengine's runner fine-tunes from the previous round's
   weights (``load_from``) on the config's mix of sources
   (:class:`vcl_mm.datasets.ClipSourcesDataset`), whose pseudo-labelled
   source reads this round's JSON; its logs stay in ``train/``;
3. ``metrics.json`` (with a test config): the test set's metrics
   (``round_0/metrics.json``: those of the starting checkpoint).

Videos (files or frame folders) are prepared once into
``<work_dir>/frames/<name>/`` (frame folders linked, files decoded to
JPEG), listed in ``videos.json`` with the reason of each skipped video.
Every file is written atomically (temporary file + rename), so a rerun
after an interruption skips what is complete: a round whose
``model.pth`` exists, a JSON that exists; a half-written one never does.
``summary.json`` gathers the rounds.
"""
import gc
import os
import os.path as osp
import shutil
import time

from PIL import Image

from vcl_mm.utils import (InputError, require_dir, require_file,
                          require_writable)
from vcl_mm.utils.files import write_json_atomic
from .pseudo_labels import FILTER_KEYS, build_pseudo_json, pseudo_label_video
from .video_io import (FRAME_EXTS, VIDEO_EXTS, VideoSource,
                       list_frame_files)

__all__ = ['list_videos', 'prepare_videos', 'SelfTraining']

TRAIN_ONLY_KEYS = ('train_dataloader', 'train_cfg', 'optim_wrapper',
                   'param_scheduler', 'val_dataloader', 'val_cfg',
                   'val_evaluator')


def _load_json(path):
    import json
    with open(path) as f:
        return json.load(f)


def list_videos(videos_dir):
    """The videos of a folder: every file (whatever its extension: the
    ones ffmpeg cannot decode are skipped later, with the reason) and
    sub-folder of frames; hidden entries are left out.

    Returns:
        list[tuple[str, str]]: (unique name, path), sorted by path.
    """
    require_dir(videos_dir, 'videos folder',
                'pass --videos DIR with video files or folders of frames')
    found, names = [], set()
    for entry in sorted(os.listdir(videos_dir)):
        path = osp.join(videos_dir, entry)
        if entry.startswith('.') or not (osp.isfile(path)
                                         or osp.isdir(path)):
            continue
        name = osp.splitext(entry)[0] if osp.isfile(path) else entry
        while name in names:
            name += '_'
        names.add(name)
        found.append((name, path))
    if not found:
        raise InputError(
            f'{videos_dir} holds no videos: put video files '
            f'({", ".join(VIDEO_EXTS)}) or folders of frames '
            f'({", ".join(FRAME_EXTS)}) in it')
    return found


def _image_size(path):
    """(width, height) of an image file, from its header."""
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError(f'cannot read frame {path}: {err}') from None


def _prepare_one(name, path, frames_root, stride):
    """Frames of one video under ``frames_root/name``; its record (with
    the reason when the video is skipped: undecodable, an undecodable
    frame, too few frames)."""
    record = dict(name=name, source=osp.abspath(path), skipped=None)
    try:
        return dict(record, **_prepare_frames(name, path, frames_root,
                                              stride))
    except InputError as err:
        shutil.rmtree(osp.join(frames_root, f'.{name}.tmp'),
                      ignore_errors=True)
        return dict(record, skipped=str(err))


def _prepare_frames(name, path, frames_root, stride):
    """The work of :func:`_prepare_one`; InputError for a skip."""
    source = VideoSource(path)
    try:
        num = len(range(0, len(source), stride))
        if num < 2:
            return dict(skipped=(
                f'{num} frame (with frame_stride={stride}): tracking '
                'needs at least 2'))
        out = osp.join(frames_root, name)
        files = list_frame_files(path) if osp.isdir(path) else None
        same_size = files is not None and all(
            _image_size(osp.join(path, f)) == (source.width, source.height)
            for f in files)
        if same_size and stride == 1:  # linked: every frame must decode
            for f in files:
                source._load_image(osp.join(path, f))
        if not osp.exists(out):
            tmp = osp.join(frames_root, f'.{name}.tmp')
            shutil.rmtree(tmp, ignore_errors=True)
            if same_size and stride == 1:
                os.symlink(osp.abspath(path), tmp)
            else:  # decode (files), resize or subsample (folders)
                os.makedirs(tmp)
                for t in range(0, len(source), stride):
                    frame = source.read(t, t + 1)[0]
                    Image.fromarray(frame).save(
                        osp.join(tmp, f'{t:05d}.jpg'), quality=95)
            os.replace(tmp, out)
        names = list_frame_files(out)
        return dict(file_names=[f'{name}/{f}' for f in names],
                    height=source.height, width=source.width)
    finally:
        source.close()


def prepare_videos(videos_dir, work_dir, stride=1, log=print):
    """Prepare the videos once (``work_dir/frames``, ``videos.json``).

    Returns:
        list[dict]: per video ``name``, ``source``, ``skipped`` (reason or
        None) and, if not skipped, ``file_names`` (relative to
        ``work_dir/frames``), ``height``, ``width``.
    """
    index = osp.join(work_dir, 'videos.json')
    listed = list_videos(videos_dir)
    inputs = input_signature(listed)
    if osp.isfile(index):
        recorded = _load_json(index)
        _require_same_inputs(recorded, videos_dir, inputs, stride, work_dir)
        return recorded['videos']
    frames_root = osp.join(work_dir, 'frames')
    os.makedirs(frames_root, exist_ok=True)
    videos = [
        _prepare_one(name, path, frames_root, stride)
        for name, path in listed
    ]
    for v in videos:
        if v['skipped']:
            log(f'skipping video {v["source"]}: {v["skipped"]}')
    if all(v['skipped'] for v in videos):
        raise InputError(f'no video of {videos_dir} can be tracked (all '
                         f'{len(videos)} skipped, reasons in the log above)')
    write_json_atomic(index, dict(videos_dir=osp.abspath(videos_dir),
                                  frame_stride=stride, inputs=inputs,
                                  videos=videos))
    return videos


def input_signature(listed):
    """What identifies the input videos: per entry its name, and for a
    file its size and modification time, for a folder its frame files.

    Args:
        listed (list[tuple[str, str]]): :func:`list_videos`' output.

    Returns:
        list[list]: JSON-ready, sorted by name.
    """
    out = []
    for name, path in listed:
        if osp.isdir(path):
            files = list_frame_files(path)
            out.append([name, 'frames', len(files), files[:1] + files[-1:]])
        else:
            st = os.stat(path)
            out.append([name, 'file', st.st_size, st.st_mtime_ns])
    return sorted(out)


def _require_same_inputs(recorded, videos_dir, inputs, stride, work_dir):
    """Refuse a work dir prepared from other videos (or another stride):
    its frames and rounds belong to those."""
    what = []
    if recorded.get('frame_stride', 1) != stride:
        what.append(f'frame_stride {recorded.get("frame_stride", 1)}, now '
                    f'{stride}')
    old = recorded.get('inputs')
    if old is not None and old != inputs:
        before = {e[0]: e for e in old}
        now = {e[0]: e for e in inputs}
        added = sorted(set(now) - set(before))
        removed = sorted(set(before) - set(now))
        changed = sorted(k for k in set(now) & set(before)
                         if now[k] != before[k])
        for label, names in (('added', added), ('removed', removed),
                             ('changed', changed)):
            if names:
                what.append(f'{label}: {", ".join(names[:3])}' +
                            (f' (+{len(names) - 3})' if len(names) > 3
                             else ''))
    elif old is None and recorded.get('videos_dir') != osp.abspath(
            videos_dir):
        what.append(f'folder {recorded.get("videos_dir")}, now '
                    f'{osp.abspath(videos_dir)}')
    if what:
        raise InputError(
            f'the work dir {work_dir} was prepared from other videos ('
            f'{"; ".join(what)}); pass --replace-videos to prepare these '
            '(finished rounds are kept), or another --work-dir')


def forget_videos(work_dir, log=print):
    """Remove the prepared videos of a work dir and the pseudo-labels of
    its unfinished rounds (they refer to those videos), so the next
    :func:`prepare_videos` prepares a new input set."""
    removed = []
    for path in (osp.join(work_dir, 'videos.json'),
                 osp.join(work_dir, 'frames')):
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path)
            removed.append(path)
        elif osp.lexists(path):
            os.remove(path)
            removed.append(path)
    k = 1
    while osp.isdir(osp.join(work_dir, f'round_{k}')):
        rd = osp.join(work_dir, f'round_{k}')
        if not osp.isfile(osp.join(rd, 'model.pth')):
            for name in ('pseudo_labels.json', 'pseudo_stats.json'):
                if osp.isfile(osp.join(rd, name)):
                    os.remove(osp.join(rd, name))
                    removed.append(osp.join(rd, name))
        k += 1
    if removed:
        log(f'--replace-videos: removed {len(removed)} prepared files and '
            'folders of the previous videos')


class SelfTraining:
    """The rounds of self-training (see the module docstring).

    Args:
        config (str): a self-training config (``self_training`` settings,
            ``train_dataloader.dataset`` a ``ClipSourcesDataset``).
        videos_dir (str): the unlabeled videos.
        work_dir (str): where every round's outputs go.
        rounds (int): R.
        checkpoint (str, optional): the round-0 model (default: the
            config's ``load_from``).
        cfg_options (dict, optional): overrides of ``config``.
        test_config (str, optional): a config with a test set; metrics of
            every round.
        test_cfg_options (dict, optional): overrides of ``test_config``.
        device (str, optional): for tracking (default: cuda if present).
        log (callable): prints progress.
        replace_videos (bool): the work dir may have been prepared from
            other videos: prepare ``videos_dir`` anew (finished rounds are
            kept); without it such a work dir is refused.
    """

    def __init__(self, config, videos_dir, work_dir, rounds, checkpoint=None,
                 cfg_options=None, test_config=None, test_cfg_options=None,
                 device=None, log=print, replace_videos=False):
        from vcl_mm.utils.config_validation import load_checked_config
        if rounds < 1:
            raise InputError(f'--rounds must be >= 1, got {rounds}')
        self.replace_videos = replace_videos
        # before any work: a work dir below a regular file, unwritable
        require_writable(osp.join(work_dir, 'summary.json'),
                         'self-training work dir file',
                         'pass another --work-dir')
        self.config, self.cfg_options = config, cfg_options
        self.videos_dir, self.rounds, self.log = videos_dir, rounds, log
        self.work_dir = osp.abspath(work_dir)
        self.test_config, self.test_cfg_options = test_config, \
            test_cfg_options
        # unknown keys, wrong --cfg-options named before any work
        cfg = load_checked_config(config, cfg_options)
        self.settings = self._check_config(cfg)
        self.checkpoint = checkpoint or cfg.get('load_from')
        if not self.checkpoint:
            raise InputError(
                'self-training starts from a trained model: pass '
                '--checkpoint CKPT (e.g. the quickstart\'s or a converted '
                'VideoCutLER checkpoint)')
        require_file(self.checkpoint, 'starting checkpoint',
                     'train one with tools/train.py or convert released '
                     'weights with tools/model_converters/')
        if test_config is not None:
            require_file(test_config, 'test config')
            load_checked_config(test_config, test_cfg_options)
        if device is None:
            import torch
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        self.device = device

    def _check_config(self, cfg):
        st = cfg.get('self_training')
        if st is None:
            raise InputError(
                f'{self.config} has no self_training settings; start from '
                'configs/videocutler/selftrain_*.py or configs/toy/'
                'self_train_quickstart.py')
        dataset = cfg.train_dataloader.dataset
        src = st.get('pseudo_source')
        if dataset.get('type') != 'ClipSourcesDataset' or not (
                isinstance(src, int) and 0 <= src < len(dataset.datasets)):
            raise InputError(
                f'{self.config}: train_dataloader.dataset must be a '
                'ClipSourcesDataset whose datasets[self_training.'
                'pseudo_source] is the pseudo-labelled YTVISDataset')
        missing = set(FILTER_KEYS) - set(st.filter)
        if missing:
            raise InputError(f'{self.config}: self_training.filter lacks '
                             f'{sorted(missing)}')
        return st

    def round_dir(self, k):
        return osp.join(self.work_dir, f'round_{k}')

    def model_of(self, k):
        return self.checkpoint if k == 0 else osp.join(
            self.round_dir(k), 'model.pth')

    def run(self):
        """All rounds (skipping finished ones); returns the summary."""
        os.makedirs(self.work_dir, exist_ok=True)
        if self.replace_videos:
            forget_videos(self.work_dir, self.log)
        videos = prepare_videos(self.videos_dir, self.work_dir,
                                self.settings.get('frame_stride', 1),
                                self.log)
        summary = dict(checkpoint=osp.abspath(self.checkpoint), rounds=[])
        if self.test_config:
            summary['round_0_metrics'] = self._test(0)
        for k in range(1, self.rounds + 1):
            rd = self.round_dir(k)
            labels = osp.join(rd, 'pseudo_labels.json')
            if osp.isfile(self.model_of(k)):
                self.log(f'round {k}: done before ({self.model_of(k)})')
            else:
                if not osp.isfile(labels):
                    self._pseudo_label(k, videos, labels)
                else:
                    self.log(f'round {k}: pseudo-labels done before')
                self._train(k, labels)
            entry = dict(round=k, checkpoint=self.model_of(k),
                         pseudo_labels=labels,
                         pseudo_stats=_load_json(
                             osp.join(rd, 'pseudo_stats.json'))['totals'])
            if self.test_config:
                entry['metrics'] = self._test(k)
            summary['rounds'].append(entry)
        write_json_atomic(osp.join(self.work_dir, 'summary.json'), summary)
        return summary

    def _pseudo_label(self, k, videos, out):
        from .inference import init_video_model
        model, _ = init_video_model(self.config, self.model_of(k - 1),
                                    self.device, self.cfg_options)
        frames_root = osp.join(self.work_dir, 'frames')
        filt = dict(self.settings.filter)
        todo = [v for v in videos if not v['skipped']]
        labelled, per_video = [], []
        totals = dict(videos=len(todo), tracks=0, kept=0, dropped={})
        for i, video in enumerate(todo, 1):
            source = VideoSource(osp.join(frames_root, video['name']))
            try:
                result = pseudo_label_video(model, source,
                                            dict(self.settings.tracker),
                                            filt)
            finally:
                source.close()
            kept = len(result['tracks'])
            self.log(f'round {k}: video {i}/{len(todo)} {video["name"]}: '
                     f'{kept} of {len(result["scores"])} tracks kept')
            totals['tracks'] += len(result['scores'])
            totals['kept'] += kept
            for reason, n in result['dropped'].items():
                totals['dropped'][reason] = totals['dropped'].get(reason,
                                                                  0) + n
            per_video.append(dict(name=video['name'], kept=kept,
                                  scores=result['scores'],
                                  dropped=result['dropped']))
            labelled.append(dict(video, tracks=result['tracks']))
        del model
        gc.collect()
        rd = self.round_dir(k)
        write_json_atomic(osp.join(rd, 'pseudo_stats.json'),
                          dict(filter=filt, totals=totals, videos=per_video))
        if totals['kept'] == 0:
            best = max((max(v['scores'], default=0.) for v in per_video),
                       default=0.)
            raise InputError(
                f'round {k}: no track of the {len(todo)} videos passed the '
                f'quality filter (dropped for: {totals["dropped"]}; best '
                f'track score {best:.3f}); loosen self_training.filter, '
                f'e.g. --cfg-options self_training.filter.score_thr='
                f'{0.9 * best:.2f} (details: {rd}/pseudo_stats.json)')
        info = dict(round=k, model=self.model_of(k - 1), filter=filt)
        write_json_atomic(out, build_pseudo_json(labelled, info))
        self.log(f'round {k}: {totals["kept"]} of {totals["tracks"]} tracks '
                 f'of {len(todo)} videos kept -> {out}')

    def _train(self, k, labels):
        from vcl_mm.utils.launch import build_runner, load_config
        cfg = load_config(self.config, self.cfg_options)
        source = cfg.train_dataloader.dataset.datasets[
            self.settings.pseudo_source]
        source.data_root = ''
        source.ann_file = labels
        source.data_prefix = dict(img_path=osp.join(self.work_dir, 'frames'))
        cfg.load_from = self.model_of(k - 1)
        cfg.resume = False
        cfg.launcher = 'none'
        cfg.work_dir = osp.join(self.round_dir(k), 'train')
        cfg.experiment_name = f'round_{k}_{time.strftime("%Y%m%d_%H%M%S")}'
        self.log(f'round {k}: fine-tuning from {cfg.load_from} '
                 f'({cfg.train_cfg.get("max_iters")} iterations)')
        runner = build_runner(cfg)
        runner.train()
        with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
            last = f.read().strip()
        del runner
        gc.collect()
        os.replace(last, self.model_of(k))
        self.log(f'round {k}: model -> {self.model_of(k)}')

    def _test(self, k):
        """Metrics of round ``k``'s model (computed once, then read)."""
        out = osp.join(self.round_dir(k), 'metrics.json')
        if osp.isfile(out):
            return _load_json(out)
        from vcl_mm.utils.launch import build_runner, load_config
        cfg = load_config(self.test_config, self.test_cfg_options)
        for key in TRAIN_ONLY_KEYS:
            cfg[key] = None
        if cfg.get('test_dataloader') is None or cfg.get(
                'test_evaluator') is None:
            raise InputError(f'{self.test_config} defines no test_dataloader'
                             ' and test_evaluator; use an evaluation config')
        ckpt = self.model_of(k)
        cfg.load_from, cfg.resume, cfg.launcher = ckpt, False, 'none'
        cfg.work_dir = osp.join(self.round_dir(k), 'test')
        cfg.experiment_name = f'test_{k}_{time.strftime("%Y%m%d_%H%M%S")}'
        # the config's runner loads load_from strictly (another model's
        # weights are refused, naming the keys)
        runner = build_runner(cfg)
        metrics = {key: float(v) for key, v in runner.test().items()}
        del runner
        gc.collect()
        write_json_atomic(out, metrics)
        self.log(f'round {k}: metrics {metrics}')
        return metrics
