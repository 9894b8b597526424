"""Encoded image bytes -> the BGR array the pipeline reads, within a bounded size.

The size is read from the file's header (Pillow opens lazily: no pixel is decoded) before
anything is decoded, so a small file that claims a huge picture (a PNG of 900 KB declaring
30,000 x 30,000 pixels took 5.4 GB to decode) is refused in a line instead.

A camera's or phone's JPEG (and an opaque PNG, WebP, BMP or TIFF) is decoded by OpenCV,
which applies its EXIF orientation. Pillow decodes the rest: an
image with transparency (composited on the mean colour of its opaque pixels: a transparent
margin read as black, and the plate's ground is not black), GIF and AVIF (their first
frame, EXIF orientation applied); and what OpenCV cannot decode, to say why (a file cut
short is refused as such).
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from plate_recognition.errors import UnreadableImage

# An 8K frame is 33 megapixels; 50 leaves room for any camera still while bounding the
# decode at about 150 MB of BGR pixels.
MAX_IMAGE_PIXELS = 50_000_000
READ_FORMATS = "JPEG, PNG, WebP, BMP, TIFF, GIF or AVIF"
# Pillow's names for them (MPO: a JPEG with a second picture, as many phones write)
_READ = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF", "AVIF"})
# OpenCV decodes these itself, EXIF orientation applied, when they have no transparency
_OPENCV = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


# How each format read begins: a file that begins so but does not open is that format damaged
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _not_an_image(data: bytes) -> UnreadableImage:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return UnreadableImage(
                f"the {len(data)} bytes of {what} are cut short or corrupt (its header)"
            )
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return UnreadableImage(
            f"the {len(data)} bytes of WebP are cut short or corrupt (its header)"
        )
    reason = f"the {len(data)} bytes do not decode to an image ({READ_FORMATS})"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        reason += ": HEIC/HEIF, a phone's photo format, is not read; send it as JPEG"
    return UnreadableImage(reason)


def _open(data: bytes) -> Image.Image:
    """The image's header, opened by Pillow (no pixel decoded), or UnreadableImage."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own bound, far above ours
        raise UnreadableImage(
            f"too large to read: more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _not_an_image(data) from exc
    if image.format not in _READ:
        image.close()
        raise UnreadableImage(f"a {image.format} image is not read ({READ_FORMATS})")
    return image


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header, or UnreadableImage when no format read holds it."""
    with _open(data) as image:
        return image.size


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def _on_mean_colour(rgba: np.ndarray) -> np.ndarray:
    """RGBA -> RGB, each pixel over the mean colour of the opaque ones (white if none); an
    image with no pixel seen through (a screenshot's RGBA) as it is, with no arithmetic."""
    if int(rgba[:, :, 3].min()) == 255:
        return np.ascontiguousarray(rgba[:, :, :3])
    alpha = rgba[:, :, 3:].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32)
    weight = float(alpha.sum())
    ground = (rgb * alpha).sum(axis=(0, 1)) / weight if weight else np.full(3, 255.0)
    return np.asarray((rgb * alpha + ground * (1.0 - alpha)).round(), dtype=np.uint8)


def _pixels(image: Image.Image) -> np.ndarray:
    """A Pillow image (first frame, upright) -> RGB uint8 array."""
    if image.mode.startswith("I;16") or image.mode == "I":  # 16-bit grey: its top 8 bits
        grey = np.asarray(image).astype(np.int64).clip(0, 65535) >> 8
        return np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2)
    if _has_alpha(image):
        return _on_mean_colour(np.asarray(image.convert("RGBA")))
    return np.asarray(image.convert("RGB"))


def _decode_with_pillow(image: Image.Image, size: int) -> np.ndarray:
    what = image.format
    try:
        image.seek(0)  # an animated GIF's first frame, a TIFF's first page
        image.load()
        rgb = _pixels(ImageOps.exif_transpose(image))
    except Exception as exc:  # any decoder failure on these bytes: refused with its words
        raise UnreadableImage(
            f"the {size} bytes of {what} are cut short or corrupt ({exc})"
        ) from exc
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def decode_image(data: bytes) -> np.ndarray:
    """Encoded image bytes (JPEG, PNG...) -> BGR array, upright, or UnreadableImage."""
    if not data:
        raise UnreadableImage("empty image (0 bytes)")
    with _open(data) as image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise UnreadableImage(
                f"too large to read: {width} x {height} pixels, more than "
                f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels"
            )
        if image.format in _OPENCV and not _has_alpha(image):
            bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
            if bgr is not None and bgr.size:
                return bgr
        return _decode_with_pillow(image, len(data))
