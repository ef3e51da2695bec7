"""Procedurally generated images and videos with exact ground truth.

Used by the tests, the toy configs and the end-to-end quickstart: textured
objects (ellipses, rectangles, blobs) on textured backgrounds, so that both
a self-supervised feature extractor and a segmentation model have something
real to separate. Everything is seeded and deterministic. (Not to be
confused with the *synthesize* step of the method, ImageCut2Video.)

Two writers produce data on disk in the layouts the rest of vcl_mm reads:

* :func:`write_image_set`: ``<root>/images/*.jpg`` and a COCO JSON of the true
  object masks (same schema as MaskCut's pseudo-label JSON).
* :func:`write_video_set`: moving objects (translation, scaling, occlusion,
  entering and leaving the frame) in the YouTube-VIS layout
  (``JPEGImages/<video>/<frame>.jpg``, the official JSON and mmdet's converted
  JSON) and the DAVIS layout (``Annotations/480p``-style indexed PNGs and
  ``ImageSets/2017/<split>.txt``).
"""
import json
import os
import os.path as osp
from dataclasses import dataclass

import numpy as np
from PIL import Image

from vcl_mm.datasets.api_wrappers.davis_format import write_indexed_png
from vcl_mm.datasets.api_wrappers.masks import encode, mask_boxes

__all__ = [
    'make_background', 'make_object', 'render_image', 'make_video',
    'write_image_set', 'write_video_set'
]

SHAPES = ('ellipse', 'rectangle', 'blob')


def _smooth_noise(rng, h, w, cells, channels=3):
    """Low-frequency noise in [0, 1], (h, w, channels) float32."""
    coarse = rng.random((cells, cells, channels)).astype(np.float32)
    img = Image.fromarray((coarse * 255).astype(np.uint8))
    img = img.resize((w, h), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.


def make_background(rng, h, w):
    """A textured background: smooth colour noise plus faint stripes.

    Returns:
        np.ndarray: (h, w, 3) float32 in [0, 1].
    """
    base = rng.uniform(0.2, 0.8, size=3).astype(np.float32)
    noise = _smooth_noise(rng, h, w, cells=int(rng.integers(3, 7)))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(8, 24)
    stripes = 0.5 + 0.5 * np.sin(
        (np.cos(angle) * xx + np.sin(angle) * yy) * 2 * np.pi / period)
    # Mostly one colour with faint structure, so that objects (which have
    # their own colours and checker texture) stand out as they do for a
    # self-supervised feature extractor on natural images.
    bg = 0.75 * base + 0.12 * noise + 0.13 * stripes[..., None]
    return np.clip(bg, 0, 1)


@dataclass
class SyntheticObject:
    """An object sprite: a binary shape and its texture, in its own frame.

    Attributes:
        mask (np.ndarray): (s, s) bool shape at scale 1.
        texture (np.ndarray): (s, s, 3) float32 colours in [0, 1].
    """
    mask: np.ndarray
    texture: np.ndarray


def make_object(rng, size):
    """A random textured object sprite of ``size`` x ``size`` pixels."""
    s = int(size)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    cy = cx = (s - 1) / 2.
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    if shape == 'ellipse':
        ry, rx = rng.uniform(0.3, 0.5, size=2) * s
        mask = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1
    elif shape == 'rectangle':
        hy, hx = rng.uniform(0.25, 0.48, size=2) * s
        mask = (np.abs(yy - cy) <= hy) & (np.abs(xx - cx) <= hx)
    else:
        theta = np.arctan2(yy - cy, xx - cx)
        radius = np.hypot(yy - cy, xx - cx)
        k = int(rng.integers(3, 6))
        phase = rng.uniform(0, 2 * np.pi)
        limit = s * (0.35 + 0.1 * np.sin(k * theta + phase))
        mask = radius <= limit
    colour = rng.uniform(0, 1, size=3).astype(np.float32)
    colour2 = 1 - colour
    period = rng.uniform(4, 10)
    checker = ((np.floor(xx / period) + np.floor(yy / period)) % 2)[..., None]
    texture = colour * (1 - 0.35 * checker) + colour2 * 0.35 * checker
    return SyntheticObject(mask=mask, texture=texture.astype(np.float32))


def _place(canvas_h, canvas_w, sprite, scale, cy, cx):
    """Resample a sprite at ``scale`` centred at (cy, cx) in canvas coords.

    Returns:
        tuple: mask (H, W) bool and colours (H, W, 3) float32 (garbage outside
        the mask).
    """
    s = sprite.mask.shape[0]
    size = max(2, int(round(s * scale)))
    m = Image.fromarray(sprite.mask.astype(np.uint8) * 255).resize(
        (size, size), Image.NEAREST)
    t = Image.fromarray((sprite.texture * 255).astype(np.uint8)).resize(
        (size, size), Image.BILINEAR)
    m = np.asarray(m) > 127
    t = np.asarray(t, dtype=np.float32) / 255.
    mask = np.zeros((canvas_h, canvas_w), bool)
    tex = np.zeros((canvas_h, canvas_w, 3), np.float32)
    y0 = int(round(cy - size / 2))
    x0 = int(round(cx - size / 2))
    ys0, xs0 = max(0, y0), max(0, x0)
    ys1, xs1 = min(canvas_h, y0 + size), min(canvas_w, x0 + size)
    if ys1 <= ys0 or xs1 <= xs0:
        return mask, tex
    mask[ys0:ys1, xs0:xs1] = m[ys0 - y0:ys1 - y0, xs0 - x0:xs1 - x0]
    tex[ys0:ys1, xs0:xs1] = t[ys0 - y0:ys1 - y0, xs0 - x0:xs1 - x0]
    return mask, tex


def _composite(background, layers):
    """Paint layers back to front; return image and *visible* masks.

    Args:
        background (np.ndarray): (H, W, 3) float32.
        layers (list[tuple]): (mask (H, W) bool, texture (H, W, 3)) back to
            front.

    Returns:
        tuple: image (H, W, 3) uint8 and visible masks (N, H, W) bool in the
        order of ``layers``.
    """
    img = background.copy()
    owner = np.full(background.shape[:2], -1, np.int32)
    for i, (mask, tex) in enumerate(layers):
        img[mask] = tex[mask]
        owner[mask] = i
    visible = np.stack([owner == i for i in range(len(layers))]) if layers \
        else np.zeros((0, ) + background.shape[:2], bool)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8), visible


def render_image(rng, h, w, num_objects):
    """A still image with ``num_objects`` non-overlapping textured objects.

    Returns:
        tuple: image (h, w, 3) uint8 and masks (num_objects, h, w) bool.
    """
    background = make_background(rng, h, w)
    layers = []
    occupied = np.zeros((h, w), bool)
    for _ in range(num_objects):
        for _attempt in range(20):
            size = rng.uniform(0.25, 0.5) * min(h, w)
            sprite = make_object(rng, size)
            cy = rng.uniform(size / 2, h - size / 2)
            cx = rng.uniform(size / 2, w - size / 2)
            mask, tex = _place(h, w, sprite, 1.0, cy, cx)
            if mask.sum() > 16 and not (mask & occupied).any():
                layers.append((mask, tex))
                occupied |= mask
                break
    return _composite(background, layers)


def make_video(rng, h, w, num_frames, num_objects, min_visible=16):
    """A video of textured objects moving over a static textured background.

    Objects translate (some start or end outside the frame, so they enter or
    leave), change scale, and occlude each other by a fixed depth order.

    Returns:
        tuple: frames (T, h, w, 3) uint8 and masks (N, T, h, w) bool, the
        visible region of every object in every frame (all-False where the
        object is absent). Objects never visible are dropped.
    """
    background = make_background(rng, h, w)
    tracks = []
    for _ in range(num_objects):
        size = rng.uniform(0.2, 0.4) * min(h, w)
        sprite = make_object(rng, size)
        start = np.array([rng.uniform(0, h), rng.uniform(0, w)])
        if rng.random() < 0.3:  # enters from a side
            start[1] = -size / 2 if rng.random() < 0.5 else w + size / 2
        travel = rng.uniform(0.3, 0.9) * np.array([h, w])
        direction = rng.normal(size=2)
        direction /= np.linalg.norm(direction) + 1e-6
        if start[1] < 0:
            direction[1] = abs(direction[1]) + 0.5
        elif start[1] > w:
            direction[1] = -abs(direction[1]) - 0.5
        velocity = direction * travel / max(1, num_frames - 1)
        scale0 = rng.uniform(0.8, 1.1)
        scale1 = scale0 * rng.uniform(0.7, 1.4)
        tracks.append((sprite, start, velocity, scale0, scale1))
    frames, masks = [], []
    for t in range(num_frames):
        layers = []
        alpha = t / max(1, num_frames - 1)
        for sprite, start, velocity, scale0, scale1 in tracks:
            cy, cx = start + velocity * t
            scale = scale0 + (scale1 - scale0) * alpha
            layers.append(_place(h, w, sprite, scale, cy, cx))
        img, visible = _composite(background, layers)
        visible[visible.reshape(len(layers), -1).sum(1) < min_visible] = False
        frames.append(img)
        masks.append(visible)
    frames = np.stack(frames)
    masks = np.stack(masks, axis=1) if num_objects else np.zeros(
        (0, num_frames, h, w), bool)
    keep = masks.reshape(len(masks), -1).any(1)
    return frames, masks[keep]


def _save_jpg(path, img):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(img).save(path, quality=95)


def write_image_set(root, num_images=8, seed=0, size=(192, 256),
                    objects=(1, 3)):
    """Write generated still images and a COCO JSON of their true masks.

    Args:
        root (str): output folder; gets ``images/`` and ``gt_masks.json``.
        num_images (int): how many images.
        seed (int): random seed.
        size (tuple[int, int]): (height, width) in pixels.
        objects (tuple[int, int]): inclusive range of objects per image.

    Returns:
        dict: ``img_dir`` and ``ann_file`` paths.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    img_dir = osp.join(root, 'images')
    images, annotations = [], []
    for i in range(num_images):
        img, masks = render_image(rng, h, w,
                                  int(rng.integers(objects[0],
                                                   objects[1] + 1)))
        name = f'{i:06d}.jpg'
        _save_jpg(osp.join(img_dir, name), img)
        images.append(dict(id=i + 1, file_name=name, height=h, width=w))
        for m in masks:
            annotations.append(
                dict(id=len(annotations) + 1, image_id=i + 1, category_id=1,
                     segmentation=encode(m), area=float(m.sum()),
                     bbox=mask_boxes(m[None], 'xywh')[0].tolist(), iscrowd=0))
    ann_file = osp.join(root, 'gt_masks.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=[dict(id=1, name='fg')]), f)
    return dict(img_dir=img_dir, ann_file=ann_file)


def write_video_set(root, num_videos=4, seed=0, size=(120, 160),
                    frames=(6, 10), objects=(1, 3), split='val'):
    """Write generated videos with ground-truth tracks in several layouts.

    Layout under ``root``::

        JPEGImages/<video>/00000.jpg ...      frames
        Annotations/<video>/00000.png ...     DAVIS indexed PNGs (id = track)
        ImageSets/2017/<split>.txt            DAVIS sequence list
        ytvis_official.json                   YouTube-VIS official format
        ytvis_mmdet.json                      mmdet's converted COCO-video

    Args:
        root (str): output folder.
        num_videos (int): how many videos.
        seed (int): random seed.
        size (tuple[int, int]): (height, width) in pixels.
        frames (tuple[int, int]): inclusive range of frames per video.
        objects (tuple[int, int]): inclusive range of objects per video.
        split (str): DAVIS split name for the ImageSets file.

    Returns:
        dict: paths ``root``, ``img_dir``, ``ytvis_official``,
        ``ytvis_mmdet``, ``davis_ann_dir`` and the list of video ``names``.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    img_dir = osp.join(root, 'JPEGImages')
    ann_dir = osp.join(root, 'Annotations')
    official = dict(videos=[], annotations=[],
                    categories=[dict(id=1, name='object', supercategory='')])
    converted = dict(videos=[], images=[], annotations=[],
                     categories=[dict(id=1, name='object')])
    names = []
    for v in range(num_videos):
        name = f'video{v:04d}'
        names.append(name)
        num_frames = int(rng.integers(frames[0], frames[1] + 1))
        video, masks = make_video(
            rng, h, w, num_frames, int(rng.integers(objects[0],
                                                    objects[1] + 1)))
        file_names = [f'{name}/{t:05d}.jpg' for t in range(num_frames)]
        for t in range(num_frames):
            _save_jpg(osp.join(img_dir, file_names[t]), video[t])
            label = np.zeros((h, w), np.uint8)
            for k in range(len(masks)):
                label[masks[k, t]] = k + 1
            write_indexed_png(osp.join(ann_dir, name, f'{t:05d}.png'), label)
        vid = v + 1
        official['videos'].append(
            dict(id=vid, width=w, height=h, length=num_frames,
                 file_names=file_names))
        converted['videos'].append(dict(id=vid, name=name, width=w, height=h))
        first_image = len(converted['images']) + 1
        for t in range(num_frames):
            converted['images'].append(
                dict(id=first_image + t, video_id=vid, frame_id=t,
                     file_name=file_names[t], width=w, height=h))
        for k in range(len(masks)):
            segs, areas, boxes = [], [], []
            for t in range(num_frames):
                m = masks[k, t]
                if m.any():
                    segs.append(encode(m))
                    areas.append(float(m.sum()))
                    boxes.append(mask_boxes(m[None], 'xywh')[0].tolist())
                    converted['annotations'].append(
                        dict(id=len(converted['annotations']) + 1,
                             video_id=vid, image_id=first_image + t,
                             category_id=1, instance_id=k + 1,
                             segmentation=segs[-1], area=areas[-1],
                             bbox=boxes[-1], iscrowd=0))
                else:
                    segs.append(None)
                    areas.append(None)
                    boxes.append(None)
            official['annotations'].append(
                dict(id=len(official['annotations']) + 1, video_id=vid,
                     category_id=1, iscrowd=0, width=w, height=h,
                     length=num_frames, segmentations=segs, areas=areas,
                     bboxes=boxes))
    os.makedirs(osp.join(root, 'ImageSets', '2017'), exist_ok=True)
    with open(osp.join(root, 'ImageSets', '2017', f'{split}.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    paths = dict(root=root, img_dir=img_dir, davis_ann_dir=ann_dir,
                 ytvis_official=osp.join(root, 'ytvis_official.json'),
                 ytvis_mmdet=osp.join(root, 'ytvis_mmdet.json'), names=names)
    with open(paths['ytvis_official'], 'w') as f:
        json.dump(official, f)
    with open(paths['ytvis_mmdet'], 'w') as f:
        json.dump(converted, f)
    return paths
