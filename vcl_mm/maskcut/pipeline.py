"""MaskCut for a batch of images: resize, features, NCut, CRF, masks at
the original size (the per-image pipeline of the sharded job in
:mod:`vcl_mm.maskcut.engine`)."""
import time
from collections import defaultdict

import numpy as np
import torch
from PIL import Image

from .features import images_to_tensor
from .ncut import maskcut_patch_masks_batch
from .refine import CRF_DEFAULTS, refine_masks, resize_mask

__all__ = ['MaskCutPipeline']

_DTYPES = dict(float32=torch.float32, float64=torch.float64)


class MaskCutPipeline:
    """RGB images -> MaskCut masks at their original size.

    Args:
        extractor (torch.nn.Module): returns (B, C, h, w) patch features of
            (B, 3, H, W) normalised images, e.g. ``DinoViTKeyExtractor``.
        fixed_size (int): images are resized to fixed_size x fixed_size
            (LANCZOS, aspect ratio not kept) for features and CRF.
        tau (float): affinity threshold.
        num_masks (int): NCut solves per image (upstream ``N``).
        min_area (float): later masks of at most this grid fraction are
            rejected.
        max_iou (float): later masks overlapping the previous one more
            are rejected.
        solver (dict, optional): eigen solver options (``sign``, ``dtype``
            as a string, ``block_size``, ``tol``, ``max_iter``, ...).
        crf (dict | None): CRF parameters; None skips the CRF.
        device (str | torch.device): where the extractor and NCut run.
    """

    def __init__(self,
                 extractor,
                 fixed_size=480,
                 tau=0.15,
                 num_masks=3,
                 min_area=0.01,
                 max_iou=0.5,
                 solver=None,
                 crf=CRF_DEFAULTS,
                 device='cpu'):
        self.device = torch.device(device)
        self.extractor = extractor.to(self.device)
        self.fixed_size = int(fixed_size)
        self.tau = tau
        self.num_masks = num_masks
        self.min_area = min_area
        self.max_iou = max_iou
        self.solver = dict(solver or {})
        if isinstance(self.solver.get('dtype'), str):
            self.solver['dtype'] = _DTYPES[self.solver['dtype']]
        self.crf = None if crf is None else dict(crf)
        #: seconds spent per stage since construction
        self.timings = defaultdict(float)

    def resize(self, rgb):
        """(H, W, 3) uint8 -> (S, S, 3) uint8, LANCZOS as upstream."""
        size = (self.fixed_size, self.fixed_size)
        return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))

    def _tick(self, stage, start):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        self.timings[stage] += now - start
        return now

    def __call__(self, images):
        """Masks of a batch of images.

        Args:
            images (list[np.ndarray]): (H_i, W_i, 3) uint8 RGB images.

        Returns:
            list[list[np.ndarray]]: per image, (H_i, W_i) bool masks in
            discovery order (possibly none).
        """
        t = time.perf_counter()
        fixed = np.stack([self.resize(img) for img in images])
        t = self._tick('resize', t)
        feats = self.extractor(images_to_tensor(fixed).to(self.device))
        t = self._tick('features', t)
        patch_masks = maskcut_patch_masks_batch(
            feats,
            tau=self.tau,
            num_masks=self.num_masks,
            min_area=self.min_area,
            max_iou=self.max_iou,
            **self.solver)
        t = self._tick('ncut', t)
        out = []
        for img, small, masks in zip(images, fixed, patch_masks):
            refined = refine_masks(small, masks, crf=self.crf)
            t = self._tick('crf' if self.crf is not None else 'upsample', t)
            h, w = img.shape[:2]
            resized = [resize_mask(m, w, h) for m in refined]
            out.append([m for m in resized if m.any()])
            t = self._tick('resize', t)
        return out
