"""Images as cameras and people send them: decoded within a bounded size, whatever the
container (plate_recognition.images)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from plate_recognition.errors import UnreadableImage
from plate_recognition.images import MAX_IMAGE_PIXELS, decode_image
from plate_recognition.pipeline import PlateRecognizer, has_contrast
from plate_recognition.scenes import render_scene


def _png_claiming(width: int, height: int, rows: int | None = None) -> bytes:
    """A valid grey PNG of width x height, all black: a few hundred bytes per 1,000 rows."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    pack = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = (
        b"".join(pack.compress(row) for _ in range(height if rows is None else rows)) + pack.flush()
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_small_file_claiming_a_huge_picture_is_refused_before_decoding() -> None:
    # 100,000 x 600 = 60 megapixels in about 60 KB; decoded it would be 180 MB of BGR.
    data = _png_claiming(100_000, 600)
    assert len(data) < 200_000
    with pytest.raises(UnreadableImage, match=r"too large to read: 100000 x 600 pixels"):
        decode_image(data)


def test_a_header_claiming_a_billion_pixels_is_refused_in_the_same_words() -> None:
    # The header alone (30,000 x 30,000); the 900 KB file of those pixels took 5.4 GB.
    data = _png_claiming(30_000, 30_000, rows=0)
    with pytest.raises(UnreadableImage, match=r"^too large to read: more than 50 megapixels$"):
        decode_image(data)


def test_a_picture_within_the_bound_decodes() -> None:
    assert MAX_IMAGE_PIXELS > 4000 * 600
    assert decode_image(_png_claiming(4000, 600)).shape == (600, 4000, 3)


def test_a_format_not_read_is_named_as_such() -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
    with pytest.raises(UnreadableImage, match=r"do not decode to an image \(JPEG, PNG"):
        decode_image(heic)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP"])
def test_the_same_pixels_decode_the_same_whatever_the_lossless_container(fmt: str) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (24, 94, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    assert np.array_equal(decode_image(out.getvalue())[:, :, ::-1], pixels)


@pytest.fixture(scope="module")
def recognizer() -> PlateRecognizer:
    return PlateRecognizer()


@pytest.mark.parametrize(
    ("width", "height", "bgr"),
    [
        (94, 24, (128, 128, 128)),
        (20, 10, (128, 128, 128)),
        (94, 24, (255, 255, 255)),
        (300, 100, (200, 60, 20)),
    ],
)
def test_a_blank_image_shaped_like_a_plate_reads_no_plate(
    recognizer: PlateRecognizer, width: int, height: int, bgr: tuple[int, int, int]
) -> None:
    blank = np.full((height, width, 3), bgr, dtype=np.uint8)
    assert recognizer.read(blank) == []


def test_a_plate_crop_of_low_contrast_is_still_read(recognizer: PlateRecognizer) -> None:
    scene = render_scene(900_003, clean=True)
    x1, y1, x2, y2 = (int(v) for v in scene.box)
    plate = scene.image[y1:y2, x1:x2]
    faint = (plate.astype(np.float32) * 0.25 + 96).astype(np.uint8)  # a quarter of the contrast
    assert has_contrast(faint)
    assert len(recognizer.read(faint)) == 1


@pytest.mark.parametrize(("width", "height"), [(5000, 1), (1, 5000), (1100, 1), (3000, 2)])
def test_an_image_a_line_high_reads_no_plate(
    recognizer: PlateRecognizer, width: int, height: int
) -> None:
    """It raised cv2.error (resize to 0 rows) out of 'borderflow recognize', a traceback
    and the images after it unread, and out of the worker's handler."""
    line = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    assert recognizer.read(line) == []
