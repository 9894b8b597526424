"""The OCR's views of a crop (issue 25, `plate_recognition.views`): shapes, how the views'
probabilities combine, and that the run-time pipeline and the bench read the same views."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plate_recognition.pipeline import MODELS_DIR, PlateRecognizer
from plate_recognition.views import ONE_VIEW, VIEWS_FILE, Views, load_views, tempered


def _crops(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, size=(n, 48, 128), dtype=np.uint8)


def test_each_crop_has_its_views_together_at_its_size() -> None:
    views = Views((0.0, 0.05, -0.04), 0.8)
    crops = _crops(2)
    images = views.images(crops)
    assert images.shape == (6, 48, 128)
    assert np.array_equal(images[0], crops[0]) and np.array_equal(images[3], crops[1])
    assert not np.array_equal(images[1], crops[0])  # widened
    assert not np.array_equal(images[2], crops[0])  # narrowed


def test_the_views_mean_is_resharpened_by_the_temperature() -> None:
    seen: list[int] = []

    def run(images: np.ndarray) -> np.ndarray:
        seen.append(len(images))
        probs = np.full((len(images), 10, 69), 1 / 69)
        probs[:, :, 0] += np.arange(len(images))[:, None] * 0.01  # each view its own
        return probs / probs.sum(axis=-1, keepdims=True)

    views = Views((0.0, 0.05, -0.04), 0.8)
    out = views.read(run, _crops(2))
    assert seen == [6] and out.shape == (2, 10, 69)  # one batch for every view
    raw = run(views.images(_crops(2)))
    seen.clear()
    assert np.allclose(out[1], tempered(raw[3:6].mean(axis=0), 0.8))
    assert np.allclose(out.sum(axis=-1), 1.0)
    ONE_VIEW.read(run, _crops(2))
    assert seen == [2]  # one view: the crops as given, once


def test_a_model_without_fitted_views_reads_one_view(tmp_path: Path) -> None:
    assert load_views(tmp_path) == ONE_VIEW


def test_the_pipeline_reads_the_views_fitted_beside_its_model() -> None:
    fitted = load_views(MODELS_DIR)
    assert (MODELS_DIR / VIEWS_FILE).is_file()
    assert len(fitted.margins) == 3 and 0.0 in fitted.margins
    assert fitted.angles == (0.0, 5.0, -5.0) and fitted.count == 9
    recognizer = PlateRecognizer()
    assert recognizer.alpr.ocr.views == fitted


def test_each_margin_is_also_read_of_the_turned_crop() -> None:
    views = Views((0.0, 0.05), 0.8, (0.0, 5.0, -5.0))
    crops = _crops(2)
    images = views.images(crops)
    assert views.count == 6 and images.shape == (12, 48, 128)
    assert np.array_equal(images[0], crops[0]) and np.array_equal(images[6], crops[1])
    turned_left, turned_right = images[2], images[4]  # angle 5, then -5, each at margin 0
    assert not np.array_equal(turned_left, crops[0])
    assert not np.array_equal(turned_left, turned_right)
    # turning a plain level bar leaves it level only at 0 degrees: the views really turn
    bar = np.zeros((1, 48, 128), np.uint8)
    bar[0, 22:26, 10:118] = 255
    level, left, right = Views((0.0,), 1.0, (0.0, 5.0, -5.0)).images(bar)
    assert np.array_equal(level, bar[0])

    def row_at(image: np.ndarray, x: int) -> float:  # where the bar's column x is lit
        column = image[:, x].astype(np.float64)
        return float((column * np.arange(48)).sum() / column.sum())

    assert row_at(level, 110) == 23.5
    assert row_at(left, 110) < 21 and row_at(left, 18) > 26  # anticlockwise: right end up
    assert row_at(right, 110) > 26 and row_at(right, 18) < 21


def test_views_fitted_before_turns_were_added_read_unturned(tmp_path: Path) -> None:
    (tmp_path / VIEWS_FILE).write_text(
        '{"margins": [0.0, 0.05, -0.04], "temperature": 0.85}', encoding="utf-8"
    )
    assert load_views(tmp_path) == Views((0.0, 0.05, -0.04), 0.85, (0.0,))
