"""TrackOverlayVisualizer: mmdet's track visualizer drawing with OpenCV.

The one drawing path of vcl_mm: mmdet's ``TrackVisualizationHook``
(``tools/test.py --show-dir``), ``tools/analysis_tools/browse_dataset.py``
and the video demo all call :meth:`add_datasample`.
"""
from typing import Optional

import numpy as np
from mmdet.visualization import TrackLocalVisualizer
from mmengine.structures import InstanceData

from vcl_mm.registry import VISUALIZERS
from .track_overlay import draw_tracks


def _as_masks(masks, shape):
    """(K, H, W) bool array from a tensor, ``BitmapMasks`` or array."""
    if hasattr(masks, 'to_ndarray'):  # BitmapMasks
        masks = masks.to_ndarray()
    elif hasattr(masks, 'cpu'):  # torch.Tensor
        masks = masks.cpu().numpy()
    masks = np.asarray(masks, bool)
    if masks.ndim != 3 or masks.shape[1:] != tuple(shape):
        raise ValueError(f'TrackOverlayVisualizer: masks of shape '
                         f'{masks.shape} do not fit the (H, W) = '
                         f'{tuple(shape)} image')
    return masks


@VISUALIZERS.register_module()
class TrackOverlayVisualizer(TrackLocalVisualizer):
    """mmdet's ``TrackLocalVisualizer``, drawing tracks with
    :func:`~vcl_mm.visualization.draw_tracks`.

    Subclassed because the parent's track colours need seaborn (not a
    vcl_mm dependency) and its matplotlib rendering takes seconds per
    1080p frame; here each track id keeps one colour of mmdet's
    ``'random'`` palette, the best-scoring track wins a pixel, labels
    (id and score) scale with the frame, and :meth:`add_datasample` keeps
    mmdet's contract (``pred_score_thr``: tracks scoring above it are drawn;
    GT on the left of predictions when both are drawn; ``out_file``,
    ``show``, vis backends).

    Args:
        name (str): instance name.
        image (np.ndarray, optional): (H, W, 3) RGB image to start from.
        vis_backends (list[dict], optional): mmengine vis backends.
        save_dir (str, optional): where the backends save.
        alpha (float): mask fill opacity.
        labels (bool): write the id (and score) labels.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[list] = None,
                 save_dir: Optional[str] = None,
                 alpha: float = 0.5,
                 labels: bool = True) -> None:
        super().__init__(name, image, vis_backends, save_dir, alpha=alpha)
        self.labels = labels
        self._drawn = None

    def _draw_instances(self, image: np.ndarray,
                        instances: InstanceData) -> np.ndarray:
        """Draw one frame's tracks.

        Args:
            image (np.ndarray): (H, W, 3) uint8 RGB frame.
            instances (InstanceData): ``masks`` ((K, H, W) tensor, array or
                ``BitmapMasks``), track ids in ``instances_id`` (mmdet's
                predictions) or ``instances_ids`` (packed ground truth;
                1..K when neither is there), optional ``scores`` (K, ).

        Returns:
            np.ndarray: (H, W, 3) uint8 RGB, a new array; also what
            :meth:`get_image` returns until the next :meth:`set_image`.
        """
        shape = image.shape[:2]
        if 'masks' in instances:
            masks = _as_masks(instances.masks, shape)
        elif len(instances) == 0:
            masks = np.zeros((0, ) + shape, bool)
        else:
            raise ValueError('TrackOverlayVisualizer draws masks; these '
                             f'instances have only {list(instances.keys())}')
        for key in ('instances_id', 'instances_ids'):
            if key in instances:
                ids = [int(i) for i in instances.get(key)]
                break
        else:
            ids = list(range(1, len(masks) + 1))
        scores = [float(s) for s in instances.scores
                  ] if 'scores' in instances else None
        self._drawn = draw_tracks(image, masks, ids, scores,
                                  alpha=self.alpha, labels=self.labels)
        return self._drawn

    def set_image(self, image: np.ndarray) -> None:
        self._drawn = None
        super().set_image(image)

    def get_image(self) -> np.ndarray:
        """The frame the last :meth:`add_datasample` drew (its predictions
        when it drew GT and predictions), as an array: the matplotlib canvas
        is rendered only after :meth:`set_image` and mmengine's ``draw_*``.

        Returns:
            np.ndarray: (H, W, 3) uint8 RGB.
        """
        if self._drawn is not None:
            return self._drawn
        return super().get_image()
