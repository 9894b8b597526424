"""A picture turned upside down with no orientation tag (a phone's photograph sent without
its EXIF, a camera mounted the other way up) was read as it came: a wrong plate, at a
confidence the worker published. Since 2026-12-06 a read under
`pipeline.UPSIDE_DOWN_BELOW` is also tried turned 180 degrees, and the more confident kept.
Rendered here: plate crops of the second renderer and one 1080p camera frame."""

from __future__ import annotations

import cv2
import pytest

from plate_recognition.camera_frames import render_frame
from plate_recognition.photo_crops import render_crop_bgr
from plate_recognition.pipeline import PlateRecognizer

CROP_SEEDS = (900_700, 900_701, 900_702, 900_703)
FRAME_SEED = 5_000_001


@pytest.fixture(scope="module")
def recognizer() -> PlateRecognizer:
    return PlateRecognizer()


@pytest.mark.parametrize("seed", CROP_SEEDS)
def test_a_plate_photograph_upside_down_reads_as_upright(
    recognizer: PlateRecognizer, seed: int
) -> None:
    crop, spec = render_crop_bgr(seed)
    (upright,) = recognizer.read(crop)
    (turned,) = recognizer.read(cv2.rotate(crop, cv2.ROTATE_180))
    assert upright.text == spec.text
    assert turned.text == spec.text


def test_a_camera_frame_upside_down_reads_its_plate(recognizer: PlateRecognizer) -> None:
    frame = render_frame(FRAME_SEED)
    turned = recognizer.read(cv2.rotate(frame.image, cv2.ROTATE_180))
    assert turned and turned[0].text == frame.plate.text
