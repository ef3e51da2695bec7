"""MaskCut's per-image steps for a batch of images: resize, features,
NCut, CRF, masks at the original size (run by both engines of the sharded
job, :mod:`vcl_mm.maskcut.job`)."""
import time
from collections import defaultdict

import numpy as np
import torch
from PIL import Image

from .features import images_to_tensor
from .ncut import maskcut_patch_masks_batch
from .refine import (CRF_DEFAULTS, refine_masks, refine_masks_batch,
                     resize_mask, split_crf)

__all__ = ['MaskCutSteps', 'resize_fixed', 'masks_at_size']

_DTYPES = dict(float32=torch.float32, float64=torch.float64)


class MaskCutSteps:
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
        if self.crf is not None:
            # an unknown backend is named now, not in a worker mid-run
            split_crf(self.crf)
        #: seconds spent per stage since construction
        self.timings = defaultdict(float)

    @property
    def crf_backend(self):
        """``'pydensecrf'`` (CPU, the reference) or ``'torch'`` (on the
        pipeline's device); None without CRF."""
        if self.crf is None:
            return None
        return self.crf.get('backend', 'pydensecrf')

    def resize(self, rgb):
        """(H, W, 3) uint8 -> (S, S, 3) uint8, LANCZOS as upstream."""
        return resize_fixed(rgb, self.fixed_size)

    def _tick(self, stage, start):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        self.timings[stage] += now - start
        return now

    def patch_masks(self, fixed):
        """Keys and NCut of a batch of fixed-size images (on the device).

        Args:
            fixed (np.ndarray | torch.Tensor): (B, S, S, 3) uint8 RGB.

        Returns:
            list[list[np.ndarray]]: per image, (h, w) bool patch masks in
            discovery order.
        """
        t = time.perf_counter()
        if torch.is_tensor(fixed):
            fixed = fixed.numpy()
        feats = self.extractor(images_to_tensor(fixed).to(self.device))
        t = self._tick('features', t)
        masks = maskcut_patch_masks_batch(
            feats,
            tau=self.tau,
            num_masks=self.num_masks,
            min_area=self.min_area,
            max_iou=self.max_iou,
            **self.solver)
        self._tick('ncut', t)
        return masks

    def refine_batch(self, fixed, patch_masks):
        """Upsampling and CRF of a batch in this process (the CRF on the
        pipeline's device with ``crf.backend='torch'``); seconds go to
        ``'crf'`` (``'upsample'`` without CRF).

        Args:
            fixed (np.ndarray): (B, S, S, 3) uint8 images at the fixed size.
            patch_masks (list[list[np.ndarray]]): per image, (h, w) bool.

        Returns:
            list[list[np.ndarray]]: per image, (S, S) bool refined masks.
        """
        t = time.perf_counter()
        out = refine_masks_batch(
            list(fixed), patch_masks, crf=self.crf, device=self.device)
        self._tick('crf' if self.crf is not None else 'upsample', t)
        return out

    def __call__(self, images):
        """Masks of a batch of images (the serial engine's path).

        Args:
            images (list[np.ndarray]): (H_i, W_i, 3) uint8 RGB images.

        Returns:
            list[list[np.ndarray]]: per image, (H_i, W_i) bool masks in
            discovery order (possibly none).
        """
        t = time.perf_counter()
        fixed = np.stack([self.resize(img) for img in images])
        self._tick('resize', t)
        refined = self.refine_batch(fixed, self.patch_masks(fixed))
        return [
            masks_at_size(
                small,
                masks,
                self.crf,
                *img.shape[:2],
                self.timings,
                refined=True)
            for img, small, masks in zip(images, fixed, refined)
        ]


def resize_fixed(rgb, size):
    """(H, W, 3) uint8 -> (size, size, 3) uint8, LANCZOS as upstream."""
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.LANCZOS))


def masks_at_size(small,
                  masks,
                  crf,
                  height,
                  width,
                  timings=None,
                  refined=False):
    """MaskCut's last steps for one image: upsampling (and CRF) at the
    fixed size, then resizing back (both engines and the CRF pool run this).

    Args:
        small (np.ndarray): (S, S, 3) uint8, the image at the fixed size.
        masks (list[np.ndarray]): (h, w) bool patch masks, or with
            ``refined`` (S, S) bool masks the CRF already refined.
        crf (dict | None): CRF parameters (None: no CRF).
        height (int): original image height.
        width (int): original image width.
        timings (dict, optional): seconds are added to ``'crf'`` (or
            ``'upsample'``) and ``'resize_back'``.
        refined (bool): ``masks`` are already the refined pixel masks.

    Returns:
        list[np.ndarray]: (height, width) bool non-empty masks.
    """
    t = time.perf_counter()
    if not refined:
        masks = refine_masks(small, masks, crf=crf)
    t1 = time.perf_counter()
    resized = [resize_mask(m, width, height) for m in masks]
    out = [m for m in resized if m.any()]
    if timings is not None:
        if not refined:
            timings['crf' if crf is not None else 'upsample'] += t1 - t
        timings['resize_back'] += time.perf_counter() - t1
    return out
