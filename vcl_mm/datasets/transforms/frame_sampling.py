"""Sampling the frames of a training clip from an annotated video."""
from mmdet.datasets.transforms import UniformRefFrameSample

from vcl_mm.registry import TRANSFORMS
from vcl_mm.utils.config_variables import require_resolved


@TRANSFORMS.register_module()
class UniformClipSample(UniformRefFrameSample):
    """mmdet's ``UniformRefFrameSample`` given the clip length.

    Subclassed so a recipe names its frames per clip once (``num_frames``,
    also the track head's) instead of a second number of reference frames
    that must equal ``num_frames - 1``; sampling is mmdet's.

    Args:
        num_frames (int): frames per clip (key frame included), >= 1.
        **kwargs: ``frame_range``, ``filter_key_img``,
            ``collect_video_keys`` as in ``UniformRefFrameSample``.
    """

    def __init__(self, num_frames: int, **kwargs) -> None:
        require_resolved(num_frames, 'UniformClipSample.num_frames')
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f'num_frames must be an int >= 1, got '
                             f'{num_frames!r}')
        self.num_frames = num_frames
        super().__init__(num_ref_imgs=num_frames - 1, **kwargs)
