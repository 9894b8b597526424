"""A plate photographed from above and to the side (issue 25): its top and bottom edges
slope, its characters stay upright. `rectify.level` finds the edges of the plate's coloured
ground and warps the plate level before the OCR reads it; `PlateRecognizer` keeps the more
confident of the crop's read as cut and levelled. Plates rendered here and sloped by a known
perspective, so the edges' true corners are known."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
import pytest

from plate_recognition.pipeline import PlateRecognizer
from plate_recognition.plates import BLUE, PlateSpec, cn_plate, render_plate
from plate_recognition.rectify import level, plate_edges

BODY = (60, 90, 70)  # BGR: a dark green car body around the plate


def blue_plate(seed: int) -> tuple[np.ndarray, PlateSpec]:
    """The first blue one-line Chinese plate from `seed` on, drawn 48 px high (BGR)."""
    while True:
        rng = random.Random(seed)
        spec = cn_plate(rng)
        if spec.background == BLUE:
            return cv2.cvtColor(render_plate(spec, rng, height=48), cv2.COLOR_RGB2BGR), spec
        seed += 1


def sloped(
    plate: np.ndarray, degrees: float, taller: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """`plate` seen from above and to the side: its top and bottom edges slope `degrees`
    (down to the right), its right side `taller` taller, its sides upright; cut to its
    bounding box on a car body. -> (the crop, the plate's corners in it: top left, top
    right, bottom right, bottom left)."""
    h, w = plate.shape[:2]
    drop = math.tan(math.radians(degrees)) * w
    corners = np.float32([[0, 0], [w, drop], [w, drop + h * (1 + taller)], [0, h]])
    corners[:, 1] -= corners[:, 1].min()
    height = math.ceil(corners[:, 1].max())
    warp = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), corners)
    crop = np.full((height, w, 3), BODY, np.uint8)
    cv2.warpPerspective(plate, warp, (w, height), dst=crop, borderMode=cv2.BORDER_TRANSPARENT)
    return crop, corners


@pytest.mark.parametrize("seed", [0, 3, 7])
@pytest.mark.parametrize("degrees", [-10.0, 6.0, 10.0])
def test_a_sloped_plates_edges_are_found(seed: int, degrees: float) -> None:
    plate, _ = blue_plate(seed)
    crop, corners = sloped(plate, degrees)
    edges = plate_edges(crop)
    assert edges is not None
    # the slope is the mean of the two edges' (the right side is taller: the bottom slopes more)
    assert edges.degrees == pytest.approx(degrees, abs=1.0)
    assert np.abs(edges.corners(crop.shape[1]) - corners).max() <= 1.0


def test_a_level_plate_and_a_plate_less_image_are_read_as_cut() -> None:
    plate, _ = blue_plate(0)
    assert level(plate) is None
    assert level(sloped(plate, 1.5)[0]) is None
    assert level(np.full((24, 94, 3), 128, np.uint8)) is None


def test_a_levelled_plate_fills_the_crop() -> None:
    plate, _ = blue_plate(0)
    crop, _ = sloped(plate, 10.0)
    levelled = level(crop)
    assert levelled is not None and levelled.shape == crop.shape
    ground = cv2.inRange(cv2.cvtColor(levelled, cv2.COLOR_BGR2HSV), (95, 70, 40), (135, 255, 255))
    # the car body in the corners is gone: the plate's blue ground reaches every corner
    for rows, cols in ((slice(0, 6), slice(0, 10)), (slice(-6, None), slice(-10, None))):
        assert ground[rows, cols].mean() > 128


@pytest.fixture(scope="module")
def recognizer() -> PlateRecognizer:
    return PlateRecognizer()


def test_a_plate_sloped_10_degrees_is_read_levelled(recognizer: PlateRecognizer) -> None:
    """Of 39 blue plates (seeds 0..119) sloped 10 degrees and cut 94 px wide, as the real
    crops are, this one read `甘JFWMM5` as cut (a character dropped where the slope brings
    it down); levelled, every one of the 39 reads exactly."""
    plate, spec = blue_plate(50)
    crop, _ = sloped(plate, 10.0)
    crop = cv2.resize(
        crop, (94, round(crop.shape[0] * 94 / crop.shape[1])), interpolation=cv2.INTER_AREA
    )
    (read,) = recognizer.read(crop)
    assert read.text == spec.text == "甘JFWM5L"
