"""Which images to label, and reading them robustly.

Inputs: a folder (searched recursively, so the ImageNet layout
``class/xxx.JPEG`` and flat folders both work), a single image file, or a
list file (UTF-8 text, one path per line, relative to the list file's
folder or absolute; blank lines and ``#`` comments ignored).

Reading: EXIF orientation is ignored by default, as the official MaskCut
(``Image.open(...).convert('RGB')``) and our training pipelines
(``color_ignore_orientation``) do, so masks and training pixels align;
``exif_transpose=True`` applies it (then train with ``color_type='color'``).
CMYK / palette / grayscale / alpha images become RGB (alpha
dropped, as OpenCV does), 16-bit and 32-bit grayscale are scaled to 8 bits.
Files that cannot be decoded, truncated files and images below a minimum
size raise :class:`SkipImage` with a reason; any other exception is a bug
and propagates.
"""
import os
import os.path as osp
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vcl_mm.utils import InputError

__all__ = [
    'IMAGE_EXTENSIONS', 'ImageList', 'SkipImage', 'list_images', 'load_image'
]

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                    '.ppm', '.pgm')


class SkipImage(Exception):
    """A known problem with one input image (it is listed, not labelled).

    Args:
        kind (str): short category for the summary, e.g. ``'truncated'``.
        detail (str): one line for the skipped-images file.
    """

    def __init__(self, kind, detail):
        super().__init__(f'{kind}: {detail}')
        self.kind = kind
        self.detail = detail


@dataclass
class ImageList:
    """Images to label.

    Attributes:
        root (str): folder that relative names are resolved against.
        files (list[str]): names as written to the JSON (relative to
            ``root`` with ``/`` separators, or absolute from a list file).
        ignored (int): files in the folder without an image extension.
        duplicates (int): repeated lines of a list file (dropped).
    """
    root: str
    files: list = field(default_factory=list)
    ignored: int = 0
    duplicates: int = 0

    def path(self, name):
        """Absolute path of a listed name."""
        return name if osp.isabs(name) else osp.join(self.root, name)


def _is_image_name(path, extensions):
    return osp.splitext(path)[1].lower() in extensions


def list_images(source, extensions=IMAGE_EXTENSIONS):
    """List the images of a folder (recursively, sorted), a single image
    file or a list file.

    Args:
        source (str): folder, image file (one of ``extensions``) or list
            file (UTF-8 text).
        extensions (tuple[str]): lower-case extensions of image files.

    Returns:
        ImageList

    Raises:
        InputError: ``source`` does not exist, holds no image, or is a
            file that is neither an image nor a text list.
    """
    if osp.isdir(source):
        root = osp.abspath(source)
        files, ignored = [], 0
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
            for name in names:
                if name.startswith('.'):
                    continue
                if osp.splitext(name)[1].lower() in extensions:
                    rel = osp.relpath(osp.join(folder, name), root)
                    files.append(rel.replace(os.sep, '/'))
                else:
                    ignored += 1
        listing = ImageList(root, sorted(files), ignored=ignored)
        what = (f'no image files ({", ".join(extensions)}) found in '
                f'{source}')
    elif osp.isfile(source) and _is_image_name(source, extensions):
        path = osp.abspath(source)
        listing = ImageList(osp.dirname(path), [osp.basename(path)])
        what = ''
    elif osp.isfile(source):
        try:
            with open(source, encoding='utf-8-sig') as f:
                text = f.read()
        except UnicodeDecodeError:
            text = None
        if text is None or '\0' in text:
            raise InputError(
                f'input {source} is neither an image '
                f'({", ".join(extensions)}) nor a text file listing image '
                'paths; pass a folder of images, an image, or a list '
                'file with one path per line')
        seen, files, lines = set(), [], 0
        for line in text.split('\n'):
            name = line.strip()
            if not name or name.startswith('#'):
                continue
            lines += 1
            if name not in seen:
                seen.add(name)
                files.append(name)
        listing = ImageList(
            osp.dirname(osp.abspath(source)),
            files,
            duplicates=lines - len(files))
        what = f'the list file {source} names no image'
    else:
        raise InputError(f'input not found: {source} (pass a folder of '
                         'images, an image, or a text file with one path '
                         'per line)')
    if not listing.files:
        raise InputError(what)
    return listing


def _to_rgb(img):
    """PIL image of any mode -> (H, W, 3) uint8 RGB array."""
    if img.mode in ('I', 'I;16', 'I;16B', 'I;16L', 'I;16N', 'F'):
        arr = np.asarray(img, dtype=np.float64)
        top = float(arr.max()) if arr.size else 0.
        if img.mode == 'F' and top <= 1.:
            arr = arr * 255.
        elif top > 255:
            arr = arr * (255. / (65535. if top <= 65535 else top))
        gray = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if img.mode == 'P' and 'transparency' in img.info:
        img = img.convert('RGBA')
    return np.asarray(img.convert('RGB'))


#: start-of-frame markers of Huffman-coded JPEGs (baseline, extended,
#: progressive, lossless; differential too): at least one bit per 8x8
#: block of the first component in its scans
_HUFFMAN_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7}
_SOF = _HUFFMAN_SOF | {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_pixel_data_problem(data):
    """Why a JPEG file holds no (or far too little) pixel data, or None.

    libjpeg, and so PIL, decodes a JPEG whose headers are complete but
    whose entropy-coded data is missing or cut short (yet ends with the
    end-of-image marker) to a flat grey picture without an error; MaskCut
    would label that picture. Counted here from the markers: no scan data
    at all, or (Huffman coding) fewer bits than 8x8 blocks of the image.

    Args:
        data (bytes): the file's contents (a JPEG: starts with FFD8).

    Returns:
        str | None: the reason, None when the data looks complete (or the
        file cannot be parsed here: PIL decides then).
    """
    n, i = len(data), 2
    scan_bytes, blocks, huffman, scans = 0, None, True, 0
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None  # not a marker where one must be: leave it to PIL
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        length = (data[i + 2] << 8) | data[i + 3]
        if marker in _SOF and i + 9 <= n:
            h = (data[i + 5] << 8) | data[i + 6]
            w = (data[i + 7] << 8) | data[i + 8]
            blocks = -(-h // 8) * -(-w // 8)
            huffman = marker in _HUFFMAN_SOF
        i += 2 + length
        if marker == 0xDA:  # scan: entropy-coded data up to a marker
            scans += 1
            j = i
            while j + 1 < n:
                if data[j] == 0xFF and data[j + 1] != 0 and not (
                        0xD0 <= data[j + 1] <= 0xD7):
                    break
                j += 1
            scan_bytes += j - i
            i = j
    if scans == 0 or scan_bytes == 0:
        return 'JPEG headers without pixel data (empty scan)'
    if huffman and blocks and 8 * scan_bytes < blocks:
        return (f'JPEG pixel data cut short ({scan_bytes} bytes for '
                f'{blocks} 8x8 blocks)')
    return None


def load_image(path, min_size=16, exif_transpose=False):
    """Read an image as RGB.

    Args:
        path (str): image file.
        min_size (int): images whose shorter side is below this many
            pixels are skipped.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB, stored pixel order (EXIF
        orientation applied only with ``exif_transpose``).

    Raises:
        SkipImage: missing, unreadable, truncated or too small.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # PIL's EXIF/palette warnings
            with Image.open(path) as img:
                if img.format == 'JPEG':
                    with open(path, 'rb') as f:
                        empty = jpeg_pixel_data_problem(f.read())
                    if empty:
                        raise SkipImage('no pixel data', empty)
                img.load()
                if exif_transpose:
                    img = ImageOps.exif_transpose(img)
                rgb = _to_rgb(img)
    except FileNotFoundError:
        raise SkipImage('missing', 'file not found') from None
    except IsADirectoryError:
        raise SkipImage('unreadable', 'is a directory') from None
    except UnidentifiedImageError:
        raise SkipImage('unreadable', 'not an image PIL can decode') from None
    except Image.DecompressionBombError as err:
        raise SkipImage('too large', str(err).split('.')[0]) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        msg = str(err) or type(err).__name__
        kind = 'truncated' if 'truncated' in msg else 'unreadable'
        raise SkipImage(kind, f'decoding failed: {msg}') from None
    h, w = rgb.shape[:2]
    if min(h, w) < min_size:
        raise SkipImage(
            'too small', f'{w}x{h} pixels, the shorter side is '
            f'below {min_size}')
    return rgb
