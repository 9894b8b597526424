"""Finding the plate in an image that is itself a plate photograph, cut loosely (margins of
the car body around the plate), and the floors under which an image or a read holds no
plate. Pure geometry and numbers around the 256 px detector; no model of its own.

The 256 px detector learned plates in 480 x 360 scenes, where a plate covers 1-9% of the
frame (25-75 px wide at its input). Given a plate crop, its letterbox blows the plate up to
the whole 256 px, a size it never saw: in the 300 real crops (94 x 24) it found no plate in
162 and a box cutting into the characters in the rest, and in the same crops with margins it
found a box for about half, so the whole image, margins and all, was read as the plate
(crop 0003 with margins a quarter of its height: `沪AHS087`, 0.26). Laid, scaled, on a
canvas of the detector's size at `CANVAS_SHARE` of its width, the plate is back at a
scene's scale, and the detector finds it in every crop (docs/recognition.md has the
figures).
"""

from __future__ import annotations

import cv2
import numpy as np

# The crop's width on the canvas, a share of the canvas's: 0.3 puts a tight one-line plate at
# 77 px of the 256 (a close plate in the scenes), one with margins of its own height on each
# side at about 44 px. Chosen on crops of rendered scenes with margins of 0 to 1 times the
# plate's height (0.3, 0.45 and 0.6 tried: 0.3 read the most); the real crops only checked it.
CANVAS_SHARE = 0.3
CANVAS_GREY = 114  # the letterbox's grey, as the detector saw around scaled scenes

# The smallest image or box that can hold a readable plate: the real crops scaled down
# (INTER_AREA) read 75 of 100 exactly at 94 x 24, 11 at 40 x 10, 1 at 32 x 8 and none below;
# under this, what the OCR reads is invented (a 2 x 1 random image read `67R2222`).
MIN_PLATE_WIDTH = 32
MIN_PLATE_HEIGHT = 8

# A plate photograph's read (the best of the image whole and the detector's boxes in it) is
# no read under this plate confidence (the product of the slots' top probabilities): a 1080p
# frame shrunk to 240 x 135, taken for a plate, read `豫ZR2F22` at under 0.001 (and, with a
# box the canvas found in it, `12K2442` at 0.002). The lowest exact read of the 300 real
# crops, tight or with margins up to half their height, is 0.036 (docs/recognition.md).
MIN_CROP_CONFIDENCE = 0.01

# The detector's box, found on the canvas, trimmed by this share of its height on each side
# before the OCR reads it: on a loose crop the box takes in a little of the margin (IoU with
# the plate 0.7-0.85 on the real crops with margins). See `from_canvas`.
BOX_TRIM = 0.05

Box = tuple[int, int, int, int]


def big_enough(width: float, height: float) -> bool:
    """Whether a `width` x `height` image or box can hold a plate the OCR can read."""
    return width >= MIN_PLATE_WIDTH and height >= MIN_PLATE_HEIGHT


def on_canvas(image: np.ndarray, size: int) -> tuple[np.ndarray, float, int, int]:
    """`image` scaled to `CANVAS_SHARE` of a `size` x `size` grey canvas's width (and to at
    most half its height: a two-line plate), centred. -> (canvas, scale, left, top)."""
    height, width = image.shape[:2]
    scale = min(CANVAS_SHARE * size / width, 0.5 * size / height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas = np.full((size, size, 3), CANVAS_GREY, np.uint8)
    left, top = (size - w) // 2, (size - h) // 2
    canvas[top : top + h, left : left + w] = cv2.resize(image, (w, h), interpolation=interpolation)
    return canvas, scale, left, top


def from_canvas(
    box: tuple[float, float, float, float],
    scale: float,
    left: int,
    top: int,
    shape: tuple[int, ...],
) -> Box | None:
    """A box found on the canvas -> the image's pixels, trimmed by `BOX_TRIM` of its height
    on each side and clipped to the image; None when what is left is too small to hold a
    plate."""
    height, width = shape[:2]
    trim = BOX_TRIM * (box[3] - box[1]) / scale
    x1 = max(0, round((box[0] - left) / scale + trim))
    y1 = max(0, round((box[1] - top) / scale + trim))
    x2 = min(width, round((box[2] - left) / scale - trim))
    y2 = min(height, round((box[3] - top) / scale - trim))
    return (x1, y1, x2, y2) if big_enough(x2 - x1, y2 - y1) else None
