"""Reading videos frame range by frame range, in bounded memory.

A :class:`VideoSource` is a video file (any container that the ffmpeg binary
of the ``imageio-ffmpeg`` wheel decodes: mp4, mov, mkv, webm, avi, mpeg-ts,
flv, ogv, ...) or a folder of frames
(jpg/jpeg/png/bmp, sorted by name; frames whose size differs from the
first one's are resized to it, with a warning). ``read(start, end)``
returns frames ``start..end-1``; requests must move forward (windows may
overlap), so a file is decoded once, sequentially, keeping only the frames
still needed.
"""
import os
import os.path as osp
import warnings
from typing import List

import numpy as np
from PIL import Image, UnidentifiedImageError

from vcl_mm.utils import InputError

#: common video containers (any file ffmpeg decodes is read; these are
#: the names the docs and messages give)
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
              '.mpeg', '.ts', '.mts', '.m2ts', '.flv', '.wmv', '.asf',
              '.3gp', '.3g2', '.ogv', '.ogg', '.mxf', '.nut', '.y4m', '.gif')
FRAME_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def list_frame_files(folder):
    """The frame files of a folder (names with a FRAME_EXTS extension,
    any case), sorted: the order in which :class:`VideoSource` reads them.

    Returns:
        list[str]: file names (not paths).
    """
    return sorted(f for f in os.listdir(folder)
                  if f.lower().endswith(FRAME_EXTS))


class VideoSource:
    """Frames of a video file or a frame folder, as RGB uint8 arrays.

    Args:
        path (str): video file or folder of frames.

    Attributes:
        num_frames (int): frames in the video.
        height, width (int): frame size in pixels.
        fps (float): frames per second (25 for a folder).
        frame_names (list[str]): a name per frame (``00000`` ... or the
            folder's file stems), used for per-frame outputs.
    """

    def __init__(self, path):
        self.path = path
        if osp.isdir(path):
            self._init_folder(path)
        elif osp.isfile(path):
            # any container the bundled ffmpeg decodes, whatever its
            # extension; what it cannot decode is named by the error
            self._init_file(path)
        else:
            raise InputError(f'input video not found: {path}')
        if self.num_frames == 0:
            raise InputError(f'{path} has no frames')
        self._warned_size = False
        self._buffer = {}  # frame index -> array, for overlapping windows
        self._next = 0  # next frame the decoder will produce

    def _init_folder(self, path):
        files = list_frame_files(path)
        if not files:
            raise InputError(f'{path} holds no frames '
                             f'({", ".join(FRAME_EXTS)})')
        self._files = [osp.join(path, f) for f in files]
        self.frame_names = [osp.splitext(f)[0] for f in files]
        self.num_frames = len(files)
        first = self._load_image(self._files[0])
        self.height, self.width = first.shape[:2]
        self.fps = 25.0
        self._reader = None

    def _init_file(self, path):
        import imageio_ffmpeg
        try:
            count, _ = imageio_ffmpeg.count_frames_and_secs(path)
            self._reader = imageio_ffmpeg.read_frames(path,
                                                      pix_fmt='rgb24')
            meta = next(self._reader)
        except (RuntimeError, OSError, StopIteration) as err:
            raise InputError(f'cannot decode video {path}: '
                             f'{str(err).splitlines()[0]}') from None
        self.width, self.height = meta['size']
        self.fps = float(meta.get('fps') or 25.0)
        self.num_frames = int(count)
        self.frame_names = [f'{t:05d}' for t in range(self.num_frames)]
        self._files = None

    def _load_image(self, file):
        try:
            with Image.open(file) as img:
                return np.asarray(img.convert('RGB'))
        except (UnidentifiedImageError, OSError) as err:
            raise InputError(f'cannot read frame {file}: {err}') from None

    def _fit_first_size(self, frame, file):
        """A folder frame at the first frame's size: others are resized
        (bilinear) to it, with one warning per folder."""
        if frame.shape[:2] == (self.height, self.width):
            return frame
        if not self._warned_size:
            self._warned_size = True
            warnings.warn(
                f'{self.path}: frame {osp.basename(file)} is '
                f'{frame.shape[1]}x{frame.shape[0]}, the first frame '
                f'{self.width}x{self.height}; frames of another size are '
                'resized to the first one (masks and overlay use that size)',
                stacklevel=2)
        return np.asarray(
            Image.fromarray(frame).resize((self.width, self.height),
                                          Image.BILINEAR))

    def __len__(self):
        return self.num_frames

    def read(self, start: int, end: int) -> List[np.ndarray]:
        """Frames ``start`` to ``end - 1`` as (H, W, 3) uint8 RGB arrays.

        ``start`` must not go below the ``start`` of the previous call.
        """
        end = min(end, self.num_frames)
        if self._files is not None:
            return [
                self._fit_first_size(self._load_image(f), f)
                for f in self._files[start:end]
            ]
        if any(t < start for t in self._buffer):
            self._buffer = {
                t: f for t, f in self._buffer.items() if t >= start
            }
        if start < self._next and start not in self._buffer:
            raise ValueError('VideoSource.read must move forward: frame '
                             f'{start} was already dropped')
        while self._next < end:
            try:
                raw = next(self._reader)
            except StopIteration:
                # containers sometimes over-report their frame count
                self.num_frames = self._next
                self.frame_names = self.frame_names[:self._next]
                break
            frame = np.frombuffer(raw, np.uint8).reshape(
                self.height, self.width, 3)
            if self._next >= start:
                self._buffer[self._next] = frame
            self._next += 1
        return [self._buffer[t] for t in range(start, min(end, self._next))]

    def close(self):
        if self._reader is not None:
            self._reader.close()
            self._reader = None
