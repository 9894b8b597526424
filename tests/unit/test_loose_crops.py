"""Plate photographs cut loosely (margins of the car body around the plate), and images too
small or too unclear to hold a plate (`plate_recognition.crops`, `PlateRecognizer.read`).
Rendered scenes are cut here; the real crops of ../shared/real_plates are used when that
folder is there (skipped when not), to check, never to fit."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from plate_recognition.camera_frames import render_frame
from plate_recognition.crops import MIN_PLATE_HEIGHT, MIN_PLATE_WIDTH, from_canvas, on_canvas
from plate_recognition.images import READ_FORMATS
from plate_recognition.ocr_eval import real_plates_dir
from plate_recognition.pipeline import PlateRecognizer
from plate_recognition.scenes import iou, render_scene
from services.cli.main import _parser
from services.workers.recognizer import DecodedFrame, RecognizerWorker
from streams.frames import CameraFrameV1

LOOSE_SEEDS = range(900_540, 900_556)


@pytest.fixture(scope="module")
def recognizer() -> PlateRecognizer:
    return PlateRecognizer()


def _loose(seed: int, margin: float) -> tuple[np.ndarray, str, tuple[float, ...]]:
    """A rendered scene cut around its plate with `margin` times the plate's height of the
    scene on each side -> (crop, plate text, the plate's box in the crop)."""
    scene = render_scene(seed, cn_share=0.5)
    x1, y1, x2, y2 = scene.box
    m = margin * (y2 - y1)
    height, width = scene.image.shape[:2]
    left, top = max(0, round(x1 - m)), max(0, round(y1 - m))
    right, bottom = min(width, round(x2 + m)), min(height, round(y2 + m))
    crop = np.ascontiguousarray(scene.image[top:bottom, left:right])
    return crop, scene.plate.text, (x1 - left, y1 - top, x2 - left, y2 - top)


def test_a_plate_cut_with_margins_is_read_as_a_tight_one(recognizer: PlateRecognizer) -> None:
    """Found by cutting plates loosely: the 256 px detector, which learned plates covering
    1-9% of a scene, found no box in a crop that the plate fills, so the whole image, margins
    and all, was read as the plate (rendered plates with margins of half their height: 13 of
    80 exact; cut tightly, 79). The crop is now also laid on a canvas at a scene's scale."""
    exact = 0
    for seed in LOOSE_SEEDS:
        crop, text, plate = _loose(seed, 0.5)
        reads = recognizer.read(crop)
        assert len(reads) == 1, seed
        assert iou(reads[0].bbox, plate) >= 0.5, (seed, reads[0].bbox, plate)
        exact += reads[0].text == text
    assert exact >= 0.85 * len(LOOSE_SEEDS), f"exact {exact}/{len(LOOSE_SEEDS)}"


def test_the_canvas_puts_the_crop_at_a_scenes_scale_and_maps_boxes_back() -> None:
    crop = np.zeros((24, 94, 3), np.uint8)
    canvas, scale, left, top = on_canvas(crop, 256)
    assert canvas.shape == (256, 256, 3)
    assert round(94 * scale) == 77  # 0.3 of the canvas: a close plate in a scene
    box = (left, top, left + 94 * scale, top + 24 * scale)  # the whole crop, found
    assert from_canvas(box, scale, left, top, crop.shape) == (1, 1, 93, 23)  # trimmed
    tiny = (left, top, left + 20 * scale, top + 6 * scale)
    assert from_canvas(tiny, scale, left, top, crop.shape) is None  # no readable plate


def _real_crops() -> list[tuple[np.ndarray, str]]:
    root = real_plates_dir()
    if root is None:
        pytest.skip("no ../shared/real_plates on this machine")
    rows = [json.loads(line) for line in (root / "labels.jsonl").read_text("utf-8").splitlines()]
    crops = []
    for row in rows[::5]:
        image = cv2.imread(str(root / row["file"]))
        assert image is not None, row["file"]
        crops.append((image, str(row["text"])))
    return crops


def test_real_crops_with_margins_read_about_as_well_as_tight(
    recognizer: PlateRecognizer,
) -> None:
    """Every fifth real crop (60), as cut and with margins of the crop's mean colour a
    quarter of its height on each side (crop 0003, `沪AMS087`, read `沪AHS087` so). With
    margins 37 read exactly, four fifths of the 46 read tight until 2026-12-06; since then
    47 read tight (a sloped plate levelled, `rectify.level`, which the crops with margins
    do not reach), so the margins' figure is held where it was, not at four fifths of 47."""
    crops = _real_crops()
    tight = loose = 0
    for image, text in crops:
        m = round(image.shape[0] / 4)
        colour = [int(v) for v in image.reshape(-1, 3).mean(axis=0)]
        framed = cv2.copyMakeBorder(image, m, m, m, m, cv2.BORDER_CONSTANT, value=colour)
        tight += recognizer.read(image)[0].text == text
        found = recognizer.read(framed)
        loose += bool(found) and found[0].text == text
    assert tight >= 47, f"tight {tight}/{len(crops)}"
    assert loose >= 37, f"with margins {loose}/{len(crops)}, tight {tight}"


def test_an_image_too_small_to_hold_a_plate_is_no_plate(recognizer: PlateRecognizer) -> None:
    """Found by shrinking images: each was read as a plate the OCR invented, at a confidence
    under 0.001, and the worker published it (`67R2222`, `苏5D222挂`, `豫ZR2F22`)."""
    noise = np.random.default_rng(2).integers(0, 256, (1, 2, 3), dtype=np.uint8)
    assert recognizer.read(noise) == []
    crop, _, _ = _loose(LOOSE_SEEDS[0], 0.0)
    assert recognizer.read(cv2.resize(crop, (11, 3), interpolation=cv2.INTER_AREA)) == []
    small = (MIN_PLATE_WIDTH - 1, MIN_PLATE_HEIGHT)
    assert recognizer.read(cv2.resize(crop, small, interpolation=cv2.INTER_AREA)) == []
    frame = render_frame(1).image
    shrunk = cv2.resize(frame, (240, 135), interpolation=cv2.INTER_AREA)  # plate 11-31 px
    assert recognizer.read(shrunk) == []


def test_the_worker_publishes_nothing_for_an_image_too_small(
    recognizer: PlateRecognizer,
) -> None:
    worker = RecognizerWorker(recognizer=recognizer, producer=None, frames_dir=None)  # type: ignore[arg-type]
    frame = CameraFrameV1(
        frame_id="f-9",
        camera_id="hn-exp-gate-1",
        captured_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        jpeg_b64="AA==",
    )
    noise = np.random.default_rng(3).integers(0, 256, (3, 11, 3), dtype=np.uint8)
    assert worker.recognise(DecodedFrame(frame=frame, images=(noise,))) == []


def test_recognize_help_names_every_image_form_read() -> None:
    """`borderflow recognize --help` said "JPEG or PNG files"; it reads more."""
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    help_text = sub.choices["recognize"].format_help()
    assert READ_FORMATS in " ".join(help_text.split())
