"""Encoded image bytes -> the BGR array the pipeline reads, within a bounded size.

The size is read from the file's header (Pillow opens lazily: no pixel is decoded) before
OpenCV decodes anything, so a small file that claims a huge picture (a PNG of 900 KB
declaring 30,000 x 30,000 pixels took 5.4 GB to decode) is refused in a line instead.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from plate_recognition.errors import UnreadableImage

# An 8K frame is 33 megapixels; 50 leaves room for any camera still while bounding the
# decode at about 150 MB of BGR pixels.
MAX_IMAGE_PIXELS = 50_000_000
READ_FORMATS = "JPEG, PNG, WebP, BMP, TIFF or GIF"


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header, or UnreadableImage when no known format holds it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError as exc:  # Pillow's own bound, far above ours
        raise UnreadableImage(
            f"too large to read: more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(
            f"the {len(data)} bytes do not decode to an image ({READ_FORMATS})"
        ) from exc


def decode_image(data: bytes) -> np.ndarray:
    """Encoded image bytes (JPEG, PNG...) -> BGR array, or UnreadableImage."""
    if not data:
        raise UnreadableImage("empty image")
    width, height = image_size(data)
    if width * height > MAX_IMAGE_PIXELS:
        raise UnreadableImage(
            f"too large to read: {width} x {height} pixels, more than "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels"
        )
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise UnreadableImage(f"the {len(data)} bytes do not decode to an image")
    return image
